"""A corpus of bad input, built here in code: every good record indexed, every bad one
rejected with its reason code, the counts adding up, nothing crashing."""

from __future__ import annotations

import codecs
import gzip
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from search.dedup import article_id
from search.indexer import IndexSummary, index_paths
from search.models import Origin, RawRecord, Reject
from search.pipeline import MAX_BODY_CHARS, MAX_HEADLINE_CHARS
from search.readers import read_file
from search.searcher import ArticleIndex, SearchRequest

BODY = "Crane operators at the harbour stopped work on Tuesday over pay and hours."
FIFTY_MB = 50 * 1024 * 1024


def line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def path_id(path: Path) -> str:
    """The id of a record with no id or URL of its own: its file (and position)."""
    return article_id(RawRecord(Origin(str(path)), "headline", "body"))


def build(folder: Path) -> tuple[set[str], Counter[tuple[str, int | None, int | None, str]]]:
    """Write the corpus; return the ids that must be indexed and the rejects expected,
    as (file name, line, row, code)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    good: set[str] = set()
    bad: Counter[tuple[str, int | None, int | None, str]] = Counter()

    def file_reject(name: str, code: str) -> None:
        bad[(name, None, None, code)] += 1

    # Whole files that are not articles.
    (folder / "empty.txt").write_bytes(b"")
    file_reject("empty.txt", "empty")
    (folder / "blank.jsonl").write_bytes(b"\n  \n\t\n")
    file_reject("blank.jsonl", "empty")
    (folder / "binary.txt").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(4000)
    )
    file_reject("binary.txt", "not_text")
    no_nul = bytes(rng.randrange(1, 256) for _ in range(4000))  # binary without a NUL
    (folder / "binary.json").write_bytes(no_nul)
    file_reject("binary.json", "not_text")
    (folder / "cut.jsonl.gz").write_bytes(
        gzip.compress(line(id="gz", text=BODY).encode() * 400)[:200]
    )
    file_reject("cut.jsonl.gz", "malformed")
    (folder / "no-body.html").write_text("<html><head><title>Only a title</title></head></html>")
    file_reject("no-body.html", "no_article_text")
    (folder / "empty-body.htm").write_text("<html><head></head><body>  </body></html>")
    file_reject("empty-body.htm", "no_article_text")
    (folder / "deep.json").write_text("[" * 50_000 + "]" * 50_000)
    file_reject("deep.json", "malformed")

    # Text in encodings other than UTF-8, and UTF-8 that is not quite.
    text_files = {
        "invalid-utf8.txt": b"Harbour cranes idle\n\nCrane operators \xff\xfe\xc3( stopped work.\n",
        "cp1252.txt": "Date: 2024-03-05\n\nLe café de l’été\n\nLes élèves ont visité la "
        "région côtière près de Sète cet été, a dit «Marie».\n".encode("cp1252"),
        "latin1.txt": "Müller äußert sich\n\nÜber die Größe der Straße in München "
        "wurde lange gestritten.\n".encode("latin-1"),
        "utf16.txt": "Ferry service resumes\n\nThe ferry sailed again today.\n".encode("utf-16"),
        "crlf.txt": b"Windows line ends\r\n\r\nA body\r\nwith CRLF\x0cand a form feed.\r\n",
        "control.txt": b"Bell\x07 and \x1b[31mescape\x1b[0m\n\nBody with\x08 controls\x7f.\n",
    }
    for name, data in text_files.items():
        (folder / name).write_bytes(data)
        good.add(path_id(folder / name))
    # 50 MB on one line: read as a body, cut to MAX_BODY_CHARS.
    words = "cargo harbour strike wages ferry dockers union port "
    with (folder / "huge-line.txt").open("w", encoding="ascii") as out:
        out.write(words * (FIFTY_MB // len(words)))
    good.add(path_id(folder / "huge-line.txt"))

    # JSON Lines: good records among broken ones.
    feed = [
        line(id="b-1", title="Harbour strike ends", text=BODY),  # 1
        "{broken",  # 2
        "[1, 2]",  # 3
        '"just a string"',  # 4
        "null",  # 5
        "[" * 100_000 + "]" * 100_000,  # 6: too deep for Python's JSON reader
        '{"id": ' + "1" * 5000 + ', "title": "x"}',  # 7: an integer Python refuses to read
        line(id="b-blank", title="", text=""),  # 8
        '{"id": "b-sur", "title": "Half a pair \\ud800 here", "text": "Body \\udfff too."}',  # 9
        '{"id": "b-nan", "title": NaN, "text": "A body after a NaN headline."}',  # 10
        line(id="b-ctl", title="Bell\u0007 title\u0000", text="Esc\u001b[31m red\u001b[0m body."),
        line(id="b-rtl", title="عنوان الخبر", text="هذا نص عربي عن الاقتصاد والسياسة في المنطقة."),
        line(id="b-heb", title="\u202eכותרת\u202c החדשות", text="\u200fזהו טקסט בעברית על הנמל."),
        line(
            id="b-emoji", title="🚀 Launch day 👩‍🚀", text="The rocket 🚀 flew; crowds cheered 🎉."
        ),
        line(id="b-huge", title="headline " * 20_000, text="A body under a huge headline."),
        line(id="b-nodate", title="No date", text="An article without any date."),
        line(id="b-bad-date", title="Bad date", text="Dated nonsense.", date="9999-99-99"),
        line(id="b-ancient", title="Ancient", text="Dated too early.", date="0001-01-01"),
        line(id="b-future", title="Future", text="Dated too late.", date="2999-01-01"),
        line(id="b-bigts", title="Big stamp", text="A huge timestamp.", date=99999999999999999999),
        line(id="b-1", title="Harbour strike ends", text="Other words under the same id."),  # 21
        line(id="b-2", title="Same story twice", text="Told the same way twice."),
        line(id="b-2", title="Same story twice", text="Told the same way twice."),  # duplicate
    ]
    (folder / "feed.jsonl").write_text("\n".join(feed) + "\n", encoding="utf-8")
    for number in (2, 3, 4, 5, 6, 7):
        bad[("feed.jsonl", number, None, "malformed")] += 1
    bad[("feed.jsonl", 8, None, "empty")] += 1
    bad[("feed.jsonl", None, None, "duplicate_id")] += 1  # the reject names the article
    good |= {"b-1", "b-2", "b-sur", "b-nan", "b-ctl", "b-rtl", "b-heb", "b-emoji", "b-huge"}
    good |= {"b-nodate", "b-bad-date", "b-ancient", "b-future", "b-bigts"}

    # A JSON array with things that are not objects in it.
    (folder / "array.json").write_text(
        json.dumps([{"id": "a-1", "text": BODY + " Array."}, 5, None])
    )
    good.add("a-1")
    bad[("array.json", None, 2, "malformed")] += 1
    bad[("array.json", None, 3, "malformed")] += 1

    # CSV: ragged rows, quoted newlines, a bad quote, a quote never closed.
    (folder / "table.csv").write_text(
        "id,title,text\n"
        "c-1,Good row,A plain body.\n"  # row 1
        "c-2,Short row\n"  # row 2: fewer fields than the header is fine
        "c-3,Long row,body,extra,fields\n"  # row 3
        'c-4,"Title with\na newline","Body with\n\nparagraphs, and ""quotes"" too."\n'  # row 4
        'c-5,"bad"quote,body\n'  # row 5
        "c-6,After the bad row,Still read.\n"  # row 6
        'c-7,"never closed,the rest of the file\nc-8,swallowed,by it\n',  # row 7
        encoding="utf-8",
    )
    good |= {"c-1", "c-2", "c-4", "c-6"}
    for row in (3, 5, 7):
        bad[("table.csv", None, row, "malformed")] += 1
    return good, bad


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, IndexSummary, set, Counter]:
    folder = tmp_path_factory.mktemp("bad-input")
    good, bad = build(folder / "in")
    summary = index_paths([folder / "in"], folder / "ix", entities=False)
    return folder / "in", folder / "ix", summary, good, bad


def reject_keys(index_dir: Path) -> Counter[tuple[str, int | None, int | None, str]]:
    rejects = [json.loads(text) for text in (index_dir / "rejects.jsonl").read_text().splitlines()]
    assert all(r["reason"] for r in rejects)
    keys: Counter[tuple[str, int | None, int | None, str]] = Counter()
    for r in rejects:
        name = Path(r["path"]).name
        if r["code"] == "duplicate_id":  # named by the article's "file:line"
            name = name.split(":")[0]
        keys[(name, r["line"], r["row"], r["code"])] += 1
    return keys


def test_every_bad_record_is_rejected_with_its_reason(indexed):
    _, index_dir, _, _, bad = indexed
    assert reject_keys(index_dir) == bad


def test_every_good_record_is_indexed_and_nothing_else(indexed):
    _, index_dir, _, good, _ = indexed
    ids = [
        hit["id"]
        for hit in ArticleIndex(index_dir).search(SearchRequest(per_page=100, collapse=False))[
            "results"
        ]
    ]
    assert sorted(ids) == sorted(good)


def test_the_counts_add_up(indexed):
    _, _, summary, good, bad = indexed
    assert (
        summary.read == summary.indexed + summary.unchanged + summary.duplicates + summary.rejected
    )
    assert summary.indexed == len(good)
    assert summary.duplicates == 1  # b-2 twice with the same text
    assert summary.rejected == sum(bad.values())
    by_code: Counter[str] = Counter()
    for (_, _, _, code), count in bad.items():
        by_code[code] += count
    assert summary.rejected_by_code == by_code


def test_a_second_run_indexes_nothing_and_rejects_the_same(indexed):
    source, index_dir, first, _, bad = indexed
    again = index_paths([source], index_dir, entities=False)
    assert (again.indexed, again.rejected, again.read) == (0, first.rejected, first.read)
    assert reject_keys(index_dir) == bad


def test_text_survives_its_encoding(indexed):
    source, index_dir, _, _, _ = indexed
    articles = ArticleIndex(index_dir)
    cp1252 = articles.article(path_id(source / "cp1252.txt"))
    assert cp1252["headline"] == "Le café de l’été"
    assert "«Marie»" in cp1252["body"]
    assert articles.article(path_id(source / "latin1.txt"))["headline"] == "Müller äußert sich"
    assert articles.article(path_id(source / "utf16.txt"))["headline"] == "Ferry service resumes"
    assert "stopped work" in articles.article(path_id(source / "invalid-utf8.txt"))["body"]


def test_control_and_bidi_override_characters_are_removed(indexed):
    source, index_dir, _, _, _ = indexed
    articles = ArticleIndex(index_dir)
    stored = [
        articles.article(i) for i in ("b-ctl", "b-heb", "b-sur", path_id(source / "control.txt"))
    ]
    for article in stored:
        text = article["headline"] + article["body"]
        assert not any(ord(c) < 32 and c != "\n" for c in text), text
        assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e"), text
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), text
    assert "\u200f" in articles.article("b-heb")["body"]  # the right-to-left mark RTL text needs


def test_right_to_left_text_and_emoji_are_searchable(indexed):
    _, index_dir, _, _, _ = indexed
    articles = ArticleIndex(index_dir)
    assert articles.article("b-rtl")["lang"] == "ar"
    assert [h["id"] for h in articles.search(SearchRequest(q="الاقتصاد"))["results"]] == ["b-rtl"]
    assert [h["id"] for h in articles.search(SearchRequest(q="rocket"))["results"]] == ["b-emoji"]
    assert "🚀" in articles.article("b-emoji")["headline"]


def test_huge_headlines_and_bodies_are_cut_with_a_warning(indexed):
    source, index_dir, _, _, _ = indexed
    articles = ArticleIndex(index_dir)
    huge = articles.article("b-huge")
    assert len(huge["headline"]) <= MAX_HEADLINE_CHARS + 1
    assert huge["headline"].endswith("…")
    assert any("headline cut" in w for w in huge["warnings"])
    line_file = articles.article(path_id(source / "huge-line.txt"))
    assert MAX_BODY_CHARS * 0.9 < len(line_file["body"]) <= MAX_BODY_CHARS
    assert any("body cut" in w for w in line_file["warnings"])
    assert len(line_file["headline"]) <= 200


def test_missing_and_absurd_dates_leave_articles_undated(indexed):
    _, index_dir, _, _, _ = indexed
    articles = ArticleIndex(index_dir)
    for undated in ("b-nodate", "b-bad-date", "b-ancient", "b-future", "b-bigts"):
        assert articles.article(undated)["date"] is None, undated
    assert any("implausible" in w for w in articles.article("b-future")["warnings"])
    assert any("could not be read" in w for w in articles.article("b-bad-date")["warnings"])


def test_csv_rows_after_a_bad_one_are_still_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,title,text\n1,"bad"x,y\n2,Fine,Row\n3,"open,z\n4,a,b\n')
    items = list(read_file(path))
    assert [type(item).__name__ for item in items] == ["Reject", "RawRecord", "Reject"]
    assert items[1].record_id == "2"
    assert isinstance(items[2], Reject) and "unexpected end of data" in items[2].reason


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_unicode_with_a_byte_order_mark_is_text(tmp_path, encoding):
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[encoding]
    path = tmp_path / "a.txt"
    path.write_bytes(bom + "Headline\n\nBody text.".encode(encoding))
    [record] = read_file(path)
    assert isinstance(record, RawRecord)
    assert (record.headline, record.body) == ("Headline", "Body text.")

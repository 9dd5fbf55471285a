import gzip
import json
from pathlib import Path

import pytest

from search.errors import InputMissing
from search.models import RawRecord, Reject
from search.readers import decode, iter_files, read_file, read_paths


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def only_record(path: Path) -> RawRecord:
    [record] = list(read_file(path))
    assert isinstance(record, RawRecord)
    return record


def test_text_file_with_metadata_block(tmp_path):
    record = only_record(
        write(
            tmp_path / "a.txt",
            "Date: 2024-03-05\nSource: Harbour Gazette\nURL: https://example.org/a\n"
            "Author: Ana Ruiz\n\nCouncil approves harbour plan\n\nFirst paragraph.\n\nSecond.",
        )
    )
    assert record.headline == "Council approves harbour plan"
    assert record.body == "First paragraph.\n\nSecond."
    assert (record.date, record.source, record.url, record.author) == (
        "2024-03-05",
        "Harbour Gazette",
        "https://example.org/a",
        "Ana Ruiz",
    )


def test_text_file_without_metadata_keeps_colon_headline(tmp_path):
    record = only_record(write(tmp_path / "b.txt", "\n\nUpdate: storm moves east\nRain today."))
    assert record.headline == "Update: storm moves east"
    assert record.body == "Rain today."
    assert record.date is None


def test_cp1252_text_is_detected_not_mangled(tmp_path):
    text = "Le café de l’été\n\nLes élèves ont visité la région côtière près de Sète cet été."
    record = only_record(write(tmp_path / "c.txt", text, encoding="cp1252"))
    assert record.headline == "Le café de l’été"
    assert "élèves" in record.body


def test_json_lines_map_field_names_and_reject_bad_lines(tmp_path):
    lines = [
        json.dumps({"title": "One", "text": "Body one", "published": "2024-01-02", "link": "u1"}),
        "{not json",
        json.dumps(
            {
                "headline": "Two",
                "body": "Body two",
                "publisher": {"name": "Wire"},
                "authors": ["A", "B"],
                "id": 7,
            }
        ),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "empty"}),
    ]
    items = list(read_file(write(tmp_path / "feed.jsonl", "\n".join(lines))))
    assert [type(item).__name__ for item in items] == [
        "RawRecord",
        "Reject",
        "RawRecord",
        "Reject",
        "Reject",
    ]
    first, bad, second, array, empty = items
    assert (first.headline, first.body, first.date, first.url) == (
        "One",
        "Body one",
        "2024-01-02",
        "u1",
    )
    assert (second.source, second.author, second.record_id) == ("Wire", "A, B", "7")
    assert bad.origin.line == 2 and "malformed JSON" in bad.reason
    assert array.origin.line == 4 and "expected an object" in array.reason
    assert empty.reason == "no headline and no body text"


def test_json_array_records_have_rows(tmp_path):
    data = [
        {"headline": "A", "articleBody": "x", "datePublished": "2024-01-01"},
        {"headline": "B", "articleBody": "y"},
    ]
    items = list(read_file(write(tmp_path / "a.json", json.dumps(data))))
    assert [(i.headline, i.origin.row) for i in items] == [("A", 1), ("B", 2)]


def test_csv_with_quoted_newlines_and_ragged_rows(tmp_path):
    text = (
        'id,title,content,pubDate\n1,First,"Line one,\nline two",2024-02-03\n2,Second,x,y,extra\n'
    )
    items = list(read_file(write(tmp_path / "a.csv", text)))
    assert isinstance(items[0], RawRecord) and items[0].body == "Line one,\nline two"
    assert isinstance(items[1], Reject) and items[1].origin.row == 2


def test_tsv(tmp_path):
    [record] = read_file(write(tmp_path / "a.tsv", "title\tbody\tdate\nT\tB b\t2024-01-01\n"))
    assert (record.headline, record.body, record.date) == ("T", "B b", "2024-01-01")


def test_gzipped_jsonl_and_truncated_gzip(tmp_path):
    good = tmp_path / "a.jsonl.gz"
    good.write_bytes(gzip.compress(b'{"title": "Zipped", "text": "Inside"}\n'))
    assert only_record(good).headline == "Zipped"
    bad = tmp_path / "b.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"title": "x", "text": "y"}\n' * 50)[:30])
    [reject] = read_file(bad)
    assert isinstance(reject, Reject) and reject.reason.startswith("cannot read file")


def test_html_page_main_text_and_metadata(tmp_path):
    page = """<html><head><title>Port strike ends | Gazette</title>
    <meta name="author" content="Jo Bloggs">
    <meta property="article:published_time" content="2024-04-02T08:00:00Z"></head>
    <body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
    <article><h1>Port strike ends after nine days</h1>
    <p>Dock workers at the port returned to work on Tuesday after union leaders accepted
    a revised pay offer from the operators, ending a nine-day strike.</p>
    <p>The stoppage had left more than forty ships waiting at anchor outside the harbour,
    according to the port authority, which said operations would be normal by Friday.</p>
    </article><footer>Copyright 2024 Gazette. All rights reserved.</footer></body></html>"""
    record = only_record(write(tmp_path / "p.html", page))
    assert record.headline == "Port strike ends after nine days"
    assert record.body.startswith("Dock workers at the port")
    assert "Copyright" not in record.body and "Home" not in record.body
    assert record.date == "2024-04-02"
    assert record.author == "Jo Bloggs"


def test_bad_files_become_rejects(tmp_path):
    write(tmp_path / "empty.txt", "   \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    write(tmp_path / "notes.md", "# not an article")
    write(tmp_path / "no-article.html", "<html><body></body></html>")
    reasons = {Path(r.origin.path).name: r.reason for r in read_paths([tmp_path])}
    assert reasons == {
        "binary.txt": "binary or undecodable content",
        "empty.txt": "empty file",
        "no-article.html": "no article text found in the HTML page",
        "notes.md": "unsupported file type '.md'",
    }


def test_folders_are_read_recursively_in_order_and_hidden_files_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    write(tmp_path / "b" / "2.txt", "H2\nB")
    write(tmp_path / "1.txt", "H1\nB")
    write(tmp_path / ".hidden.txt", "H\nB")
    assert [p.name for p in iter_files([tmp_path])] == ["1.txt", "2.txt"]


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(InputMissing, match="No such file or folder"):
        list(iter_files([tmp_path / "nope"]))


def test_decode_prefers_utf8_and_refuses_binary():
    assert decode("naïve".encode()) == "naïve"
    assert decode(b"\x00\x00\x00") is None


def test_json_lines_are_streamed_line_by_line_with_a_late_odd_line_decoded(tmp_path):
    good = '{"title": "Quay", "text": "Line\u2028separator inside a string"}\n'
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        good.encode() * 3
        + '{"title": "Café", "text": "Élèves"}\n'.encode("cp1252")  # one cp1252 line
        + b"\n"
        + b"{broken\n"
    )
    records = list(read_file(path))
    assert [r.origin.line for r in records] == [1, 2, 3, 4, 6]
    assert records[0].body == "Line\u2028separator inside a string"  # one record, not two
    assert (records[3].headline, records[3].body) == ("Café", "Élèves")
    assert isinstance(records[4], Reject) and records[4].code == "malformed"


def test_a_gzip_cut_short_keeps_the_lines_before_the_cut(tmp_path):
    lines = b"".join(
        b'{"id": "n%d", "title": "T%d", "text": "Body %d"}\n' % (n, n, n) for n in range(3000)
    )
    path = tmp_path / "cut.jsonl.gz"
    packed = gzip.compress(lines)
    path.write_bytes(packed[: len(packed) // 2])
    *records, reject = list(read_file(path))
    assert 0 < len(records) < 3000
    assert [r.record_id for r in records] == [f"n{n}" for n in range(len(records))]
    assert isinstance(reject, Reject) and reject.code == "malformed"
    assert reject.reason.startswith(f"cannot read file after line {len(records)}:")

"""Integration: all of Reuters-21578 and the BBC corpus, indexed together into one index.

One module-scoped fixture converts Reuters-21578 (SGML) to JSON lines with
scripts/import_reuters21578.py, then indexes that file plus the BBC folder with
two workers and entities on. Every test below reads that one index; the re-run
test comes last because it commits a new (unchanged) generation.

Run with ``-s`` to see the numbers that go into the team's notes: the summary
line, indexing time and rate, reject reasons, duplicate counts and search
latency. Timings are printed, never asserted.
"""

from __future__ import annotations

import importlib.util
import json
import re
import resource
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pytest

from search.dedup import article_id
from search.errors import NotFound
from search.indexer import IndexSummary, index_paths
from search.models import Origin, RawRecord
from search.searcher import ArticleIndex, SearchRequest
from tests.conftest import REPO, shared_data

pytestmark = pytest.mark.integration

IMPORTER = REPO / "scripts" / "import_reuters21578.py"
REUTERS_DOCUMENTS = 21_578
BBC_CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")
BBC_ARTICLES = 2_225  # PROVENANCE.md: 510 + 386 + 417 + 511 + 401
# The only other file in the BBC folder. Its suffix ".TXT" reads as ".txt", so it is
# read and indexed like an article (its first line becomes the headline).
BBC_README = "README.TXT"
# reuters-12793 is TYPE="UNPROC" with an empty TEXT: nothing to index.
EMPTY_REUTERS = "reuters-12793"
# Exact duplicates (same headline and body up to case and whitespace), counted
# independently below; pinned so that a change in dedup shows up as a number.
REUTERS_DUPLICATES = 315
# 98 byte-identical pairs (PROVENANCE.md) + 3 sport pairs that differ only in where
# a paragraph break falls: 181/182, 332/344, 432/438.
BBC_DUPLICATES = 101
RERUN_REUTERS_FILE = "reut2-000.sgm"  # reuters-1 .. reuters-1000
RERUN_BBC_CATEGORY = "entertainment"
SPACES = re.compile(r"\s+")


def load_importer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_reuters21578", IMPORTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(title: str, *lines: str) -> None:
    """Numbers for the closing note, visible with ``pytest -s``."""
    print(f"\n[integration] {title}")
    for line in lines:
        print(f"    {line}")


def normalised(text: str) -> str:
    return SPACES.sub(" ", text).strip().casefold()


def decode_bbc(data: bytes) -> str:
    """UTF-8, except sport/199.txt which is cp1252 (PROVENANCE.md)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def bbc_id(path: Path) -> str:
    """The id the indexer gives a BBC file (no id or URL in it: from its path)."""
    return article_id(RawRecord(origin=Origin(str(path)), headline="", body=""))


@dataclass
class Built:
    index_dir: Path
    reuters_src: Path
    reuters_jsonl: Path
    bbc_dir: Path
    summary: IndexSummary
    seconds: float
    reuters: dict[str, dict]  # id -> converted document, in file order
    bbc_files: list[Path]  # every file the indexer reads under bbc_dir, in its order


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    reuters_src = shared_data("reuters21578")
    bbc_dir = shared_data("bbc") / "bbc"
    work = tmp_path_factory.mktemp("integration")
    reuters_jsonl = work / "reuters.jsonl"

    started = time.perf_counter()
    converted = load_importer().convert(reuters_src, reuters_jsonl)
    convert_seconds = time.perf_counter() - started
    assert converted == REUTERS_DOCUMENTS

    self_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Semantic vectors off: on this 24k-article build they would add some 25 minutes of CI.
    # The ranking they give is gated on TIME (test_quality_relevance.py), and
    # eval_relevance.py --set reuters measures it on Reuters-21578.
    summary = index_paths(
        [reuters_jsonl, bbc_dir], work / "index", workers=2, entities=True, semantic=False
    )
    seconds = time.perf_counter() - started
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    main_cpu = cpu(self_before, self_after)
    workers_cpu = cpu(children_before, children_after)
    report(
        "full index: Reuters-21578 (JSONL) + BBC, workers=2, entities on, semantic vectors off",
        f"convert: {converted} documents in {convert_seconds:.1f} s",
        f"summary: {summary.line()}",
        f"elapsed: {seconds:.1f} s (summary.seconds {summary.seconds:.1f})",
        f"rate: {summary.read / seconds:.1f} records/s read, "
        f"{summary.indexed / seconds:.1f} articles/s indexed",
        f"cpu: main process {main_cpu:.0f} s, worker processes {workers_cpu:.0f} s "
        f"(2 cores x {seconds:.0f} s wall = {2 * seconds:.0f} core-s available)",
    )
    reuters = {}
    with reuters_jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            document = json.loads(line)
            reuters[document["id"]] = document
    bbc_files = sorted(
        p
        for p in bbc_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(bbc_dir).parts)
    )
    return Built(
        index_dir=work / "index",
        reuters_src=reuters_src,
        reuters_jsonl=reuters_jsonl,
        bbc_dir=bbc_dir,
        summary=summary,
        seconds=seconds,
        reuters=reuters,
        bbc_files=bbc_files,
    )


@pytest.fixture(scope="module")
def ix(built: Built) -> ArticleIndex:
    return ArticleIndex(built.index_dir)


def exists(ix: ArticleIndex, article: str) -> bool:
    try:
        ix.article(article)
    except NotFound:
        return False
    return True


def bbc_article_files(built: Built) -> list[Path]:
    return [p for p in built.bbc_files if p.parent.name in BBC_CATEGORIES]


# --- every record accounted for -----------------------------------------------------------


def test_bbc_folder_holds_the_documented_files(built: Built) -> None:
    articles = bbc_article_files(built)
    assert len(articles) == BBC_ARTICLES
    assert all(p.suffix == ".txt" for p in articles)
    others = [p.relative_to(built.bbc_dir).as_posix() for p in built.bbc_files if p not in articles]
    assert others == [BBC_README]


def test_every_record_is_accounted_for(built: Built) -> None:
    summary = built.summary
    assert (
        summary.read == summary.indexed + summary.unchanged + summary.duplicates + summary.rejected
    )
    assert summary.read == REUTERS_DOCUMENTS + len(built.bbc_files)  # 21,578 + 2,225 + README
    assert summary.read == 23_804
    assert summary.unchanged == 0
    assert summary.rejected == 1
    assert summary.duplicates == REUTERS_DUPLICATES + BBC_DUPLICATES
    assert summary.indexed == 23_804 - 1 - 416


def test_rejects_have_a_path_and_a_reason(built: Built) -> None:
    path = built.summary.rejects_path
    assert path == built.index_dir / "rejects.jsonl"
    rejects = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rejects) == built.summary.rejected
    for reject in rejects:
        assert reject["path"] and reject["reason"], reject
    reasons = Counter((reject.get("code", "-"), reject["reason"]) for reject in rejects)
    report(
        "rejects by reason",
        *(f"{count:>6}  {code}: {reason}" for (code, reason), count in reasons.most_common()),
    )
    # The one empty Reuters story, by its line in the JSONL (line n holds reuters-n).
    (reject,) = rejects
    assert reject["path"] == str(built.reuters_jsonl)
    assert reject["line"] == int(EMPTY_REUTERS.split("-")[1])
    assert reject["reason"] == "no headline and no body text"
    assert reject.get("code", "empty") == "empty"
    empty = built.reuters[EMPTY_REUTERS]
    assert empty["headline"] == "" and empty["body"] == ""


def test_index_count_equals_indexed(built: Built, ix: ArticleIndex) -> None:
    assert ix.count() == built.summary.indexed
    assert ix.search(SearchRequest(q=""))["total"] == built.summary.indexed


# --- duplicates --------------------------------------------------------------------------


def duplicate_groups(built: Built) -> tuple[list[list[str]], list[list[Path]]]:
    """Records with the same headline and body (up to case and whitespace), first one first.

    Computed from the raw inputs, independently of the library's cleaning and hashing.
    """
    reuters: dict[tuple[str, str], list[str]] = defaultdict(list)
    for document in built.reuters.values():
        key = (normalised(document["headline"]), normalised(document["body"]))
        if any(key):
            reuters[key].append(document["id"])
    bbc: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in built.bbc_files:
        headline, _, body = decode_bbc(path.read_bytes()).partition("\n")
        bbc[(normalised(headline), normalised(body))].append(path)
    return (
        [ids for ids in reuters.values() if len(ids) > 1],
        [paths for paths in bbc.values() if len(paths) > 1],
    )


def test_duplicates_are_the_identical_stories(built: Built, ix: ArticleIndex) -> None:
    reuters_groups, bbc_groups = duplicate_groups(built)
    reuters_extra = sum(len(group) - 1 for group in reuters_groups)
    bbc_extra = sum(len(group) - 1 for group in bbc_groups)
    byte_identical = sum(len(group) - len({p.read_bytes() for p in group}) for group in bbc_groups)
    report(
        "duplicates (same headline + body up to case and whitespace)",
        f"Reuters: {reuters_extra} extra copies in {len(reuters_groups)} groups "
        f"(largest {max(map(len, reuters_groups))})",
        f"BBC: {bbc_extra} extra copies in {len(bbc_groups)} groups, "
        f"{byte_identical} of them byte-identical",
        f"index_paths counted {built.summary.duplicates}",
    )
    assert reuters_extra == REUTERS_DUPLICATES
    assert bbc_extra == BBC_DUPLICATES
    assert byte_identical == 98  # PROVENANCE.md's 98 byte-identical pairs
    assert reuters_extra + bbc_extra == built.summary.duplicates
    # The first copy of each story is indexed, later copies are not.
    for group in reuters_groups:
        assert exists(ix, group[0]), group
        assert not any(exists(ix, later) for later in group[1:]), group
    for group in bbc_groups:
        assert exists(ix, bbc_id(group[0])), group
        assert not any(exists(ix, bbc_id(later)) for later in group[1:]), group


@pytest.mark.parametrize(
    "group",
    [
        ("reuters-32", "reuters-55"),
        ("reuters-519", "reuters-1120", "reuters-11422"),
    ],
)
def test_a_few_reuters_duplicates_by_hand(built: Built, ix: ArticleIndex, group) -> None:
    first, *later = (built.reuters[name] for name in group)
    for document in later:
        assert (document["headline"], document["body"]) == (first["headline"], first["body"])
        assert document["oldid"] != first["oldid"]  # separate stories on the wire
    assert ix.article(first["id"])["headline"] == first["headline"]
    for document in later:
        with pytest.raises(NotFound):
            ix.article(document["id"])


@pytest.mark.parametrize(
    ("kept", "dropped", "same_bytes"),
    [
        ("business/007.txt", "business/253.txt", True),
        ("sport/181.txt", "sport/182.txt", False),  # a paragraph break apart
    ],
)
def test_a_few_bbc_duplicates_by_hand(
    built: Built, ix: ArticleIndex, kept: str, dropped: str, same_bytes: bool
) -> None:
    first, second = built.bbc_dir / kept, built.bbc_dir / dropped
    assert (first.read_bytes() == second.read_bytes()) is same_bytes
    first_text, second_text = (decode_bbc(p.read_bytes()) for p in (first, second))
    assert normalised(first_text) == normalised(second_text)
    article = ix.article(bbc_id(first))
    assert article["headline"] == first_text.split("\n", 1)[0].strip()
    assert article["path"] == str(first)
    with pytest.raises(NotFound):
        ix.article(bbc_id(second))


# --- Reuters: search, dates, entities -------------------------------------------------------


def test_cocoa_finds_dated_reuters_stories_with_places(ix: ArticleIndex) -> None:
    response = ix.search(SearchRequest(q="cocoa", per_page=100))
    assert response["total"] >= 100
    hits = response["results"]
    reuters = [hit for hit in hits if hit["id"].startswith("reuters-")]
    assert len(reuters) >= 90
    assert all(hit["date"] and hit["date"].startswith("1987-") for hit in reuters)
    assert all(hit["source"] == "Reuters" for hit in reuters)
    # A few Reuters cocoa reports quote Brazilian trade terms and are read as Portuguese.
    assert sum(hit["lang"] == "en" for hit in reuters) >= 0.9 * len(reuters)
    top = hits[0]
    assert top["id"].startswith("reuters-")
    assert "cocoa" in top["headline"].lower()
    with_places = [hit for hit in reuters if hit["entities"]["place"]]
    assert len(with_places) >= len(reuters) // 2
    assert any("Brazil" in hit["entities"]["place"] for hit in reuters)
    assert any("Ghana" in hit["entities"]["place"] for hit in reuters)


def test_bahia_cocoa_review(ix: ArticleIndex) -> None:
    response = ix.search(SearchRequest(q="Bahia cocoa"))
    assert "reuters-1" in [hit["id"] for hit in response["results"]]
    article = ix.article("reuters-1")
    assert article["headline"] == "BAHIA COCOA REVIEW"
    assert article["date"].startswith("1987-02-26T15:01:01")
    assert article["lang"] == "en"
    assert article["source"] == "Reuters"
    assert article["entities_status"] == "ok"
    places = article["entities"]["place"]
    assert {"Uruguay", "Argentina", "New York"} & set(places), places
    report("reuters-1 entities", *(f"{k}: {v}" for k, v in article["entities"].items()))


RAW_DATE = re.compile(r"\s*(\d{1,2})-([A-Z]{3})-(\d{4})\s+(\d+):(\d\d):(\d\d)(?:\.(\d+))?")


def expected_reuters_date(raw: str) -> str:
    """The ISO date the index should hold for a raw Reuters <DATE> value."""
    match = RAW_DATE.match(raw)
    assert match, raw
    day, month, year, hour, minute, second, fraction = match.groups()
    when = datetime.strptime(f"{day}-{month}-{year}", "%d-%b-%Y")
    if int(hour) > 23:  # "31-MAR-1987 605:12:19.12": the day is known, the time is not
        return when.date().isoformat()
    return when.replace(
        hour=int(hour),
        minute=int(minute),
        second=int(second),
        microsecond=int((fraction or "0").ljust(6, "0")),
    ).isoformat()


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        ("reuters-1", "1987-02-26T15:01:01.790000"),  # 26-FEB-1987 15:01:01.79
        ("reuters-2", "1987-02-26T15:02:20"),  # 26-FEB-1987 15:02:20.00
        ("reuters-996", "1987-03-03T09:15:05.400000"),  # two spaces before the time
        ("reuters-10279", "1987-03-27T00:02:59.130000"),  # trailing "&#5;&#5;&#5;RM"
        ("reuters-15785", "1987-04-09T13:32:06.700000"),  # one digit of fraction
        ("reuters-17192", "1987-03-31"),  # hour "605": date only
    ],
)
def test_reuters_dates_samples(built: Built, ix: ArticleIndex, article, expected) -> None:
    assert expected_reuters_date(built.reuters[article]["date"]) == expected
    assert ix.article(article)["date"] == expected


def test_every_indexed_reuters_date_is_its_date_element(built: Built, ix: ArticleIndex) -> None:
    checked = 0
    for document in built.reuters.values():
        try:
            article = ix.article(document["id"])
        except NotFound:
            continue
        assert article["date"] == expected_reuters_date(document["date"]), document["id"]
        checked += 1
    assert checked == REUTERS_DOCUMENTS - 1 - REUTERS_DUPLICATES


# --- BBC ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ("Yukos", "business"),
        ("WorldCom Ebbers", "business"),
        ("Oscar nominations", "entertainment"),
        ("Grammy", "entertainment"),
        ("Chancellor Gordon Brown budget", "politics"),
        ("Mourinho", "sport"),
        ("Wimbledon", "sport"),
        ("iPod", "tech"),
        ("Ofcom broadband", "tech"),
    ],
)
def test_bbc_distinctive_terms_find_their_category(ix: ArticleIndex, query, category) -> None:
    response = ix.search(SearchRequest(q=query, per_page=3))
    assert response["total"] >= 3
    # BBC files some stories on the very subject elsewhere ("BT offers equal access to
    # rivals", all Ofcom and broadband, is business): the best hit and most of the top
    # three must be in the category.
    folders = []
    for hit in response["results"]:
        article = ix.article(hit["id"])
        folders.append(Path(article["path"]).parent.name)
        assert hit["date"] is None and article["date"] is None
        assert hit["source"] == "" and hit["lang"] == "en"
    assert folders[0] == category and folders.count(category) >= 2, (query, folders)


def test_no_bbc_article_gets_a_date(built: Built, ix: ArticleIndex) -> None:
    """The BBC files carry no date; none may be invented (file times, 'today', ...)."""
    langs: Counter[str] = Counter()
    found = 0
    for path in built.bbc_files:
        try:
            article = ix.article(bbc_id(path))
        except NotFound:
            continue
        found += 1
        assert article["date"] is None, path
        assert not any("date" in warning for warning in article["warnings"]), path
        langs[article["lang"]] += 1
    assert found == len(built.bbc_files) - BBC_DUPLICATES
    assert langs == {"en": found}
    # Only Reuters stories match any date range.
    dated = ix.search(SearchRequest(date_from=date(1800, 1, 1), per_page=1))
    assert dated["total"] == REUTERS_DOCUMENTS - 1 - REUTERS_DUPLICATES
    assert dated["facets"]["source"] == [{"value": "Reuters", "count": dated["total"]}]


def test_bbc_readme_is_indexed_as_an_article(built: Built, ix: ArticleIndex) -> None:
    """Pinned as it is: README.TXT is read as a .txt article, not rejected."""
    article = ix.article(bbc_id(built.bbc_dir / BBC_README))
    assert article["headline"].startswith("Consists of 2225 documents from the BBC")
    assert article["date"] is None


# --- filters, facets and sorting on real data -----------------------------------------------


def test_language_facet_is_mostly_english(ix: ArticleIndex) -> None:
    response = ix.search(SearchRequest(q=""))
    langs = {item["value"]: item["count"] for item in response["facets"]["lang"]}
    report("lang facet over everything", json.dumps(langs))
    assert response["facets"]["lang"][0]["value"] == "en"
    assert langs["en"] >= 0.9 * response["total"]
    english = ix.search(SearchRequest(lang="en", per_page=1))
    assert english["total"] == langs["en"]
    assert english["facets"]["lang"] == [{"value": "en", "count": langs["en"]}]


# ALL-CAPS English (Reuters headline-only stories, results tables) once came out as
# German or Swedish ("de" 801, "sv" 315), which also cost those stories their entities.
@pytest.mark.parametrize(
    "article",
    ["reuters-30", "reuters-31", "reuters-76", "reuters-14", "reuters-38"],
)
def test_all_caps_english_is_english(ix: ArticleIndex, article: str) -> None:
    assert ix.article(article)["lang"] == "en"


def test_year_facet_is_1987_only(ix: ArticleIndex) -> None:
    response = ix.search(SearchRequest(q=""))
    assert response["facets"]["year"] == [
        {"value": "1987", "count": REUTERS_DOCUMENTS - 1 - REUTERS_DUPLICATES}
    ]


def test_entity_filter_narrows_cocoa_to_brazil(ix: ArticleIndex) -> None:
    cocoa = ix.search(SearchRequest(q="cocoa"))
    brazil = ix.search(SearchRequest(q="cocoa", entity="Brazil", per_page=100))
    assert 0 < brazil["total"] < cocoa["total"]
    assert brazil["filters"] == {"entity": "Brazil"}
    for hit in brazil["results"]:
        names = {name.casefold() for names in hit["entities"].values() for name in names}
        assert "brazil" in names, hit["id"]
    lowercase = ix.search(SearchRequest(q="cocoa", entity="brazil"))
    assert lowercase["total"] == brazil["total"]


def test_entity_filter_finds_a_name_with_a_comma(ix: ArticleIndex) -> None:
    hits = ix.search(SearchRequest(q="cocoa", per_page=100))["results"]
    with_comma = [
        (hit["id"], name)
        for hit in hits
        for names in hit["entities"].values()
        for name in names
        if "," in name
    ]
    assert with_comma, "no entity with a comma among the cocoa stories"
    article, name = with_comma[0]
    response = ix.search(SearchRequest(entity=name, per_page=100))
    assert article in [hit["id"] for hit in response["results"]], (article, name)


def test_date_range_filter(ix: ArticleIndex) -> None:
    march = ix.search(
        SearchRequest(q="oil", date_from=date(1987, 3, 1), date_to=date(1987, 3, 31), per_page=100)
    )
    everything = ix.search(SearchRequest(q="oil"))
    assert 0 < march["total"] < everything["total"]
    assert all(hit["date"].startswith("1987-03-") for hit in march["results"])


def test_sort_newest_puts_dated_articles_first(ix: ArticleIndex) -> None:
    # "Blair" is in both corpora: Reuters 1987 (dated) and BBC 2004-5 (undated).
    # every article, not one per story: the order of all of them is what is checked
    first = ix.search(SearchRequest(q="Blair", sort="newest", per_page=100, collapse=False))
    total = first["total"]
    assert 100 < total <= 200
    second = ix.search(
        SearchRequest(q="Blair", sort="newest", per_page=100, page=2, collapse=False)
    )
    dates = [hit["date"] for hit in first["results"] + second["results"]]
    assert len(dates) == total
    dated = [d for d in dates if d]
    assert dated and len(dated) < total
    assert dates[: len(dated)] == dated, "an undated article came before a dated one"
    assert dated == sorted(dated, reverse=True)
    assert all(hit["score"] is None for hit in first["results"])
    oldest = ix.search(SearchRequest(sort="oldest", per_page=3))
    assert [hit["id"] for hit in oldest["results"]] == ["reuters-1", "reuters-2", "reuters-3"]


# --- latency --------------------------------------------------------------------------------

LATENCY_REQUESTS = [
    *(
        SearchRequest(q=word)
        for word in [
            "oil",
            "cocoa",
            "dollar",
            "election",
            "football",
            "broadband",
            "inflation",
            "wheat",
            "gold",
            "music",
            "film",
            "tax",
            "bank",
            "merger",
            "strike",
            "coffee",
            "tennis",
            "Microsoft",
            "Japan",
            "Reagan",
        ]
    ),
    *(
        SearchRequest(q=words)
        for words in (
            "oil prices",
            "interest rates",
            "trade deficit",
            "mobile phone",
            "Tony Blair",
            "stock market",
            "crude output",
            "world cup",
            "record label",
            "budget deficit",
        )
    ),
    *(
        SearchRequest(q=f'"{phrase}"')
        for phrase in (
            "interest rates",
            "Prime Minister",
            "Federal Reserve",
            "Manchester United",
            "net profit",
            "trade surplus",
            "chief executive",
            "oil prices",
        )
    ),
    *(
        SearchRequest(q=q, entity=entity)
        for q, entity in (
            ("oil", "Saudi Arabia"),
            ("trade", "Japan"),
            ("", "James Baker"),
            ("election", "Tony Blair"),
            ("cocoa", "Ghana"),
            ("shares", "London"),
            ("", "Chelsea"),
            ("software", "Microsoft"),
        )
    ),
    *(
        SearchRequest(q=q, date_from=start, date_to=end)
        for q, start, end in (
            ("oil", date(1987, 3, 1), date(1987, 3, 31)),
            ("dollar", date(1987, 4, 1), date(1987, 4, 15)),
            ("", date(1987, 2, 26), date(1987, 2, 28)),
            ("grain", date(1987, 1, 1), date(1987, 12, 31)),
            ("bank rates", date(1987, 6, 1), date(1987, 10, 31)),
        )
    ),
    SearchRequest(q="oil", lang="en", sort="newest"),
    SearchRequest(q="bank", page=3),
    SearchRequest(q="econom*"),
    SearchRequest(q="oil NOT opec"),
    SearchRequest(q="person:reagan"),
    SearchRequest(q="wheat OR corn", sort="oldest"),
    SearchRequest(q="", sort="newest"),
    SearchRequest(q="oil prices", recency=0.5, explain=True),
    SearchRequest(q="Blair", collapse=False),
]


def describe(request: SearchRequest) -> str:
    """A request by its query and the fields that differ from the defaults."""
    default = SearchRequest()
    changed = [
        f"{name}={value}"
        for name, value in vars(request).items()
        if name != "q" and value != getattr(default, name)
    ]
    return " ".join([repr(request.q), *changed])


def test_search_latency(built: Built) -> None:
    """~200 searches through ArticleIndex.search; printed, not asserted."""
    articles = ArticleIndex(built.index_dir)  # cold: opens the index, builds facet tables
    started = time.perf_counter()
    articles.search(SearchRequest(q="cocoa"))
    cold_ms = (time.perf_counter() - started) * 1000
    runs = 200
    timings: list[float] = []
    totals: list[int] = []
    for number in range(runs):
        request = LATENCY_REQUESTS[number % len(LATENCY_REQUESTS)]
        started = time.perf_counter()
        response = articles.search(request)
        timings.append((time.perf_counter() - started) * 1000)
        totals.append(response["total"])
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    worst: dict[str, float] = {}
    for number, ms in enumerate(timings):
        key = describe(LATENCY_REQUESTS[number % len(LATENCY_REQUESTS)])
        worst[key] = max(ms, worst.get(key, 0.0))
    slowest = sorted(worst.items(), key=lambda item: -item[1])[:5]
    report(
        f"search latency: {runs} searches over {len(LATENCY_REQUESTS)} distinct requests, "
        f"{built.summary.indexed} articles",
        f"first (cold) search: {cold_ms:.0f} ms",
        f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, max {max(timings):.1f} ms, "
        f"mean {statistics.fmean(timings):.1f} ms",
        *(f"slowest: {ms:.1f} ms  {key}" for key, ms in slowest),
    )
    assert all(total > 0 for total in totals)


# --- re-run (last: it commits a new generation of the index) ---------------------------------


def test_rerun_indexes_nothing_again(built: Built, ix: ArticleIndex, tmp_path: Path) -> None:
    """A full re-run pays the whole pipeline again (~3.5 min); one file and one category do."""
    subset = tmp_path / "reut2-000.jsonl"
    importer = load_importer()
    documents = list(importer.iter_documents(built.reuters_src / RERUN_REUTERS_FILE))
    subset.write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents), encoding="utf-8"
    )
    # The same records as in the full run: their lines were the first 1,000 of reuters.jsonl.
    assert documents == list(built.reuters.values())[: len(documents)]
    category = built.bbc_dir / RERUN_BBC_CATEGORY
    ids = [d["id"] for d in documents] + [bbc_id(p) for p in sorted(category.glob("*.txt"))]
    kept = sum(exists(ix, article) for article in ids)
    before = ix.count()

    started = time.perf_counter()
    again = index_paths(
        [subset, category], built.index_dir, workers=2, entities=True, semantic=False
    )
    seconds = time.perf_counter() - started
    report(
        f"re-run on {RERUN_REUTERS_FILE} + bbc/{RERUN_BBC_CATEGORY}",
        f"summary: {again.line()}",
        f"elapsed: {seconds:.1f} s ({again.read / seconds:.1f} records/s)",
    )
    assert again.read == len(ids) == 1_000 + 386
    assert again.indexed == 0
    assert again.rejected == 0
    assert again.unchanged == kept
    assert again.duplicates == len(ids) - kept > 0
    assert ix.count() == before == built.summary.indexed
    # The subset's ids are unique, so every record not indexed before is a known story.
    assert len(set(ids)) == len(ids)

"""WARC input: a small crawl written here with warcio, read like the HTML pages in it."""

import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from whoosh import index as whoosh_index

from search.indexer import index_paths
from search.models import RawRecord, Reject
from search.readers import read_file
from search.schema import INDEX_NAME

CRAWLED = "2024-04-03T10:15:00Z"

# Fictional pages written for these tests.
PARAGRAPHS = (
    "<p>Dock workers at the port returned to work on Tuesday after union leaders accepted "
    "a revised pay offer from the operators, ending a nine-day strike.</p>"
    "<p>The stoppage had left more than forty ships waiting at anchor outside the harbour, "
    "according to the port authority, which said operations would be normal by Friday.</p>"
)
DATED_PAGE = f"""<html><head><title>Port strike ends | Gazette</title>
<meta property="article:published_time" content="2024-04-02T08:00:00Z"></head>
<body><article><h1>Port strike ends after nine days</h1>{PARAGRAPHS}</article></body></html>"""
UNDATED_PAGE = f"""<html><head><title>Ferry timetable changes</title></head>
<body><article><h1>Ferry timetable changes</h1>{PARAGRAPHS.replace("Dock", "Ferry")}
</article></body></html>"""
DATELINE_PAGE = f"""<html><head><title>Harbour reopens</title></head>
<body><article><h1>Harbour reopens</h1><p>LISBON, March 28, 2024 - The harbour reopened to
shipping on Thursday morning after a week of repairs to the main breakwater.</p>
{PARAGRAPHS}</article></body></html>"""


def response(
    writer: WARCWriter,
    uri: str,
    payload: bytes,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
):
    http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    # A known length spares warcio a temporary buffer (which it never closes).
    return writer.create_warc_record(
        uri,
        "response",
        payload=io.BytesIO(payload),
        length=len(payload),
        http_headers=http,
        warc_headers_dict={"WARC-Date": CRAWLED},
    )


def crawl(path: Path, *, gzip: bool = True) -> Path:
    """warcinfo, a request, three HTML pages, an image, a 404 and a metadata record."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
    request = StatusAndHeaders("GET /port HTTP/1.1", [("Host", "news.example.org")])
    writer.write_record(
        writer.create_warc_record("https://news.example.org/port", "request", http_headers=request)
    )
    writer.write_record(response(writer, "https://news.example.org/port", DATED_PAGE.encode()))
    writer.write_record(
        response(
            writer, "https://news.example.org/ferry", UNDATED_PAGE.encode("cp1252"), "text/html"
        )
    )
    writer.write_record(response(writer, "https://news.example.org/open", DATELINE_PAGE.encode()))
    writer.write_record(
        response(writer, "https://news.example.org/a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg")
    )
    writer.write_record(
        response(
            writer, "https://news.example.org/gone", b"<html>gone</html>", status="404 Not Found"
        )
    )
    writer.write_record(
        writer.create_warc_record(
            "https://news.example.org/port",
            "metadata",
            payload=io.BytesIO(b"outlinks: none\n"),
            length=len(b"outlinks: none\n"),
            warc_content_type="application/warc-fields",
        )
    )
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("name, gzip", [("crawl.warc.gz", True), ("crawl.warc", False)])
def test_html_responses_become_records_with_the_crawls_metadata(tmp_path, name, gzip):
    items = list(read_file(crawl(tmp_path / name, gzip=gzip)))
    records = [item for item in items if isinstance(item, RawRecord)]
    rejects = [item for item in items if isinstance(item, Reject)]
    # warcinfo (1), request (2) and metadata (9) are not articles and leave no trace.
    assert [r.origin.row for r in records] == [3, 4, 5]
    assert [(r.origin.row, r.code) for r in rejects] == [
        (6, "unsupported_type"),
        (7, "no_article_text"),
    ]
    assert "image/jpeg" in rejects[0].reason and "404" in rejects[1].reason
    dated, undated, dateline = records
    assert dated.headline == "Port strike ends after nine days"
    assert dated.url == "https://news.example.org/port"
    assert dated.source == "news.example.org"
    assert dated.date == "2024-04-02"  # the page's own date wins over the crawl's
    assert undated.date == CRAWLED  # no date in the page: the crawl date stands in
    assert dateline.date is None  # left for the pipeline to read from the dateline
    assert undated.body.startswith("Ferry workers")


def test_indexing_a_warc_uses_the_dateline_and_the_crawl_date(tmp_path):
    (tmp_path / "in").mkdir()
    source = crawl(tmp_path / "in" / "crawl.warc.gz")
    summary = index_paths([source], tmp_path / "ix", entities=False)
    assert summary.line() == "read 5, indexed 3, unchanged 0, duplicates 0, rejected 2"
    assert dict(summary.rejected_by_code) == {"unsupported_type": 1, "no_article_text": 1}
    ix = whoosh_index.open_dir(tmp_path / "ix", indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        dates = {
            fields["url"].rsplit("/", 1)[1]: fields["date_iso"]
            for fields in searcher.reader().all_stored_fields()
        }
    assert dates == {
        "port": "2024-04-02",
        "ferry": "2024-04-03T10:15:00",
        "open": "2024-03-28",
    }


def test_a_cut_short_warc_rejects_the_broken_record(tmp_path):
    whole = crawl(tmp_path / "whole.warc", gzip=False).read_bytes()
    cut = whole.index(b"Dock workers") + 20  # inside the first page's payload
    broken = tmp_path / "cut.warc"
    broken.write_bytes(whole[:cut])
    items = list(read_file(broken))
    assert [type(item).__name__ for item in items] == ["Reject"]
    assert (items[0].origin.row, items[0].code) == (3, "malformed")


def test_a_file_that_is_not_a_warc_is_one_reject(tmp_path):
    path = tmp_path / "notes.warc.gz"
    path.write_text("these are my notes, not a crawl\n")
    [reject] = read_file(path)
    assert isinstance(reject, Reject) and reject.code == "malformed"

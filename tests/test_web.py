from html.parser import HTMLParser

import pytest

from web import create_app


class LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)
        if tag == "script":
            self.scripts += 1


def links(html: str) -> list[str]:
    parser = LinkCollector()
    parser.feed(html)
    return parser.links


def test_api_search_shape(client):
    response = client.get("/api/search?q=cocoa&per_page=2")
    assert response.status_code == 200
    data = response.get_json()
    assert data["query"] == "cocoa" and data["per_page"] == 2 and data["page"] == 1
    assert data["total"] == 3 and len(data["results"]) == 2
    assert set(data["facets"]) == {"lang", "source", "person", "organization", "place", "year"}


def test_html_and_json_come_from_the_same_search(client):
    data = client.get("/api/search?q=harbour&sort=newest").get_json()
    html = client.get("/search?q=harbour&sort=newest").get_data(as_text=True)
    for hit in data["results"]:
        assert f"/articles/{hit['id']}" in html
    assert f"<strong>{data['total']}</strong>" in html
    assert "/api/search?q=harbour&amp;sort=newest" in html  # the page links its JSON twin


def test_home_page_lists_articles_and_facets(client):
    html = client.get("/").get_data(as_text=True)
    assert 'name="q"' in html and "Language" in html and "undated" in html


def test_facet_links_apply_and_remove_filters(client):
    html = client.get("/search?q=cocoa").get_data(as_text=True)
    lang_link = next(link for link in links(html) if "lang=en" in link)
    filtered = client.get(lang_link.replace("&amp;", "&"))
    text = filtered.get_data(as_text=True)
    assert filtered.status_code == 200 and "lang: en" in text
    remove = next(link for link in links(text) if "lang=" not in link and "q=cocoa" in link)
    assert "/search?q=cocoa" in remove


def test_pagination_keeps_filters(client):
    html = client.get("/search?lang=en&per_page=5&sort=oldest").get_data(as_text=True)
    next_link = next(link for link in links(html) if "page=2" in link)
    for part in ("lang=en", "per_page=5", "sort=oldest"):
        assert part in next_link


def test_article_page_and_json_twin(client):
    hit = client.get("/api/search?q=cocoa").get_json()["results"][0]
    page = client.get(f"/articles/{hit['id']}")
    assert page.status_code == 200
    assert hit["headline"].split(" ")[0] in page.get_data(as_text=True)
    data = client.get(f"/api/articles/{hit['id']}").get_json()
    assert data["id"] == hit["id"] and data["body"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/search?sort=random", 400, "invalid_parameter"),
        ("/api/search?page=0", 400, "invalid_parameter"),
        ("/api/search?page=abc", 400, "invalid_parameter"),
        ("/api/search?per_page=101", 400, "invalid_parameter"),
        ("/api/search?from=2024-13-01", 400, "invalid_parameter"),
        ("/api/search?from=yesterday", 400, "invalid_parameter"),
        ("/api/search?q=AND", 400, "invalid_query"),
        ("/api/search?q=a*", 400, "invalid_query"),
        ("/api/search?q=" + "x" * 5000, 400, "invalid_query"),
        ("/api/articles/nope", 404, "not_found"),
        ("/api/no-such-endpoint", 404, "not_found"),
    ],
)
def test_errors_have_one_json_shape(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    "url", ["/search?q=a*", "/search?page=-1", "/articles/nope", "/nowhere", "/search?q=%22"]
)
def test_html_errors_are_friendly_pages(client, url):
    response = client.get(url)
    assert 200 <= response.status_code < 500
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)


def test_invalid_utf8_and_hostile_queries_never_500(client):
    for url in [
        "/api/search?q=%ff%fe",
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/api/search?q=((((((((((",
        "/api/search?q=*",
        "/api/search?page=999999999",
    ]:
        assert client.get(url).status_code < 500


def test_a_query_string_that_is_not_utf8_is_a_400(client):
    response = client.get("/api/search?q=%ff%fe")
    assert response.status_code == 400
    assert "UTF-8" in response.get_json()["error"]["message"]
    assert client.get("/search?q=caf%C3%A9").status_code == 200


def test_query_text_is_escaped_in_the_page(client):
    html = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]


def test_healthz_counts_articles(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "articles": 39}


def test_missing_index_is_a_clear_503(tmp_path):
    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    response = client.get("/api/search?q=cocoa")
    assert response.status_code == 503
    assert "newsearch index" in response.get_json()["error"]["message"]


def test_the_app_is_read_only(client):
    for method in (client.post, client.put, client.delete):
        assert method("/api/search?q=x").status_code == 405


# --- issue 5: stamp, cursor, facets/coverage/entity endpoints, export, chart, markup ----


def test_api_search_has_stamp_next_and_coverage(client):
    data = client.get("/api/search?per_page=5").get_json()
    assert set(data["stamp"]) == {"index_version", "articles", "parsed_query"}
    assert data["next"] and data["coverage"]["bucket"] in {"day", "week", "month", "year"}
    second = client.get(f"/api/search?per_page=5&cursor={data['next']}").get_json()
    assert second["page"] == 2
    assert not {h["id"] for h in data["results"]} & {h["id"] for h in second["results"]}
    other = client.get(f"/api/search?q=cocoa&cursor={data['next']}")
    assert other.status_code == 400 and "different search" in other.get_json()["error"]["message"]


def test_facets_and_coverage_endpoints(client):
    facets = client.get("/api/facets?q=cocoa").get_json()
    assert facets["total"] == 3 and "results" not in facets and set(facets["facets"])
    coverage = client.get("/api/coverage?q=cocoa").get_json()
    assert coverage["coverage"]["dated"] + coverage["coverage"]["undated"] == 3
    assert client.get("/api/coverage?from=nope").status_code == 400


def test_entity_page_and_json_twin(client):
    data = client.get("/api/entities/person/helena%20marsh").get_json()
    assert data["name"] == "Helena Marsh" and data["articles"] >= 2
    html = client.get("/entities/person/Helena%20Marsh").get_data(as_text=True)
    assert "/api/entities/person/Helena%20Marsh" in html and 'role="img"' in html
    assert client.get("/api/entities/person/nobody").status_code == 404
    assert client.get("/api/entities/planet/Mars").status_code == 404
    assert client.get("/api/entities/person/Helena%20Marsh?limit=0").status_code == 400


def test_export_streams_every_match_safely(client):
    response = client.get("/export.csv?q=Bristol&per_page=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = response.get_data(as_text=True).strip().split("\r\n")
    total = client.get("/api/search?q=Bristol").get_json()["total"]
    assert (
        rows[0].startswith("id,headline,date") and int(response.headers["X-Total-Count"]) == total
    )
    assert client.get("/export.csv?sort=bogus").status_code == 400


def test_chart_bars_narrow_the_dates(client):
    html = client.get("/search?q=Bristol").get_data(as_text=True)
    assert '<svg class="chart" role="img"' in html and "<title" in html and "<desc" in html
    assert "Undated:" in html and " style=" not in html
    bars = [link for link in links(html) if "from=" in link and "to=" in link]
    assert bars
    first = client.get(bars[0].replace("&amp;", "&").replace("/search", "/api/search"))
    assert first.status_code == 200 and first.get_json()["total"] >= 1


def test_article_links_mentions_and_marks_query(client):
    hit = client.get("/api/search?q=harbour ferries").get_json()["results"][0]
    html = client.get(f"/articles/{hit['id']}?q=harbour").get_data(as_text=True)
    assert "<mark>harbour</mark>" in html and 'class="mention' in html
    assert "/entities/" in html


def test_hit_chips_link_entity_pages(client):
    html = client.get("/search?q=cocoa").get_data(as_text=True)
    assert any(link.startswith("/entities/") for link in links(html))
    assert "/export.csv?q=cocoa" in html

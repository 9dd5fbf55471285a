"""Tests for search/html.py: main text and metadata from HTML pages.

Every page here is fictional, written for these tests.
"""

from __future__ import annotations

import lxml.html
import pytest

from search.html import (
    HtmlArticle,
    drop_leading_title,
    extract_article,
    join_split_bodies,
    unwrap_embedded_tweets,
    vote,
    wrap_loose_text,
)
from search.models import Origin, RawRecord, Reject
from search.readers import read_html

PARAGRAPHS = [
    "Ferry services between Port Alder and the Kessel islands resumed on Thursday morning "
    "after a four-day suspension caused by storm damage to the main landing stage.",
    "Engineers from the harbour board worked through the night to replace two mooring "
    "bollards and a section of the gangway, according to a statement from the operator.",
    "Islanders had relied on a single fishing boat for supplies of bread, milk and "
    "medicine, and the school on Greater Kessel stayed closed for three days.",
    "The operator said timetables would return to normal by Saturday, with an extra "
    "evening crossing added for the weekend to clear the backlog of freight.",
]
BODY = "".join(f"<p>{p}</p>\n" for p in PARAGRAPHS)
HEAD = """<head><title>Kessel ferries back after storm | Alder Gazette</title>
<meta name="author" content="Mira Castellan">
<meta property="article:published_time" content="2023-11-09T07:30:00Z">
<style>.story p { color: #333 } body { font-family: StyleLeakMarker; }</style>
<script>var trackingLeakMarker = "analytics"; console.log("ScriptLeakMarker");</script>
</head>"""
FURNITURE = """
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience
on our site. <button>Accept all cookies</button></div>
"""
SIDEBAR = """
<aside class="sidebar"><h3>Most read</h3><ul>
<li><a href="/a">Council approves new cycle lanes on the harbour road</a></li>
<li><a href="/b">Lighthouse keeper's cottage sold at auction</a></li>
<li><a href="/c">Choir from Alder wins regional festival prize</a></li></ul></aside>
"""
FOOTER = """<footer class="site-footer"><p>Copyright 2023 Alder Gazette Ltd. All rights
reserved.</p><a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>"""


def page(body: str = BODY, head: str = HEAD, title: str = "Kessel ferries back after storm") -> str:
    return f"""<!DOCTYPE html><html lang="en">{head}<body>{FURNITURE}
<main><article class="story"><h1>{title}</h1>
<p class="byline">By Mira Castellan</p>
<div class="story-body">{body}</div></article>{SIDEBAR}</main>{FOOTER}
<script>document.write("ScriptLeakMarker2")</script></body></html>"""


def extract(html: str) -> HtmlArticle:
    article = extract_article(html)
    assert article is not None
    return article


# --------------------------------------------------------------------------- whole pages


def test_article_text_without_navigation_sidebar_footer_or_cookie_banner():
    body = extract(page()).body
    for paragraph in PARAGRAPHS:
        assert paragraph in body
    for furniture in ("Weather", "cookies", "Most read", "cycle lanes", "Copyright", "Privacy"):
        assert furniture not in body, furniture


def test_paragraphs_stay_one_per_line_in_page_order():
    lines = extract(page()).body.split("\n")
    assert lines == PARAGRAPHS


def test_title_date_author_and_site_are_extracted():
    article = extract(page())
    assert article.title == "Kessel ferries back after storm"
    assert article.date == "2023-11-09"
    assert article.author == "Mira Castellan"
    # The headline is the title field: it is not repeated at the top of the body.
    assert not article.body.startswith("Kessel ferries")


def test_a_page_without_any_date_has_no_date():
    head = "<head><title>Kessel ferries back after storm</title></head>"
    article = extract(page(head=head))
    assert article.date is None
    # The byline in the page still names the author.
    assert article.author == "Mira Castellan"


def test_url_is_the_pages_own_else_the_one_given():
    canonical = HEAD.replace(
        "</head>", '<link rel="canonical" href="https://gazette.example/kessel"></head>'
    )
    assert extract_article(page(head=canonical), url="https://x.example/1").url == (
        "https://gazette.example/kessel"
    )
    given = extract_article(page(), url="https://gazette.example/story/1")
    assert given is not None and given.url == "https://gazette.example/story/1"


def test_script_and_style_content_never_reaches_the_body():
    scripted = "".join(
        f"<p>{p}</p><script>var x{i} = 'ScriptLeakMarker{i}';</script>"
        f"<style>.x{i} {{ content: 'StyleLeakMarker{i}' }}</style>"
        for i, p in enumerate(PARAGRAPHS)
    )
    body = extract(page(body=scripted)).body
    assert "LeakMarker" not in body
    assert "tracking" not in body and "{" not in body
    assert body.split("\n") == PARAGRAPHS


def test_loose_lead_text_in_a_div_is_kept():
    # The lead sits loose in the div, before <br>s, as on many older CMSs.
    loose = (
        f"{PARAGRAPHS[0]} <em>Reporting by <a href='/m'>Mira Castellan</a></em>.<br><br>"
        + "<br><br>".join(PARAGRAPHS[1:])
    )
    body = extract(page(body=loose)).body
    assert body.split("\n")[0].startswith("Ferry services between Port Alder")
    for paragraph in PARAGRAPHS[1:]:
        assert paragraph in body


def test_a_body_split_into_chunks_around_an_advert_is_read_whole():
    extra = [
        "Harbour board members will meet next week to discuss a permanent replacement "
        "for the landing stage, which was built in 1968 and last repaired in 2004.",
        "A board spokesperson said the cost would be shared with the island council, and "
        "that work could begin in spring if the budget is approved in February.",
    ]
    first = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    second = "".join(f"<p>{p}</p>" for p in extra)
    chunks = f"""<div class="chunks">
    <div class="row"><div class="article-chunk">{first}</div></div>
    <div class="row advert"><div class="ad-slot">Advertisement</div></div>
    <div class="row"><div class="article-chunk">{second}</div></div></div>"""
    body = extract(page(body=chunks)).body
    assert body.split("\n") == PARAGRAPHS + extra


def test_a_quoted_tweet_is_part_of_the_text():
    tweet = (
        '<div class="social-media-embed"><blockquote class="twitter-tweet"><p lang="en">'
        "The first ferry is in! Fresh bread for everyone on Greater Kessel tonight "
        '<a href="https://t.example/x">pic.example/abc</a></p>— Kessel Bakery (@kesselbakes) '
        '<a href="https://t.example/s/1">November 9, 2023</a></blockquote></div>'
    )
    before = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
    after = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
    body = extract(page(body=before + tweet + after)).body
    assert "Fresh bread for everyone on Greater Kessel tonight" in body
    assert body.index("Fresh bread") > body.index(PARAGRAPHS[1])


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "just some words, no markup at all",
        "<html><body></body></html>",
        "<html><body><div><p>Unclosed <b>tags <i>everywhere<div></span></p></body>",
        "<<<>>><html<body>>><p>&#xFFFFFF; &bogus; \x00\x01</p>",
        "<html><body>" + "<div>" * 3000 + "deep" + "</div>" * 3000 + "</body></html>",
        b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00",
    ],
)
def test_malformed_or_empty_html_does_not_crash(html):
    article = extract_article(html)
    assert article is None or isinstance(article, HtmlArticle)


def test_malformed_article_page_still_gives_its_text():
    broken = page().replace("</p>", "").replace("</div>", "").replace("</article>", "")
    body = extract(broken).body
    for paragraph in PARAGRAPHS:
        assert paragraph in body


def test_read_html_makes_a_record_or_a_reject():
    record = read_html(page(), Origin("kessel.html"))
    assert isinstance(record, RawRecord)
    assert record.headline == "Kessel ferries back after storm"
    assert record.body.split("\n") == PARAGRAPHS
    assert (record.date, record.author) == ("2023-11-09", "Mira Castellan")
    reject = read_html("<html><body><nav>Home</nav></body></html>", Origin("empty.html"))
    assert isinstance(reject, Reject)
    assert reject.reason == "no article text found in the HTML page"


# --------------------------------------------------------------------------- repairs


def tree(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def test_wrap_loose_text_makes_paragraphs_of_runs_between_breaks():
    root = tree(
        "<html><body><div id='c'>Lead sentence of the story, long enough to count. "
        "<em>Emphasis</em> stays inline.<br><br>Second paragraph after the breaks, also "
        "long.<figure>img</figure>Tail after the figure.</div>"
        "<div id='short'>Label<br>x</div></body></html>"
    )
    wrap_loose_text(root)
    [content] = root.xpath("//div[@id='c']")
    assert [child.tag for child in content] == ["p", "p", "figure", "p"]
    assert content[0].text_content() == (
        "Lead sentence of the story, long enough to count. Emphasis stays inline."
    )
    assert content[0].find("em") is not None
    assert content[3].text_content() == "Tail after the figure."
    # Too little loose text: left as it was.
    [short] = root.xpath("//div[@id='short']")
    assert [child.tag for child in short] == ["br"]


def test_unwrap_embedded_tweets_replaces_the_wrappers_with_a_plain_quote():
    root = tree(
        "<html><body><article><p>Before.</p><div class='embed'><div class='social'>"
        "<blockquote class='twitter-tweet' data-x='1'><p>Tweet text</p></blockquote>"
        "</div></div>after<p>After.</p></article></body></html>"
    )
    unwrap_embedded_tweets(root)
    [article] = root.xpath("//article")
    assert [child.tag for child in article] == ["p", "blockquote", "p"]
    assert article[1].attrib == {}
    assert article[1].tail == "after"


def test_join_split_bodies_leaves_comments_and_distant_lookalikes_alone():
    para = "<p>" + "word " * 30 + "</p>"
    root = tree(
        "<html><body>"
        f"<div><div class='x'><div class='body'>{para}{para}</div></div>"
        f"<div class='y'><div class='body'>{para}{para}{para}</div></div></div>"
        f"<div><div class='c1'><div class='comment-text'>{para}{para}</div></div>"
        f"<div class='c2'><div class='comment-text'>{para}{para}</div></div></div>"
        f"<section><div class='body'>{para}{para}</div></section>"
        "</body></html>"
    )
    join_split_bodies(root)
    bodies = root.xpath("//div[@class='body']")
    assert [len(b) for b in bodies] == [5, 0, 2]
    assert [len(c) for c in root.xpath("//div[@class='comment-text']")] == [2, 2]


# --------------------------------------------------------------------------- voting


LONG_A = "The council voted on Tuesday to extend the harbour wall by forty metres."
LONG_B = "Work will start in March and should take about a year to finish."
JUNK = "Sign up for our daily newsletter and never miss a story from the coast."


def test_vote_keeps_what_a_majority_of_voters_has():
    base = f"{LONG_A}\n{LONG_B}\n{JUNK}"
    assert vote(base, [f"{LONG_A} {LONG_B}", f"{LONG_A}\n{LONG_B}", JUNK]) == (
        f"{LONG_A}\n{LONG_B}"
    )
    # With two voters, one suffices (it and the base are two of three).
    assert vote(base, [f"{LONG_A}\n{LONG_B}", ""]) == f"{LONG_A}\n{LONG_B}"


def test_vote_keeps_a_sentence_between_two_kept_ones_and_splits_lines_into_sentences():
    base = f"{LONG_A} {JUNK} {LONG_B}"
    voters = [f"{LONG_A} {LONG_B}"] * 3
    assert vote(base, voters) == base
    # At the edge, the unsupported sentence goes and the rest of its line stays.
    assert vote(f"{LONG_A} {LONG_B} {JUNK}", voters) == f"{LONG_A} {LONG_B}"


def test_vote_short_segments_need_a_kept_neighbour():
    voters = [f"{LONG_A} Tags: harbour", f"{LONG_A} Tags harbour", f"{LONG_A} tags"]
    # "Tags" is in every voter, but between two rejected lines it is not article text.
    base = f"{LONG_A}\n{JUNK}\n{JUNK}\nTags\n{JUNK}"
    assert vote(base, voters) == LONG_A
    assert vote(f"{LONG_A}\nTags", voters) == f"{LONG_A}\nTags"


def test_vote_without_voter_text_keeps_the_base():
    assert vote(f" {LONG_A} \n\n{JUNK}\n", ["", "  "]) == f"{LONG_A}\n{JUNK}"


def test_drop_leading_title():
    body = "Kessel ferries back after storm\nFerry services resumed.\nMore text."
    assert drop_leading_title(body, "Kessel ferries back after storm") == (
        "Ferry services resumed.\nMore text."
    )
    # A title with the site's name after it still matches its start.
    assert drop_leading_title(body, "Kessel ferries back after storm - Alder Gazette") == (
        "Ferry services resumed.\nMore text."
    )
    # Only the first lines, and only whole lines or a title start of four words or more.
    assert drop_leading_title("A\nB\nC\nTitle here", "Title here") == "A\nB\nC\nTitle here"
    assert drop_leading_title("Kessel ferries\nText.", "Kessel ferries back") == (
        "Kessel ferries\nText."
    )

"""HTML pages -> the article they carry: title, main text, date, author, URL, site name.

No single main-text extractor is right on every page: trafilatura in recall mode
keeps "about the company" boxes, newsletter forms and link lists on some sites; in
precision mode it drops lists and one-line paragraphs on others; readability and
jusText each fail on layouts the others handle. So the text is found four ways and
the four vote:

1. The page is parsed once (trafilatura's ``load_html`` copes with broken markup) and
   repaired where extractors are known to trip: text loose in a ``<div>`` between
   ``<br>``s, or in a ``<div>`` among paragraphs, is wrapped in paragraphs (it is often
   the lead, and trafilatura can drop it), quoted tweets are taken out of their
   "social embed" wrappers, and a body split over several look-alike containers is
   put back together.
2. trafilatura in recall mode gives the *base* text and the metadata (title, date,
   author, URL, site name); trafilatura in precision mode, readability (trafilatura's
   fork of it) and jusText are the *voters*. Comments are never article text.
3. The base text is split into sentences. A sentence is *agreed* when a majority of
   the extractors that found any text has it (the base counts: two of three voters,
   one of two). It stays when it is agreed, or when it sits between two agreed
   sentences: list items, quoted tweets and one-line paragraphs are what the
   paragraph-level voters tend to drop. An agreed short sentence (six words or fewer)
   also needs an agreed neighbour: "Share" or "Tags" occur somewhere in any page, so
   a word match alone proves little.
4. The headline, when the text repeats it at the top, is removed: it is the title.

Paragraphs stay one per line. This module only extracts; search.clean then repairs
the text and removes site furniture, as for every other format.

``scripts/eval_html.py`` scores the whole path on the Scrapinghub article-extraction
benchmark (181 pages). The rules above were chosen on that benchmark, so its figures
flatter them somewhat. Each rule is a general one (no site is named anywhere) and
was kept only when it raised the score over the whole set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import cache

import justext
import lxml.html
import trafilatura
from lxml.html import HtmlElement
from trafilatura.readability_lxml import Document as ReadabilityDocument
from trafilatura.settings import Document

__all__ = [
    "HtmlArticle",
    "drop_leading_title",
    "extract_article",
    "join_split_bodies",
    "unwrap_embedded_tweets",
    "vote",
    "wrap_loose_text",
]

log = logging.getLogger(__name__)

# Passed to htmldate through trafilatura: the publication date rather than the last
# update, and only from markup and metadata. The extensive search takes any date in
# the text, which is how an undated page would get a date it does not have.
DATE_PARAMS = {"extensive_search": False, "original_date": True}

# --- repairs
# Elements whose loose text (text not inside a child element) is wrapped in <p>s.
_CONTAINERS = ("div", "section", "article", "main", "td", "center")
# Inline elements stay inside the paragraph being built; any other element ends it.
_INLINE = frozenset(
    {
        *("a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i"),
        *("kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub"),
        *("sup", "time", "tt", "u", "var"),
    }
)
# Less loose text than this is a label or a separator, not a paragraph.
_LOOSE_MIN_CHARS = 40
# A <div> of text with this many <p> siblings is one more paragraph of the text.
_AMONG_MIN_PARAGRAPHS = 2
_TWEET_XPATH = (
    "//blockquote[contains(concat(' ', normalize-space(@class), ' '), ' twitter-tweet ')]"
)
# Wrappers above these are the page, not the embed.
_TWEET_STOP = frozenset({"html", "body", "article", "main"})
# A chunk of a split body holds at least this many paragraphs with this much text.
_CHUNK_MIN_PARAGRAPHS = 2
_CHUNK_MIN_CHARS = 200
# Comment threads are look-alike containers too; they are not a split body.
_COMMENT_CLASS_RE = re.compile(r"comment|reply|respon", re.IGNORECASE)

# --- voting
_TOKEN_RE = re.compile(r"\w+")
# Sentence ends, the CJK full stops among them; the space after one is a split point.
_SENTENCE_END_RE = re.compile(r"(?<=[.!?。！？])\s+")
# Segments this short are looked up as a whole token sequence; longer ones by 4-grams,
# so that a voter that cut or joined a sentence differently still counts.
_SHORT_TOKENS = 6
_NGRAM = 4
# Share of a long segment's 4-grams a voter must have to count as having the segment.
_SUPPORT_SHARE = 0.5
# readability's default; trafilatura's own fallback uses the same.
_READABILITY_MIN_TEXT = 25

# --- title
# The headline is looked for in this many first lines (a kicker or dateline may lead).
_TITLE_SEARCH_LINES = 3
# A shorter start of the title could be an ordinary first sentence.
_TITLE_PREFIX_MIN_TOKENS = 4


@dataclass(frozen=True)
class HtmlArticle:
    """What one HTML page says about its article; metadata it does not give is None."""

    title: str
    body: str
    date: str | None = None
    author: str | None = None
    url: str | None = None
    sitename: str | None = None


def extract_article(html: str | bytes, url: str | None = None) -> HtmlArticle | None:
    """The article in ``html``, or None when the page has no main text at all.

    ``url`` is where the page came from, when known; a URL the page declares itself
    (canonical link, og:url) wins. ``sitename`` falls back to the URL's host name.
    """
    tree = _parse(html)
    if tree is None:
        return None
    wrap_loose_text(tree)
    unwrap_embedded_tweets(tree)
    join_split_bodies(tree)
    document = _trafilatura(tree, url, favor_recall=True, fast=True, with_metadata=True)
    precise = _trafilatura(tree, url, favor_precision=True)
    voters = [_text(precise), _readability_text(tree), _justext_text(tree)]
    # When the recall run finds nothing, the first voter with text stands in for it.
    base = _text(document) or next((text for text in voters if text.strip()), "")
    body = vote(base, voters)
    if not body and _is_prose(base):
        # Nothing confirmed by the others: an unconfirmed text beats none, if it is more
        # than a few labels ("Home", "Menu") that any page has.
        body = vote(base, [])
    title = _field(document, "title") or _page_title(tree)
    body = drop_leading_title(body, title)
    if not body.strip():
        return None
    return HtmlArticle(
        title=title,
        body=body,
        date=_field(document, "date"),
        author=_field(document, "author"),
        url=_field(document, "url") or url,
        sitename=_field(document, "sitename") or _field(document, "hostname"),
    )


# --------------------------------------------------------------------------- parsing


def _parse(html: str | bytes) -> HtmlElement | None:
    """The page as an lxml tree; None when it is not HTML at all."""
    try:
        return trafilatura.load_html(html)
    except (ValueError, TypeError) as error:  # lxml's ParserError is a ValueError
        log.debug("unparseable HTML: %s", error)
        return None


def _page_title(tree: HtmlElement) -> str:
    title = tree.find(".//title")
    return " ".join(title.text_content().split()) if title is not None else ""


# --------------------------------------------------------------------------- repairs


def wrap_loose_text(tree: HtmlElement) -> HtmlElement:
    """Wrap text loose in a container (``<div>Lead text <em>x</em>.<br>…``) in <p>s.

    Each run of text and inline elements between ``<br>``s and block elements becomes
    one paragraph; block children stay where they are. Only containers with at least
    a sentence's worth of loose text are touched, so ordinary markup is left alone.
    Changes ``tree`` in place and returns it.
    """
    for element in list(tree.iter(*_CONTAINERS)):
        # Text between <br>s, or a <div> of text among paragraphs (a subheading, a
        # pull quote). Other loose text, a caption or teaser in a <div> of its own, is
        # judged well by the extractors as it is; as a <p> it would pass for the article.
        if _loose_chars(element) >= _LOOSE_MIN_CHARS and (
            element.find("br") is not None or _among_paragraphs(element)
        ):
            _wrap_runs(element)
    return tree


def _among_paragraphs(element: HtmlElement) -> bool:
    parent = element.getparent()
    if parent is None:
        return False
    return sum(sibling.tag == "p" for sibling in parent) >= _AMONG_MIN_PARAGRAPHS


def _loose_chars(element: HtmlElement) -> int:
    total = len((element.text or "").strip())
    for child in element:
        total += len((child.tail or "").strip())
    return total


def _is_inline(node: HtmlElement) -> bool:
    # Comments and processing instructions have no string tag; they ride along.
    return not isinstance(node.tag, str) or node.tag in _INLINE


def _wrap_runs(element: HtmlElement) -> None:
    """Rebuild ``element``'s children: inline runs become <p>s, <br>s go, the rest stays."""
    items: list[HtmlElement | str] = [element.text] if element.text else []
    for child in list(element):
        tail, child.tail = child.tail, None
        element.remove(child)
        items.append(child)
        if tail:
            items.append(tail)
    element.text = None
    paragraph: HtmlElement | None = None
    for item in items:
        if isinstance(item, str) or _is_inline(item):
            if paragraph is None:
                paragraph = lxml.html.Element("p")
                element.append(paragraph)
            _append(paragraph, item)
            continue
        paragraph = None
        if item.tag != "br":
            element.append(item)
    for child in list(element):
        # A run of whitespace (or of comments alone) between two blocks carries no text.
        if child.tag == "p" and not child.attrib and not child.text_content().strip():
            element.remove(child)


def _append(paragraph: HtmlElement, item: HtmlElement | str) -> None:
    if not isinstance(item, str):
        paragraph.append(item)
    elif len(paragraph):
        paragraph[-1].tail = (paragraph[-1].tail or "") + item
    else:
        paragraph.text = (paragraph.text or "") + item


def unwrap_embedded_tweets(tree: HtmlElement) -> HtmlElement:
    """Make quoted tweets plain block quotes, out of their "social embed" wrappers.

    A tweet the article quotes is part of what it says, but the embed's markup (class
    ``twitter-tweet``, wrappers called "social-media-embed" and the like) looks like a
    share widget to the extractors, which drop it. Changes ``tree`` in place.
    """
    for quote in tree.xpath(_TWEET_XPATH):
        text = quote.text_content().strip()
        outer, parent = quote, quote.getparent()
        # Climb the wrappers that hold nothing but the tweet.
        while (
            parent is not None
            and parent.tag not in _TWEET_STOP
            and parent.text_content().strip() == text
        ):
            outer, parent = parent, parent.getparent()
        quote.attrib.clear()
        if outer is not quote and parent is not None:
            quote.tail = outer.tail
            parent.replace(outer, quote)
    return tree


def join_split_bodies(tree: HtmlElement) -> HtmlElement:
    """Gather an article body split over look-alike containers into the first of them.

    Some sites cut the body into chunks with ads in between: several
    ``<div class="article__body">``, each with its own paragraphs. Extractors take one
    chunk and lose the rest. Containers of one tag and class under one grandparent
    that each hold at least two paragraphs of text are joined: their children move
    into the first, in page order. Comment threads look the same and are left alone.
    Changes ``tree`` in place.
    """
    # Keyed by the grandparent element itself: lxml hands out the same proxy object
    # for a node while one is alive, which the key ensures (an id() could be reused).
    groups: dict[tuple[str, str, HtmlElement], list[HtmlElement]] = {}
    for element in tree.iter("div", "section"):
        classes = " ".join((element.get("class") or "").split())
        parent = element.getparent()
        grandparent = parent.getparent() if parent is not None else None
        if not classes or grandparent is None or _COMMENT_CLASS_RE.search(classes):
            continue
        paragraphs = [child for child in element if child.tag == "p"]
        chars = sum(len(p.text_content().strip()) for p in paragraphs)
        if len(paragraphs) >= _CHUNK_MIN_PARAGRAPHS and chars >= _CHUNK_MIN_CHARS:
            # Cousins at most: look-alike blocks further apart (the text of each
            # comment, teaser cards in another column) are not one body.
            groups.setdefault((element.tag, classes, grandparent), []).append(element)
    for first, *others in groups.values():
        for other in others:
            for child in list(other):
                first.append(child)
    return tree


# --------------------------------------------------------------------------- extractors


def _trafilatura(
    tree: HtmlElement,
    url: str | None,
    *,
    favor_recall: bool = False,
    favor_precision: bool = False,
    fast: bool = False,
    with_metadata: bool = False,
) -> Document | None:
    """One trafilatura run (bare_extraction works on its own copy of ``tree``)."""
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            fast=fast,
            favor_recall=favor_recall,
            favor_precision=favor_precision,
            include_comments=False,
            with_metadata=with_metadata,
            date_extraction_params=DATE_PARAMS,
        )
    except (ValueError, TypeError) as error:
        log.debug("trafilatura failed: %s", error)
        return None
    return document if isinstance(document, Document) else None


def _readability_text(tree: HtmlElement) -> str:
    """readability's main text, a line per text node: enough to vote with."""
    try:
        summary = ReadabilityDocument(deepcopy(tree), _READABILITY_MIN_TEXT).summary()
        fragment = lxml.html.fromstring(summary) if summary.strip() else None
    # A voter that fails only abstains; whatever it raised must not lose the page.
    except Exception as error:
        log.debug("readability failed: %s", error)
        return ""
    if fragment is None:
        return ""
    return "\n".join(text.strip() for text in fragment.itertext() if text.strip())


@cache
def _all_stopwords() -> frozenset[str]:
    """Every stop word jusText knows: the page's language is not known at this point."""
    words: set[str] = set()
    for language in justext.get_stoplists():
        words |= justext.get_stoplist(language)
    return frozenset(words)


def _justext_text(tree: HtmlElement) -> str:
    """jusText's paragraphs that are not boilerplate, one per line."""
    try:
        # The preprocessor (scripts, styles, forms and <head> out) cleans a copy.
        cleaned = justext.core.preprocessor(tree)
        paragraphs = justext.core.ParagraphMaker.make_paragraphs(cleaned)
        justext.core.classify_paragraphs(paragraphs, _all_stopwords())
        justext.core.revise_paragraph_classification(paragraphs)
    # A voter that fails only abstains; whatever it raised must not lose the page.
    except Exception as error:
        log.debug("jusText failed: %s", error)
        return ""
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _text(document: Document | None) -> str:
    return (document.text or "") if document is not None else ""


def _field(document: Document | None, name: str) -> str | None:
    value = getattr(document, name, None) if document is not None else None
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


# --------------------------------------------------------------------------- voting


def tokens(text: str) -> list[str]:
    """Lowercased ``\\w+`` tokens: what texts are compared by."""
    return _TOKEN_RE.findall(text.lower())


class _Voter:
    """One extractor's text, indexed to answer "do you have this segment?"."""

    def __init__(self, text: str) -> None:
        words = tokens(text)
        self.empty = not words
        # A space around every token, so that " a b " never matches inside " xa b ".
        self.joined = f" {' '.join(words)} "
        self.ngrams = {tuple(words[i : i + _NGRAM]) for i in range(len(words) - _NGRAM + 1)}

    def has(self, words: Sequence[str]) -> bool:
        if len(words) <= _SHORT_TOKENS:
            return f" {' '.join(words)} " in self.joined
        grams = [tuple(words[i : i + _NGRAM]) for i in range(len(words) - _NGRAM + 1)]
        found = sum(gram in self.ngrams for gram in grams)
        return found >= _SUPPORT_SHARE * len(grams)


def _is_prose(text: str) -> bool:
    """True if some line of ``text`` is longer than a short label."""
    return any(len(tokens(line)) > _SHORT_TOKENS for line in text.split("\n"))


def _segments(text: str) -> Iterator[tuple[int, str]]:
    """(line number, sentence) for every sentence of every non-blank line."""
    lines = (line.strip() for line in text.split("\n"))
    for number, line in enumerate(line for line in lines if line):
        for sentence in _SENTENCE_END_RE.split(line):
            if sentence:
                yield number, sentence


def vote(base: str, voters: Iterable[str]) -> str:
    """The sentences of ``base`` the voters agree on, one line per line of ``base``.

    A sentence stays when a majority of the extractors that found text has it, the
    base included (two of three voters, one of two or of one), or when the sentences on
    both sides of it are agreed. An agreed sentence of ``_SHORT_TOKENS`` words or fewer
    also needs an agreed neighbour. Without voter text there is
    nothing to vote with and every line of ``base`` stays.
    """
    indexed = [voter for voter in map(_Voter, voters) if not voter.empty]
    if not indexed:
        return "\n".join(line.strip() for line in base.split("\n") if line.strip())
    needed = (len(indexed) + 1) // 2
    segments = list(_segments(base))
    agreed, short = [], []
    for _, sentence in segments:
        words = tokens(sentence)
        agreed.append(bool(words) and sum(voter.has(words) for voter in indexed) >= needed)
        short.append(len(words) <= _SHORT_TOKENS)
    last = len(segments) - 1
    kept: dict[int, list[str]] = {}
    for i, (line, sentence) in enumerate(segments):
        before = i > 0 and agreed[i - 1]
        after = i < last and agreed[i + 1]
        if (before and after) or (agreed[i] and (before or after or not short[i])):
            kept.setdefault(line, []).append(sentence)
    return "\n".join(" ".join(sentences) for _, sentences in sorted(kept.items()))


# --------------------------------------------------------------------------- title


def drop_leading_title(body: str, title: str) -> str:
    """``body`` without the headline repeated in its first lines.

    A line goes when its words are the title's, or the start of them (a page title
    often ends with the site's name: "Port strike ends - Gazette").
    """
    title_words = tokens(title)
    if not title_words:
        return body
    lines = body.split("\n")
    for i, line in enumerate(lines[:_TITLE_SEARCH_LINES]):
        words = tokens(line)
        if words == title_words or (
            len(words) >= _TITLE_PREFIX_MIN_TOKENS and title_words[: len(words)] == words
        ):
            return "\n".join(lines[:i] + lines[i + 1 :])
    return body

"""Highlighted snippets: escaped article text with only ``<mark>`` tags added."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

import numpy as np
from whoosh.highlight import (
    Fragment,
    Highlighter,
    HtmlFormatter,
    PinpointFragmenter,
    WholeFragmenter,
    get_text,
)
from whoosh.searching import Hit

from search.analysis import analysing_as
from search.config import LIMITS
from search.postings import term_values

_LINE_BREAKS = re.compile(r"\s*\n\s*")


class MarkFormatter(HtmlFormatter):
    """Whoosh's HTML formatter escapes text; this one also drops its class attributes."""

    def __init__(self) -> None:
        super().__init__(tagname="mark", between=" ")  # fragments carry their own "…"

    def format_token(self, text: str, token: object, replace: bool = False) -> str:
        return f"<mark>{escape(get_text(text, token, replace), quote=False)}</mark>"

    def format_fragment(self, fragment: Fragment, replace: bool = False) -> str:
        """A fragment cut from the middle of the text says so with an ellipsis."""
        formatted = super().format_fragment(fragment, replace=replace).strip()
        if fragment.startchar > 0:
            formatted = "…" + formatted
        if fragment.endchar < len(fragment.text.rstrip()):
            formatted += "…"
        return formatted


class OffsetsHighlighter(Highlighter):
    """Whoosh's highlighter, reading the top hits' stored character offsets block by
    block (search.postings.term_values): Whoosh's ``_load_chars`` stepped through each
    matched word's postings one at a time to reach them. It replaces a private method of
    Whoosh 2.7.4 (pinned); tests/test_snippets.py compares the two."""

    @staticmethod
    def _load_chars(
        results: Any, fieldname: str, texts: Iterable[str], to_bytes: Callable[[str], bytes]
    ) -> None:
        results._char_cache[fieldname] = cache = {}
        hits = sorted(docnum for _, docnum in results.top_n)
        for docnum in hits:
            cache[docnum] = {}
        reader = results.searcher.reader()
        decode = results.searcher.schema[fieldname].format.decoder("characters")
        for text in texts:
            term = to_bytes(text)
            holding = set(results.termdocs[(fieldname, term)])
            wanted = np.array([docnum for docnum in hits if docnum in holding], dtype=np.int64)
            values = term_values(reader, fieldname, term, wanted)
            for docnum, value in zip(wanted.tolist(), values, strict=True):
                cache[docnum][text] = decode(value)


FORMATTER = MarkFormatter()
WHOLE_HEADLINE = Highlighter(fragmenter=WholeFragmenter(), formatter=FORMATTER)
# Pinpoint fragments use the character offsets stored at index time instead of
# re-analysing the whole body for every hit.
FRAGMENTER = PinpointFragmenter(maxchars=LIMITS.snippet_chars, surround=80, autotrim=True)


def snippet(hit: Hit) -> str:
    """Up to two fragments of the body around the matched words; else the whole headline
    with its matches marked; else the start of the body."""
    # The headline is analysed again to find its matches: in the article's language, as
    # it was indexed, or a French headline's words would be stemmed as English ones.
    with analysing_as(hit.get("lang")):
        marked = hit.highlights("body", top=2) or WHOLE_HEADLINE.highlight_hit(
            hit, "headline", top=1
        )
    if marked:
        # Two fragments each cut mid-text meet as "… …": one ellipsis says it.
        return _LINE_BREAKS.sub(" ", marked.strip()).replace("… …", " … ")
    body = _LINE_BREAKS.sub(" ", hit.get("body") or "")
    if len(body) <= LIMITS.snippet_chars:
        return escape(body, quote=False)
    return escape(body[: LIMITS.snippet_chars].rsplit(" ", 1)[0], quote=False) + "…"


def configure(results: object) -> None:
    """Give a Whoosh results object this module's highlighter."""
    results.highlighter = OffsetsHighlighter(  # type: ignore[attr-defined]
        fragmenter=FRAGMENTER, formatter=FORMATTER
    )

"""Highlighted snippets: escaped article text with only ``<mark>`` tags added."""

from __future__ import annotations

import re
from html import escape

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
    """Give a Whoosh results object this module's fragmenter and formatter."""
    results.fragmenter = FRAGMENTER  # type: ignore[attr-defined]
    results.formatter = FORMATTER  # type: ignore[attr-defined]

"""Article body -> HTML: the text escaped, query words in ``<mark>``, entity mentions
linked. The body is untrusted: only the tags added here are ever unescaped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import escape

from whoosh import query as wq

from search.analysis import LanguageText, text_analyzer

Span = tuple[int, int]
# Fields whose words the body shows: a match on these is worth marking in the text.
MARKED_FIELDS = frozenset({"headline", "body", "person", "organization", "place", "other"})
LINKED_KINDS = ("person", "organization", "place")


def query_terms(query: wq.Query) -> tuple[set[str], tuple[str, ...]]:
    """The analysed words and prefixes a query searches for in text fields."""
    words: set[str] = set()
    prefixes: list[str] = []
    leaves = query.leaves() if query.children() else [query]
    for leaf in leaves:
        if leaf.field() not in MARKED_FIELDS:
            continue
        if isinstance(leaf, wq.Prefix):
            prefixes.append(str(leaf.text))
        elif isinstance(leaf, wq.Term):
            words.add(str(leaf.text))
        elif isinstance(leaf, wq.Phrase):
            words.update(str(word) for word in leaf.words)
    return words, tuple(prefixes)


def term_spans(text: str, words: set[str], prefixes: tuple[str, ...], lang: str = "") -> list[Span]:
    """Where the query's words are in ``text``, analysed as the article was indexed: in
    its language ``lang`` (English when not given)."""
    if not words and not prefixes:
        return []
    spans = []
    value = LanguageText(text, lang) if lang else text
    for token in text_analyzer()(value, chars=True, mode="index"):
        if token.text in words or (prefixes and token.text.startswith(prefixes)):
            spans.append((token.startchar, token.endchar))
    return spans


def entity_spans(text: str, names: Iterable[tuple[str, str]]) -> list[tuple[int, int, str, str]]:
    """Non-overlapping mentions (start, end, kind, name), longest names first, whole words."""
    found: list[tuple[int, int, str, str]] = []
    taken: list[Span] = []
    # One kind per name, the first given (person before organization before place).
    kinds: dict[str, str] = {}
    for kind, name in names:
        kinds.setdefault(name, kind)
    for name, kind in sorted(kinds.items(), key=lambda item: -len(item[0])):
        if len(name) < 2:
            continue
        pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)")
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind, name))
    return sorted(found)


def marked(text: str, spans: list[Span], offset: int = 0) -> str:
    """Escaped ``text`` with the spans (absolute positions, minus offset) in <mark>."""
    out = []
    position = 0
    for start, end in spans:
        start, end = max(start - offset, position), min(end - offset, len(text))
        if start >= end:
            continue
        out.append(escape(text[position:start], quote=False))
        out.append(f"<mark>{escape(text[start:end], quote=False)}</mark>")
        position = end
    out.append(escape(text[position:], quote=False))
    return "".join(out)


def paragraph_html(
    text: str,
    entities: dict[str, list[str]],
    words: set[str],
    prefixes: tuple[str, ...],
    link: Callable[[str, str], str],
    lang: str = "",
) -> str:
    names = [(kind, name) for kind in LINKED_KINDS for name in entities.get(kind, [])]
    marks = term_spans(text, words, prefixes, lang)
    out = []
    position = 0
    for start, end, kind, name in entity_spans(text, names):
        out.append(marked(text[position:start], [s for s in marks if s[0] < start], position))
        inner = marked(text[start:end], [s for s in marks if start <= s[0] < end], start)
        href = escape(link(kind, name), quote=True)
        out.append(f'<a class="mention {kind}" href="{href}">{inner}</a>')
        position = end
    out.append(marked(text[position:], [s for s in marks if s[0] >= position], position))
    return "".join(out)


def body_html(
    body: str,
    entities: dict[str, list[str]],
    query: wq.Query | None,
    link: Callable[[str, str], str],
    lang: str = "",
) -> list[str]:
    """One HTML string per non-empty paragraph of the body (in language ``lang``)."""
    words, prefixes = query_terms(query) if query is not None else (set(), ())
    return [
        paragraph_html(paragraph, entities, words, prefixes, link, lang)
        for paragraph in body.split("\n")
        if paragraph.strip()
    ]

"""The per-record stages between reading and indexing.

RawRecord -> clean -> language -> date -> entities -> Article (or Reject); the indexer
then adds semantic vectors (search.semantic) in its own process.
Records go through in batches so that spaCy can batch its work and so that
batches can be spread over worker processes.
"""

from __future__ import annotations

import logging
import re

from search.clean import clean_body, clean_headline
from search.config import ENTITY_LANGUAGES
from search.dates import ParsedDate, find_date_in_text, parse_date, plausible
from search.dedup import article_id, content_hash, raw_fingerprint, story_signature
from search.entities import empty_entities, extract_entities
from search.furniture import LearnedFurniture
from search.language import detect_language
from search.models import Article, RawRecord, Reject

log = logging.getLogger(__name__)
HEADLINE_FROM_BODY_CHARS = 120
# Bounds on what one record may bring. The longest news features run to some 100,000
# characters, headlines to a few hundred; beyond these it is a dump, not an article, and
# cleaning, language detection and story signatures would take minutes over it. The text
# is cut (with a warning), not rejected: what is there is still found.
MAX_HEADLINE_CHARS = 500
MAX_BODY_CHARS = 1_000_000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def process_batch(
    records: list[RawRecord],
    with_entities: bool = True,
    furniture: LearnedFurniture | None = None,
) -> list[Article | Reject]:
    """Clean and understand a batch of records; each comes back as an Article or a Reject.

    ``furniture`` holds lines learned from the corpus (search.furniture); they are dropped
    from each body as well as the fixed furniture patterns.
    """
    processed = [process_record(record, furniture) for record in records]
    if with_entities:
        add_entities([item for item in processed if isinstance(item, Article)])
    else:
        for item in processed:
            if isinstance(item, Article):
                item.entities_status = "entity extraction switched off"
    return processed


def process_record(
    record: RawRecord, furniture: LearnedFurniture | None = None
) -> Article | Reject:
    """Every stage but entities, which run per batch.

    The story signature is made here, in the worker, though only the indexer's single
    process can match it against the others: it is a tenth of that process's work.
    """
    warnings: list[str] = []
    raw_headline, raw_body = bounded_text(record, warnings)
    headline = clean_headline(raw_headline)
    learned = furniture.for_source(record.source) if furniture else frozenset()
    body = clean_body(raw_body, learned)
    if not headline:
        headline = headline_from_body(body)
        if headline:
            warnings.append("no headline: the start of the body stands in for it")
    if not headline and not body:
        return Reject(record.origin, "no text left after cleaning", "empty")
    parsed, date_warnings = article_date(record, body)
    warnings.extend(date_warnings)
    signature = story_signature(body)
    return Article(
        id=article_id(record),
        headline=headline,
        body=body,
        lang=detect_language(headline, body),
        date=parsed.value if parsed else None,
        date_has_time=parsed.has_time if parsed else False,
        source=clean_headline(record.source or ""),
        url=(record.url or "").strip(),
        author=clean_headline(record.author or ""),
        path=record.origin.describe(),
        content_hash=content_hash(headline, body),
        raw_hash=raw_fingerprint(record),
        warnings=warnings,
        signature=signature.to_bytes() if signature else b"",
    )


def bounded_text(record: RawRecord, warnings: list[str]) -> tuple[str, str]:
    """The record's headline and body within the bounds above.

    A "headline" far too long to be one with no body beside it (a one-line file) is
    the body. Cuts fall on a space where there is one near the limit.
    """
    headline, body = record.headline, record.body
    if len(headline) > MAX_HEADLINE_CHARS and not body.strip():
        headline, body = "", headline
        warnings.append("a single line too long for a headline: read as the body")
    if len(headline) > MAX_HEADLINE_CHARS:
        headline = cut(headline, MAX_HEADLINE_CHARS) + "…"
        warnings.append(f"headline cut to {MAX_HEADLINE_CHARS:,} characters")
    if len(body) > MAX_BODY_CHARS:
        warnings.append(f"body cut to {MAX_BODY_CHARS:,} of its {len(body):,} characters")
        body = cut(body, MAX_BODY_CHARS)
    return headline, body


def cut(text: str, limit: int) -> str:
    """``text`` to at most ``limit`` characters, at the last space in its final tenth."""
    head = text[:limit]
    space = head.rfind(" ", limit - limit // 10)
    return head[:space] if space > 0 else head


def headline_from_body(body: str) -> str:
    first_line = body.split("\n", 1)[0]
    sentence = _SENTENCE_END.split(first_line, 1)[0]
    if len(sentence) <= HEADLINE_FROM_BODY_CHARS:
        return sentence
    return sentence[:HEADLINE_FROM_BODY_CHARS].rsplit(" ", 1)[0] + "…"


def article_date(record: RawRecord, body: str) -> tuple[ParsedDate | None, list[str]]:
    """The metadata date, else one in the dateline; never a guessed one."""
    warnings = []
    parsed = parse_date(record.date) if record.date else None
    if record.date and parsed is None:
        warnings.append(f"date {record.date[:60]!r} could not be read")
    if parsed is None:
        parsed = find_date_in_text(body)
    if parsed is not None and not plausible(parsed):
        day = parsed.value.date().isoformat()
        warnings.append(f"date {day} is implausible: treated as unknown")
        log.warning("%s: implausible date %s ignored", record.origin.describe(), parsed.value)
        parsed = None
    return parsed, warnings


def add_entities(articles: list[Article]) -> None:
    """Entities for articles in a language the model reads; a note for the others."""
    for lang in sorted({a.lang for a in articles if a.lang in ENTITY_LANGUAGES}):
        readable = [a for a in articles if a.lang == lang]  # one model per language
        texts = [f"{a.headline}\n\n{a.body}" for a in readable]
        for article, found in zip(readable, extract_entities(texts, lang=lang), strict=True):
            article.entities = found
    for article in articles:
        if article.lang not in ENTITY_LANGUAGES:
            article.entities = empty_entities()
            article.entities_status = f"no entity model for language '{article.lang}'"

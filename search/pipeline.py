"""The per-record stages between reading and indexing.

RawRecord -> clean -> language -> date -> entities -> Article (or Reject).
Records go through in batches so that spaCy can batch its work and so that
batches can be spread over worker processes.
"""

from __future__ import annotations

import logging
import re

from search.clean import clean_body, clean_headline
from search.config import ENTITY_LANGUAGES
from search.dates import ParsedDate, find_date_in_text, parse_date, plausible
from search.dedup import article_id, content_hash, raw_fingerprint
from search.entities import empty_entities, extract_entities
from search.furniture import LearnedFurniture
from search.language import detect_language
from search.models import Article, RawRecord, Reject

log = logging.getLogger(__name__)
HEADLINE_FROM_BODY_CHARS = 120
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
    """Every stage but entities, which run per batch."""
    headline = clean_headline(record.headline)
    learned = furniture.for_source(record.source) if furniture else frozenset()
    body = clean_body(record.body, learned)
    warnings: list[str] = []
    if not headline:
        headline = headline_from_body(body)
        if headline:
            warnings.append("no headline: the start of the body stands in for it")
    if not headline and not body:
        return Reject(record.origin, "no text left after cleaning", "empty")
    parsed, date_warnings = article_date(record, body)
    warnings.extend(date_warnings)
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
    )


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

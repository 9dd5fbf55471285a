"""Learn site furniture from the corpus: short lines that recur across many articles.

The fixed patterns in ``search.clean`` know the furniture every site has ("Advertisement",
"Share this article"); they cannot know that one site ends each story with "Get the Daily
Brief in your inbox". That line gives itself away by repetition: it appears, word for word,
in a large share of that site's articles, while a real line of text appears in one article
(or a handful, when a story is syndicated or a quote is reused).

``FurnitureLearner`` reads the records once, before they are cleaned, and counts in how
many distinct articles each candidate line occurs, within the article's source and over
the whole corpus. A candidate is a short line (at most ``max_words`` words and
``max_chars`` characters) that could stand alone. What it never counts, because such
lines repeat for honest reasons:

* lines with a digit ("Record April 1", "2000 GMT"): data, scores and times are content;
* lines next to a short line with a digit: the headings and row labels of tables
  ("Nine mths" above "Shr 40 cts vs 35 cts", "Open high low"), which recur in every
  earnings or prices report;
* quoted speech (a line that opens with a quotation mark) and bylines ("By Jane Ruiz"):
  the same quote or author recurs across a series of stories;
* a piece of a hard-wrapped sentence ("the company said." after a line that did not end
  its sentence): newswire text repeats such fragments across thousands of articles, and
  ``remove_furniture`` keeps such a pair whatever the learned lines say;
* lines of exact duplicate articles after the first (the same story filed twice is one
  article, not two votes).

A line is learned for a scope (one source, or the whole corpus) when it occurs in at least
``max(min_articles, ceil(min_share * n))`` of the scope's ``n`` distinct articles. A line
mostly written as a sentence (four or more words ending in ".", "!", "?" or "…") needs
``sentence_share`` instead: a short sentence can legitimately recur ("Terms were not
disclosed." in acquisition news), a template line recurs in a large share of a site's pages.
Learned per source, a line is dropped from that source's articles only; learned
corpus-wide, from every article.

Defaults and why. Furniture is part of a site's template, so it sits on a large share of
that site's articles (18-35 % for each line of a site's template in the BBC evaluation,
where a site spreads each slot over three or four lines; nearer 100 % on real sites). Real
short lines recur far less: in the 19,448 distinct Reuters-21578 bodies no candidate is on
more than 0.3 % of them (the most frequent is "Terms were not disclosed."), nor on more
than 1 % within any one of its 22 files, while without the table rule "Year" and "Nine
mths" reach 24 % of a file. Hence 5 %, and 20 % for sentences. At least 5 articles,
whatever the share, so that a small corpus never learns from two or three coincidences.
10 words / 80 characters: every furniture line in the evaluation fits, while the recurring
author notes of the BBC corpus ("Bill Thompson is a regular commentator on the BBC World
Service programme Go Digital", 14 words, in 7 articles) are prose and stay.

Memory is bounded: counts are kept per (scope, line key) for candidates only, and when more
than ``max_tracked`` are held the rarest are forgotten (counts can then only be too low,
which may miss furniture but never removes a real line). Exact duplicates are recognised
by an 8-byte digest per article.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.clean import clean_headline, clean_text, ends_sentence, furniture_key, open_pair
from search.models import RawRecord, Reject

__all__ = [
    "FURNITURE_FILE",
    "FurnitureLearner",
    "LearnedFurniture",
    "learn_furniture",
    "source_scope",
]

log = logging.getLogger(__name__)

FURNITURE_FILE = "furniture.json"
_FORMAT_VERSION = 1

MIN_ARTICLES = 5
MIN_SHARE = 0.05
SENTENCE_SHARE = 0.20
MAX_WORDS = 10
MAX_CHARS = 80
MAX_TRACKED = 500_000
# As in search.clean: "Read on." is not a sentence, "He declined to comment." is.
_SENTENCE_MIN_WORDS = 4

# Quotation marks that open speech; a line starting with one is a quote, not furniture.
_OPENING_QUOTES = "\"'“‘„«‹"

# None stands for the whole corpus; a string is one source.
Scope = str | None


def source_scope(source: str | None) -> str:
    """The scope name of a source: cleaned, case-folded; "" when there is no source."""
    if not source:
        return ""
    return clean_headline(source).casefold()


@dataclass(frozen=True)
class LearnedFurniture:
    """Learned furniture keys (``furniture_key`` form): corpus-wide and per source."""

    common: frozenset[str] = frozenset()
    by_source: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def for_source(self, source: str | None) -> frozenset[str]:
        """The keys to drop from an article of ``source``: its source's and the common ones."""
        own = self.by_source.get(source_scope(source))
        return self.common | own if own else self.common

    def __len__(self) -> int:
        return len(self.common) + sum(len(keys) for keys in self.by_source.values())

    def union(self, other: LearnedFurniture) -> LearnedFurniture:
        """Both sets of keys; used to keep the keys of earlier runs on an index."""
        sources = set(self.by_source) | set(other.by_source)
        by_source = {
            name: self.by_source.get(name, frozenset()) | other.by_source.get(name, frozenset())
            for name in sources
        }
        return LearnedFurniture(self.common | other.common, by_source)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _FORMAT_VERSION,
            "common": sorted(self.common),
            "by_source": {name: sorted(keys) for name, keys in sorted(self.by_source.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> LearnedFurniture:
        """Parse ``to_json``'s output; ValueError if it is not that."""
        if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION:
            raise ValueError("not a furniture file of a known version")
        common, by_source = data.get("common", []), data.get("by_source", {})
        if not _is_str_list(common) or not isinstance(by_source, dict):
            raise ValueError("furniture file has the wrong shape")
        for name, keys in by_source.items():
            if not isinstance(name, str) or not _is_str_list(keys):
                raise ValueError("furniture file has the wrong shape")
        return cls(
            frozenset(common), {name: frozenset(keys) for name, keys in by_source.items() if keys}
        )

    def save(self, path: Path) -> None:
        """Write atomically: a reader never sees half a file."""
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> LearnedFurniture:
        """The keys saved at ``path``; empty when there is none or it cannot be read."""
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as error:
            # The keys only improve cleaning; a damaged file must not stop indexing.
            log.warning("%s ignored: %s", path, error)
            return cls()


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class FurnitureLearner:
    """Counts candidate lines per source and corpus-wide; ``learned()`` applies the thresholds."""

    def __init__(
        self,
        *,
        min_articles: int = MIN_ARTICLES,
        min_share: float = MIN_SHARE,
        sentence_share: float = SENTENCE_SHARE,
        max_words: int = MAX_WORDS,
        max_chars: int = MAX_CHARS,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        if min_articles < 2:
            raise ValueError("min_articles must be at least 2: one article is not a pattern")
        self.min_articles = min_articles
        self.min_share = min_share
        self.sentence_share = sentence_share
        self.max_words = max_words
        self.max_chars = max_chars
        self.max_tracked = max_tracked
        # (scope, key) -> distinct articles it occurs in; and those where it read as a
        # sentence ("Sign up now." and "SIGN UP NOW »" are one key, counted together).
        self._counts: Counter[tuple[Scope, str]] = Counter()
        self._sentences: Counter[tuple[Scope, str]] = Counter()
        self._articles: Counter[Scope] = Counter()
        self._seen: set[bytes] = set()

    def observe(self, body: str, source: str | None = None) -> None:
        """Count the candidate lines of one article's raw body."""
        scope = source_scope(source)
        digest = hashlib.blake2b(
            f"{scope}\n{body}".encode("utf-8", "surrogatepass"), digest_size=8
        ).digest()
        if digest in self._seen:
            return
        self._seen.add(digest)
        candidates = self.candidates(clean_text(body))
        scopes: tuple[Scope, ...] = (None, scope) if scope else (None,)
        for name in scopes:
            self._articles[name] += 1
            for key, sentence in candidates:
                self._counts[name, key] += 1
                if sentence:
                    self._sentences[name, key] += 1
        if len(self._counts) > self.max_tracked:
            self._forget_rarest()

    def observe_record(self, record: RawRecord) -> None:
        self.observe(record.body, record.source)

    def candidates(self, text: str) -> set[tuple[str, bool]]:
        """(key, reads as a sentence) of each line of clean ``text`` that may be furniture."""
        lines = text.split("\n")
        found: set[tuple[str, bool]] = set()
        for i, line in enumerate(lines):
            if not line or len(line) > self.max_chars * 2:  # quick reject of paragraphs
                continue
            key = furniture_key(line)
            if not key or len(key) > self.max_chars:
                continue
            words = key.count(" ") + 1
            if words > self.max_words:
                continue
            if any(char.isdigit() for char in key):
                continue
            if line[0] in _OPENING_QUOTES or key.startswith("by "):
                continue
            before = lines[i - 1] if i else ""
            after = lines[i + 1] if i + 1 < len(lines) else ""
            if open_pair(before, line) or open_pair(line, after):
                continue  # part of a hard-wrapped sentence; remove_furniture keeps it too
            if self._figures(before) or self._figures(after):
                continue  # a table's heading or row label ("Nine mths", "Open high low")
            sentence = words >= _SENTENCE_MIN_WORDS and ends_sentence(line)
            found.add((key, sentence))
        return found

    def _figures(self, line: str) -> bool:
        """A short line with a digit: a row of a table ("Shr 12 cts vs 10 cts")."""
        return line.count(" ") < self.max_words and any(char.isdigit() for char in line)

    def _forget_rarest(self) -> None:
        """Drop the least frequent keys until half the table is free (bounded memory)."""
        floor = 1
        while len(self._counts) > self.max_tracked // 2:
            self._counts = Counter({k: c for k, c in self._counts.items() if c > floor})
            floor += 1
        self._sentences = Counter({k: c for k, c in self._sentences.items() if k in self._counts})

    def needed(self, articles: int, sentence: bool) -> int:
        """How many of a scope's ``articles`` a line must occur in to be learned."""
        share = self.sentence_share if sentence else self.min_share
        return max(self.min_articles, math.ceil(share * articles))

    def learned(self) -> LearnedFurniture:
        common: set[str] = set()
        by_source: dict[str, set[str]] = {}
        for (scope, key), count in self._counts.items():
            sentence = 2 * self._sentences[scope, key] > count  # mostly written as a sentence
            if count < self.needed(self._articles[scope], sentence):
                continue
            if scope is None:
                common.add(key)
            else:
                by_source.setdefault(scope, set()).add(key)
        return LearnedFurniture(
            frozenset(common),
            {name: frozenset(keys - common) for name, keys in by_source.items() if keys - common},
        )

    @property
    def articles(self) -> int:
        """Distinct articles observed."""
        return self._articles[None]


def learn_furniture(
    items: Iterable[RawRecord | Reject], learner: FurnitureLearner | None = None
) -> LearnedFurniture:
    """One pass over a stream of records (rejects are skipped): the furniture it repeats."""
    learner = learner or FurnitureLearner()
    for item in items:
        if isinstance(item, RawRecord):
            learner.observe_record(item)
    return learner.learned()

"""Settings with their defaults and the reason for each, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

INDEX_ENV = "NEWSEARCH_INDEX"
DEFAULT_INDEX = Path("index")


def resolve_index_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--index DIR``, else ``$NEWSEARCH_INDEX``, else ``./index``."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(INDEX_ENV)
    return Path(from_env) if from_env else DEFAULT_INDEX


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one request from taking the server down."""

    max_per_page: int = 100  # the API contract: per_page over 100 is a 400
    max_page: int = 1000  # deeper than this, a user should narrow the query
    max_query_chars: int = 1000  # longer text is not a query someone typed
    max_prefix_terms: int = 256  # cap on terms a prefix like econom* expands to
    min_prefix_chars: int = 3  # shorter prefixes match most of the vocabulary
    facet_size: int = 10  # values shown per facet
    snippet_chars: int = 240  # length of a snippet fragment
    search_seconds: float = 10.0  # matching + ranking one search; generous for 2-core boxes
    # Searches one process runs at once (search/admission.py says why one); more wait.
    concurrent_searches: int = 1
    queue_seconds: float = 30.0  # a search waiting longer for its turn is answered "busy"


LIMITS = Limits()


@dataclass(frozen=True)
class Ranking:
    """How matches are scored; the defaults are chosen by cross-validation in
    scripts/eval_relevance.py, never by hand on the whole judged set."""

    k1: float = 2.0  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation
    headline_boost: float = 0.7  # what a word in the headline counts (one in the body counts 1)
    entity_boost: float = 0.1  # a word in an entity name (person, place, ...)
    and_max_words: int = 3  # longer plain queries are ranked OR instead of requiring every word
    # Longer plain queries leave out function words ("what", "which", "has"): a sentence's
    # telling words rank better alone (search/stopwords.py).
    long_query_stop_words: bool = True
    # What share of a plain query's score is the semantic similarity of query and article
    # (search.hybrid); the rest is BM25F over the best match's. 0 ranks by words alone.
    semantic_share: float = 0.7
    # Long plain queries also bring in this many articles nearest in meaning that share
    # none of the query's words (vocabulary mismatch: "moon project" vs "lunar program").
    semantic_candidates: int = 100
    # ...if they are this near (cosine): 0.4 kept all of the gain on TIME, 0.5 lost it, and
    # unrelated news scores about 0.0-0.25.
    semantic_min_similarity: float = 0.4


RANKING = Ranking()

# Languages with an NER model (search/entities.py MODELS); others get no entities (never
# guesses). French: fr_core_news_sm scored F1 0.78 on WiNER-fr (scripts/eval_entities.py).
ENTITY_LANGUAGES = frozenset({"en", "fr"})
# Enough text for the language model to be sure; more costs time without changing the answer.
LANGUAGE_SAMPLE_CHARS = 2000
# spaCy reads at most this much of a body: entities past it are rarely new.
ENTITY_SAMPLE_CHARS = 20000

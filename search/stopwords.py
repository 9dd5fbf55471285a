"""Function words dropped from long natural-language queries.

A sentence typed into the box ("what countries have newly joined the United Nations")
is about its telling words; its function words still match most articles and, under
BM25, add a little score to every long article. The index drops only Whoosh's short
lists; spaCy's longer ones are applied to long plain queries alone, and only to a word
that is a function word in every language the query is read in, so that in a mixed index
German "war" or French "car" stays a word for an English query.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import lru_cache

# Keeps "U.S." and "Adoula's" whole, as the index tokenizer does; query.py's \w+ would split them.
_WORD = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*")


@lru_cache(maxsize=32)
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for ``lang``; none for a language spaCy has no list for."""
    try:
        module = importlib.import_module(f"spacy.lang.{lang}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(word.lower() for word in getattr(module, "STOP_WORDS", ()))


def drop_stop_words(text: str, langs: Iterable[str] = ("en",)) -> str:
    """``text`` without the words that are stop words in each of ``langs``; unchanged
    when nothing else would be left."""
    lists = [stop_words(lang) for lang in langs]
    words = frozenset.intersection(*lists) if lists else frozenset()
    kept = [w for w in _WORD.findall(text) if w.lower() not in words]
    return " ".join(kept) if kept else text

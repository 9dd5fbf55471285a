"""Language identification with langdetect: ISO 639-1 codes, ``und`` when unsure."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from search.config import LANGUAGE_SAMPLE_CHARS

UNDETERMINED = "und"
# Below this many letters langdetect guesses more than it knows.
MIN_LETTERS = 20
# langdetect's probability for its best answer; lower means a mixed or odd text.
MIN_CONFIDENCE = 0.70
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

# Without a fixed seed langdetect answers differently for the same short text.
DetectorFactory.seed = 0


def detect_language(headline: str, body: str = "") -> str:
    """The language of an article (headline + the start of its body), or ``und``."""
    sample = f"{headline}\n{body}"[:LANGUAGE_SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return UNDETERMINED
    try:
        candidates = detect_langs(sample)
    except LangDetectException:
        return UNDETERMINED
    best = candidates[0]
    if best.prob < MIN_CONFIDENCE:
        return UNDETERMINED
    return best.lang

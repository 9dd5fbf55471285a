"""Language identification: an ISO 639-1 code for an article, or ``und`` when the text can't tell.

Three steps, cheapest first:

1. **Script.** Letters are counted per writing system. A script that only one supported language
   writes (Greek, Hebrew, Thai, Hangul, kana, Armenian, Georgian, most Indic scripts...) settles
   the answer without a model: no statistical guess can beat it, and it works on a headline of a
   few characters. A text whose script is unknown (e.g. Ethiopic, written by several languages)
   is ``und``.
2. **Model.** Otherwise py3langid's naive Bayes model (it ships inside its wheel, so nothing is
   fetched at run time) ranks the languages written in the scripts that make up a real share of
   the text. It is the primary model because it measured more accurate than langdetect on the
   project's test set (see ``scripts/eval_language.py``), five times faster, and it is
   deterministic without a seed.
3. **Second opinion.** A short text (under 30 letters: a headline alone) that the model is not
   sure of is also given to langdetect. Unless both agree, and the model gives its answer at
   least even odds, it is ``und``: a wrong language is worse than none, since it hides the
   article behind the wrong language filter for good.

Supported: langdetect's languages (54 codes; what the index has always named), the single-script
languages that step 1 names for free (hy ka km lo my or si), and 15 that py3langid adds and the
test set shows it can tell apart (``_SCRIPT_CANDIDATES`` lists them and the ones left out).
Anything else is answered with the nearest supported language or ``und``.

Codes are ISO 639-1, so langdetect's ``zh-cn`` and ``zh-tw`` are both ``zh``: 639-1 has no script
subtag, and simplified and traditional Chinese are one language to search in. Norwegian is
``no`` (Bokmål and Nynorsk are not told apart).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from search.config import LANGUAGE_SAMPLE_CHARS

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

__all__ = ["SUPPORTED", "UNDETERMINED", "Detection", "detect_language", "identify"]

UNDETERMINED = "und"

# Unicode blocks per script. Combining vowel signs of the Indic scripts sit inside their blocks,
# so they count as letters of that script, which is what a reader would count too.
_SCRIPT_RANGES: dict[str, str] = {
    "Latin": "A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
    "Greek": "\u0370-\u03ff\u1f00-\u1fff",
    "Cyrillic": "\u0400-\u052f",
    "Armenian": "\u0531-\u058f",
    "Hebrew": "\u05d0-\u05ea\u05f0-\u05f2\ufb1d-\ufb4f",
    "Arabic": "\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff"
    "\ufb50-\ufdff\ufe70-\ufeff",
    "Devanagari": "\u0900-\u0963\u0971-\u097f",
    "Bengali": "\u0980-\u09e3\u09f0-\u09f1",
    "Gurmukhi": "\u0a00-\u0a65\u0a70-\u0a7f",
    "Gujarati": "\u0a80-\u0ae5\u0af0-\u0aff",
    "Oriya": "\u0b00-\u0b65\u0b70-\u0b7f",
    "Tamil": "\u0b80-\u0be5\u0bf0-\u0bff",
    "Telugu": "\u0c00-\u0c65\u0c70-\u0c7f",
    "Kannada": "\u0c80-\u0ce5\u0cf0-\u0cff",
    "Malayalam": "\u0d00-\u0d65\u0d70-\u0d7f",
    "Sinhala": "\u0d80-\u0de5\u0df0-\u0dff",
    "Thai": "\u0e01-\u0e4e",
    "Lao": "\u0e81-\u0ecf\u0edc-\u0edf",
    "Myanmar": "\u1000-\u103f\u1050-\u108f",
    "Georgian": "\u10a0-\u10ff\u1c90-\u1cbf",
    "Hangul": "\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3",
    "Ethiopic": "\u1200-\u137f",
    "Khmer": "\u1780-\u17dd",
    "Kana": "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9d",
    "Han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f",
}
_SCRIPTS = re.compile("|".join(f"(?P<{name}>[{chars}])" for name, chars in _SCRIPT_RANGES.items()))

# Scripts that one supported language alone writes: the script is the answer.
_SCRIPT_LANGUAGE: dict[str, str] = {
    "Greek": "el",
    "Hebrew": "he",  # Yiddish too, but no supported language besides Hebrew
    "Armenian": "hy",
    "Bengali": "bn",  # Assamese shares it; it is not supported
    "Gurmukhi": "pa",
    "Gujarati": "gu",
    "Oriya": "or",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Sinhala": "si",
    "Thai": "th",
    "Lao": "lo",
    "Myanmar": "my",
    "Georgian": "ka",
    "Hangul": "ko",
    "Kana": "ja",
    "Khmer": "km",
}


def _codes(codes: str) -> tuple[str, ...]:
    return tuple(codes.split())


# Scripts that several supported languages write: the model chooses among these. First
# langdetect's languages, then those that py3langid adds and the test set measures: it tells each
# of them apart at no cost to the others. Left out because they cost their close neighbours more
# than they gained: Bosnian and Serbian (Croatian, Macedonian), Malay (Indonesian), Nynorsk
# (Norwegian), Turkmen (Turkish), Javanese (Indonesian); and every language the test set lacks.
_SCRIPT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "Latin": _codes(
        "af ca cs cy da de en es et fi fr hr hu id it lt lv nl no pl pt ro sk sl so sq sv sw tl tr "
        "vi  az eo eu ga is la lg sn st xh yo zu"
    ),
    "Cyrillic": _codes("bg mk ru uk  be kk mn"),
    "Arabic": _codes("ar fa ur"),
    "Devanagari": _codes("hi mr ne"),
    "Han": _codes("zh ja"),  # Japanese written in kanji alone, as some headlines are
}
SUPPORTED: frozenset[str] = frozenset(_SCRIPT_LANGUAGE.values()).union(*_SCRIPT_CANDIDATES.values())
_MODEL_LANGUAGES = sorted(SUPPORTED)

# Japanese mixes kana into almost every sentence; a Chinese text has none but for a stray
# character in a name. Below this share of kana among Han + kana the text is read as Han.
MIN_KANA_SHARE = 0.1
# A script with at least this share of a text's letters puts its languages up for choice.
MIN_SCRIPT_SHARE = 0.1
# A script of its own needs only a few letters to be sure of (a two-word Greek headline).
MIN_SCRIPT_LETTERS = 3
# Fewer letters than this and even two models agreeing are too often wrong together.
MIN_LETTERS = 10
# From this many letters on (a headline of five or six words), the model's answer stands on its
# own: asking langdetect there turned more right answers into und than wrong ones.
CONFIDENT_LETTERS = 30
# ...and so does any answer the model is this sure of (its probability among the candidates).
CONFIDENT_PROBABILITY = 0.9
# Below that, langdetect must agree, and even then the model must find its answer more likely
# than all the others together: on short Cyrillic and Devanagari texts the two were often wrong
# together about answers the model gave less than even odds.
AGREED_PROBABILITY = 0.5

_LANGDETECT_CODES = {"zh-cn": "zh", "zh-tw": "zh"}

# Without a fixed seed langdetect answers differently for the same short text.
DetectorFactory.seed = 0


@dataclass(frozen=True)
class Detection:
    """An answer with how it was reached, for evaluation and debugging."""

    lang: str
    method: str  # "script", "model", "agreed" (model and langdetect) or why it is "und"
    probability: float = 1.0  # the model's, among the candidates; 1.0 for a script


@cache
def _identifier() -> LanguageIdentifier:
    """py3langid's model, restricted to the languages offered; loaded once per process."""
    # Imported here: loading the model takes ~0.4 s and ~120 MB, which the CLI's other
    # commands and the web app never need.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(_MODEL_LANGUAGES)
    return identifier


def _script_counts(text: str) -> Counter[str]:
    return Counter(match.lastgroup for match in _SCRIPTS.finditer(text) if match.lastgroup)


def _writing_systems(counts: Counter[str]) -> Counter[str]:
    """Letters per writing system: Han and kana are one for Japanese, Han alone for Chinese."""
    systems = Counter(counts)
    han, kana = systems.pop("Han", 0), systems.pop("Kana", 0)
    if han + kana:
        systems["Kana" if kana >= MIN_KANA_SHARE * (han + kana) else "Han"] = han + kana
    return systems


def _langdetect(text: str) -> str:
    try:
        best = detect_langs(text)[0].lang
    except LangDetectException:  # no features in the text
        return UNDETERMINED
    return _LANGDETECT_CODES.get(best, best)


def _decide(
    counts: Counter[str],
    rank: Callable[[], Iterable[tuple[str, float]]],
    second_opinion: Callable[[], str],
) -> Detection:
    """The decision of :func:`identify`, given the text's letters per script and its models.

    The models are called only when the script leaves a choice, since they cost the time.
    """
    systems = _writing_systems(counts)
    if not systems:
        return Detection(UNDETERMINED, "no letters", 0.0)
    script, script_letters = systems.most_common(1)[0]
    if script in _SCRIPT_LANGUAGE:
        if script_letters < MIN_SCRIPT_LETTERS:
            return Detection(UNDETERMINED, "too few letters", 0.0)
        return Detection(_SCRIPT_LANGUAGE[script], "script")
    if script not in _SCRIPT_CANDIDATES:
        return Detection(UNDETERMINED, f"unsupported script {script}", 0.0)
    letters = systems.total()
    if letters < MIN_LETTERS:
        return Detection(UNDETERMINED, "too few letters", 0.0)
    # Every script with a real share of the letters names candidates, not just the main one:
    # an Urdu page is often half English menus, and its Urdu is what the model should see.
    candidates = {
        lang
        for name, count in systems.items()
        if count >= MIN_SCRIPT_SHARE * letters
        for lang in _script_languages(name)
    }
    scores = {lang: score for lang, score in rank() if lang in candidates}
    best = max(scores, key=scores.__getitem__)
    probability = scores[best] / (sum(scores.values()) or 1.0)
    if letters >= CONFIDENT_LETTERS or probability >= CONFIDENT_PROBABILITY:
        return Detection(best, "model", probability)
    if probability < AGREED_PROBABILITY:
        return Detection(UNDETERMINED, "model unsure", probability)
    if second_opinion() == best:
        return Detection(best, "agreed", probability)
    return Detection(UNDETERMINED, "models disagree", probability)


def _script_languages(script: str) -> tuple[str, ...]:
    if script in _SCRIPT_LANGUAGE:
        return (_SCRIPT_LANGUAGE[script],)
    return _SCRIPT_CANDIDATES.get(script, ())


def identify(text: str) -> Detection:
    """The language of ``text`` and how it was decided."""
    return _decide(
        _script_counts(text), lambda: _identifier().rank(text), lambda: _langdetect(text)
    )


def detect_language(headline: str, body: str = "") -> str:
    """The language of an article (headline + the start of its body), or ``und``."""
    return identify(f"{headline}\n{body}"[:LANGUAGE_SAMPLE_CHARS]).lang

"""Measure the project's language identification beside plain langdetect, in the same run.

Usage: python scripts/eval_language.py [--data DIR] [--json OUT] [--per-language N] [--others]

Data: ``langid/lingua-sentences-300.tsv`` (Lingua's test sentences, 300 per language; see its
PROVENANCE.md), restricted to the 50 languages that langdetect supports. ``--data`` is the shared
data folder (or the ``langid`` folder itself); by default ../shared/data beside the repository,
or $NEWSEARCH_SHARED_DATA. Only the local file is read; nothing is downloaded.

Figures, each for the project (``search.language.detect_language``) and for plain langdetect
(``DetectorFactory.seed = 0``, ``detect()``, its ``zh-cn``/``zh-tw`` scored as ``zh``):

* sentence accuracy: every sentence on its own. ``und`` counts as wrong.
* article accuracy: sentences 1-5, 6-10, ... of one language joined by spaces, in file order.
* per-language accuracy, and the five worst languages.
* short texts, under 30 characters: how often the answer is right, wrong or ``und``. Two sets:
  the sentences that are that short already, and "headlines": every sentence cut at its last
  space before 30 characters (or at 29 characters where it has no space, as in Chinese).
* speed: milliseconds per 50-word and 500-word text (sentences of one language joined, cut at
  that many words; languages written without spaces between words are left out).

``--others`` adds the test set's 25 other languages, right / und / wrong per language: Norwegian
(nb and nn, right when answered ``no``), the 17 the project supports beyond langdetect (Armenian
and Georgian by their scripts, 15 through py3langid) and the rest, which only either system
can get wrong or leave ``und``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a file: make the project importable without install
    sys.path.insert(0, str(REPO))

from langdetect import DetectorFactory, detect  # noqa: E402
from langdetect.lang_detect_exception import LangDetectException  # noqa: E402

from search.language import UNDETERMINED, detect_language  # noqa: E402

DATA_FILE = "lingua-sentences-300.tsv"
# The 50 languages of the test set that langdetect knows (its PROVENANCE.md lists them).
_LANGDETECT_50 = (
    "af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu id it ja ko lt lv mk mr nl "
    "pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh"
)
LANGDETECT_50 = frozenset(_LANGDETECT_50.split())
ARTICLE_SENTENCES = 5
SHORT_CHARS = 30
SPEED_WORDS = (50, 500)
NO_SPACES = frozenset({"ja", "th", "zh"})
# Test-set codes that stand for a language the detectors name differently.
SAME_LANGUAGE = {"nb": "no", "nn": "no"}

Sample = tuple[str, str]  # (expected language, text)
Detector = Callable[[str], str]


def data_file(data: Path | None) -> Path:
    """The TSV inside ``data`` (the shared data folder or its langid folder)."""
    root = data or Path(os.environ.get("NEWSEARCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    for candidate in (root / DATA_FILE, root / "langid" / DATA_FILE):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"{DATA_FILE} not found in {root} or {root / 'langid'}")


def load_sentences(path: Path) -> dict[str, list[str]]:
    """Sentences per language, in file order."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        header = next(lines).rstrip("\n")
        if header != "lang\ttext":
            raise SystemExit(f"{path}: unexpected header {header!r}")
        for line in lines:
            lang, text = line.rstrip("\n").split("\t", 1)
            by_lang[lang].append(text)
    return dict(by_lang)


def sentences(by_lang: dict[str, list[str]], per_language: int | None = None) -> list[Sample]:
    return [(lang, text) for lang, texts in by_lang.items() for text in texts[:per_language]]


def articles(by_lang: dict[str, list[str]], per_language: int | None = None) -> list[Sample]:
    """Consecutive groups of five sentences of one language; a short last group is dropped."""
    samples = []
    for lang, texts in by_lang.items():
        texts = texts[:per_language]
        for start in range(0, len(texts) - ARTICLE_SENTENCES + 1, ARTICLE_SENTENCES):
            samples.append((lang, " ".join(texts[start : start + ARTICLE_SENTENCES])))
    return samples


def headline(text: str) -> str:
    """The text cut to under 30 characters: at its last space before then, if it has one."""
    if len(text) < SHORT_CHARS:
        return text
    cut = text[: SHORT_CHARS - 1]
    space = cut.rstrip().rfind(" ")
    return (cut[:space] if space > 0 else cut).strip()


def project(text: str) -> str:
    # The test set has no headlines; the whole text goes in as the body would.
    return detect_language("", text)


def plain_langdetect(text: str) -> str:
    try:
        answer = detect(text)
    except LangDetectException:  # raised when the text has no letters it knows
        return UNDETERMINED
    return "zh" if answer.startswith("zh") else answer


def outcomes(detector: Detector, samples: Sequence[Sample]) -> list[str]:
    """The detector's answer for each sample, in order."""
    return [detector(text) for _, text in samples]


def score(samples: Sequence[Sample], answers: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-language accuracy, und and wrong counts, commonest confusions."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    und = wrong = 0
    confusions: Counter[str] = Counter()
    for (expected, _), answer in zip(samples, answers, strict=True):
        total[expected] += 1
        if answer == SAME_LANGUAGE.get(expected, expected):
            right[expected] += 1
        elif answer == UNDETERMINED:
            und += 1
        else:
            wrong += 1
            confusions[f"{expected}->{answer}"] += 1
    count = sum(total.values())
    per_language = {lang: right[lang] / total[lang] for lang in sorted(total)}
    return {
        "n": count,
        "accuracy": sum(right.values()) / count if count else 0.0,
        "right": sum(right.values()),
        "und": und,
        "wrong": wrong,
        "per_language": per_language,
        "worst5": sorted(per_language.items(), key=lambda item: (item[1], item[0]))[:5],
        "confusions": confusions.most_common(10),
    }


def speed(detector: Detector, by_lang: dict[str, list[str]], words: int) -> float:
    """Median over languages of the per-text median of 5 runs, in milliseconds."""
    per_language = []
    for lang, texts in sorted(by_lang.items()):
        if lang in NO_SPACES:
            continue
        tokens = " ".join(texts).split()
        if len(tokens) < words:
            continue
        text = " ".join(tokens[:words])
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            detector(text)
            runs.append(time.perf_counter() - start)
        per_language.append(statistics.median(runs))
    return 1000 * statistics.median(per_language)


def evaluate(
    by_lang: dict[str, list[str]], systems: dict[str, Detector], per_language: int | None
) -> dict[str, Any]:
    """Every figure for every system, on the 50 languages langdetect supports."""
    chosen = {lang: texts for lang, texts in by_lang.items() if lang in LANGDETECT_50}
    single = sentences(chosen, per_language)
    sets = {
        "sentences": single,
        "articles": articles(chosen, per_language),
        "short_sentences": [(lang, text) for lang, text in single if len(text) < SHORT_CHARS],
        "short_headlines": [(lang, headline(text)) for lang, text in single],
    }
    report: dict[str, Any] = {
        "languages": len(chosen),
        "sets": {k: len(v) for k, v in sets.items()},
    }
    for name, detector in systems.items():
        detector("Warm-up: the model loads on first use.")
        report[name] = {
            key: score(samples, outcomes(detector, samples)) for key, samples in sets.items()
        }
        report[name]["ms_per_text"] = {str(n): speed(detector, chosen, n) for n in SPEED_WORDS}
    return report


def evaluate_others(
    by_lang: dict[str, list[str]], systems: dict[str, Detector], per_language: int | None
) -> dict[str, Any]:
    """The test set's languages outside langdetect's 50: right, und and wrong per language."""
    others = {lang: texts for lang, texts in by_lang.items() if lang not in LANGDETECT_50}
    samples = sentences(others, per_language)
    report = {}
    for name, detector in systems.items():
        answers = outcomes(detector, samples)
        per_language: dict[str, Counter[str]] = defaultdict(Counter)
        for (expected, _), answer in zip(samples, answers, strict=True):
            if answer == SAME_LANGUAGE.get(expected, expected):
                per_language[expected]["right"] += 1
            else:
                per_language[expected]["und" if answer == UNDETERMINED else "wrong"] += 1
        report[name] = {lang: dict(counts) for lang, counts in sorted(per_language.items())}
    return report


def _pct(value: float) -> str:
    return f"{100 * value:6.2f}%"


def print_report(report: dict[str, Any], names: Iterable[str]) -> None:
    names = list(names)
    print(f"{report['languages']} languages; samples: {report['sets']}")
    header = f"{'':28}" + "".join(f"{name:>18}" for name in names)
    print(header)
    for key in ("sentences", "articles"):
        cells = "".join(f"{_pct(report[n][key]['accuracy']):>18}" for n in names)
        print(f"{key + ' accuracy':28}{cells}")
    for key in ("short_sentences", "short_headlines"):
        for outcome in ("right", "und", "wrong"):
            cells = "".join(
                f"{_pct(report[n][key][outcome] / max(report[n][key]['n'], 1)):>18}" for n in names
            )
            print(f"{key + ' ' + outcome:28}{cells}")
    for words in SPEED_WORDS:
        cells = "".join(f"{report[n]['ms_per_text'][str(words)]:>15.2f} ms" for n in names)
        print(f"{f'time per {words}-word text':28}{cells}")
    print("\nper language (sentences | articles):")
    print(f"{'lang':6}" + "".join(f"{name:>30}" for name in names))
    for lang in report[names[0]]["sentences"]["per_language"]:
        cells = "".join(
            f"{_pct(report[n]['sentences']['per_language'][lang]):>20} |"
            f"{_pct(report[n]['articles']['per_language'][lang])}"
            for n in names
        )
        print(f"{lang:6}{cells}")
    for name in names:
        worst = ", ".join(
            f"{lang} {_pct(acc).strip()}" for lang, acc in report[name]["sentences"]["worst5"]
        )
        print(f"\n{name} worst five (sentences): {worst}")
        print(f"{name} commonest confusions (sentences): {report[name]['sentences']['confusions']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--per-language", type=int, help="only the first N sentences of each language"
    )
    parser.add_argument("--others", action="store_true", help="also the 25 other languages")
    args = parser.parse_args(argv)
    DetectorFactory.seed = 0  # the baseline as the project used it: the same answer every run
    by_lang = load_sentences(data_file(args.data))
    systems: dict[str, Detector] = {"project": project, "plain_langdetect": plain_langdetect}
    started = time.perf_counter()
    report = evaluate(by_lang, systems, args.per_language)
    if args.others:
        report["others"] = evaluate_others(by_lang, systems, args.per_language)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print_report(report, systems)
    if args.others:
        print("\noutside langdetect's 50 (right / und / wrong):")
        for lang in report["others"]["project"]:
            cells = "".join(
                "{right:>6}/{und:>4}/{wrong:>4}".format_map(Counter(report["others"][n][lang]))
                + "   "
                for n in systems
            )
            print(f"  {lang:4}{cells}")
    print(f"\n{report['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

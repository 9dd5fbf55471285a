"""Score HTML main-text extraction on the article-extraction benchmark.

Usage: scripts/eval_html.py [--data DIR] [--limit N] [--json OUT]

The benchmark (Scrapinghub/Zyte, 181 news and blog pages with a hand-made article
body for each) lives in ``article-extraction-benchmark`` in the shared data folder:
``$NEWSEARCH_SHARED_DATA``, else ``../shared/data`` beside the repository. Never
copied into the repository.

Two extractions run on every page in the same run:

* ``newsearch``: the production path, readers.read_html (search/html.py) and then
  search.clean.clean_body, i.e. the body text that gets indexed;
* ``trafilatura``: plain ``trafilatura.extract(html)`` with its default settings.

The metric is the benchmark's own: texts become ``\\w+`` tokens, tokens become
overlapping 4-token shingles, and a page's true positives, false positives and false
negatives are shingle counts normalised by their sum (so that long pages do not weigh
more). Precision and recall are averaged over pages; F1 is the harmonic mean of the
two averages. The table also lists the project's ten worst pages (by their own F1)
with the reason read off the shingle diff: text missed or added, and where.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import trafilatura

from search.clean import clean_body
from search.models import Origin, Reject
from search.readers import decode, read_html

REPO = Path(__file__).resolve().parents[1]
BENCHMARK = "article-extraction-benchmark"
TOKEN_RE = re.compile(r"\w+")
SHINGLE = 4
WORST = 10
# A run of shingles shorter than this is a boundary effect, not missing or extra text.
MIN_RUN = 8
# How much of a missed or extra run the report quotes.
QUOTE_WORDS = 8
QUOTE_CHARS = 60


@dataclass
class PageScore:
    """One extractor on one page: shingle counts normalised to sum to 1 (or all 0)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        if self.tp == self.fp == 0:
            return 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        if self.tp == self.fn == 0:
            return 0.0
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Summary:
    precision: float
    recall: float
    f1: float
    seconds: float


@dataclass
class PageResult:
    id: str
    url: str
    scores: dict[str, PageScore]
    why: str = ""
    chars: dict[str, int] = field(default_factory=dict)


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def shingles(words: Sequence[str]) -> list[tuple[str, ...]]:
    """Overlapping 4-token shingles; a text shorter than 4 tokens is one shingle."""
    return [
        tuple(words[i : i + SHINGLE])
        for i in range(max(1, len(words) - SHINGLE + 1))
        if words[i : i + SHINGLE]
    ]


def score_page(truth: str, predicted: str) -> PageScore:
    """Shingle true/false positives and false negatives, as shares of their sum."""
    true_counts = Counter(shingles(tokenize(truth)))
    predicted_counts = Counter(shingles(tokenize(predicted)))
    tp = sum((true_counts & predicted_counts).values())
    fp = sum((predicted_counts - true_counts).values())
    fn = sum((true_counts - predicted_counts).values())
    total = tp + fp + fn
    if not total:
        return PageScore(0.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def summarise(scores: Sequence[PageScore], seconds: float = 0.0) -> Summary:
    """Mean precision (pages that predicted something), mean recall (pages with a truth)."""
    precisions = [s.precision for s in scores if s.tp + s.fp > 0]
    recalls = [s.recall for s in scores if s.tp + s.fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Summary(precision, recall, f1, seconds)


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, end) of every run of True in ``flags``."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _where(start: int, end: int, length: int) -> str:
    if start == 0:
        return "at the start"
    if end >= length:
        return "at the end"
    return "in the middle"


def _quote(words: Sequence[str], start: int) -> str:
    # Capped in characters too: a CJK sentence is one long \w+ token.
    return " ".join(words[start : start + QUOTE_WORDS])[:QUOTE_CHARS]


def explain(truth: str, predicted: str) -> str:
    """Why a page scores low, from the shingle diff: what was missed or added, and where."""
    true_words, predicted_words = tokenize(truth), tokenize(predicted)
    if not predicted_words:
        return "empty extraction"
    true_shingles, predicted_shingles = shingles(true_words), shingles(predicted_words)
    true_set, predicted_set = set(true_shingles), set(predicted_shingles)
    reasons = []
    missed = _runs([s not in predicted_set for s in true_shingles])
    extra = _runs([s not in true_set for s in predicted_shingles])
    for label, runs, words, length in (
        ("missed", missed, true_words, len(true_shingles)),
        ("extra", extra, predicted_words, len(predicted_shingles)),
    ):
        big = [run for run in runs if run[1] - run[0] >= MIN_RUN or run[1] - run[0] == length]
        if not big:
            continue
        total = sum(end - start for start, end in big)
        start, end = max(big, key=lambda run: run[1] - run[0])
        where = _where(start, end, length)
        if label == "missed" and start == 0:
            what = "missed the lead"
        elif label == "missed":
            what = f"missed text {where}"
        elif where == "at the end":
            what = "extra text after the article (comments, related links?)"
        elif where == "at the start":
            what = "extra text before the article (header, teaser?)"
        else:
            what = "extra text inside the article (captions, embeds, ads?)"
        reasons.append(
            f"{what}: {total} of {length} shingles in {len(big)} run(s), "
            f"e.g. '{_quote(words, start)}…'"
        )
    return "; ".join(reasons) or "small differences spread over the page"


def newsearch_body(html: str, path: Path) -> str:
    """The production path: readers.read_html, then the project's body cleaning."""
    record = read_html(html, Origin(str(path)))
    return "" if isinstance(record, Reject) else clean_body(record.body)


def trafilatura_body(html: str, path: Path) -> str:
    """Plain trafilatura with its default settings, the baseline to beat."""
    return trafilatura.extract(html) or ""


EXTRACTORS: dict[str, Callable[[str, Path], str]] = {
    "newsearch": newsearch_body,
    "trafilatura": trafilatura_body,
}


def default_data_dir() -> Path:
    root = Path(os.environ.get("NEWSEARCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root / BENCHMARK


def page_paths(data: Path, limit: int | None = None) -> list[Path]:
    """The benchmark's pages sorted by name (their id), the first ``limit`` of them."""
    paths = sorted((data / "html").glob("*.html.gz"))
    return paths[:limit] if limit is not None else paths


def evaluate(data: Path, limit: int | None = None) -> tuple[dict[str, Summary], list[PageResult]]:
    """Run every extractor on every page; the summaries and the per-page results."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    paths = page_paths(data, limit)
    if not paths:
        raise SystemExit(f"no pages in {data / 'html'}")
    seconds = dict.fromkeys(EXTRACTORS, 0.0)
    results = []
    for path in paths:
        page_id = path.name.removesuffix(".html.gz")
        html = decode(gzip.decompress(path.read_bytes()))
        if html is None:
            raise SystemExit(f"{path} does not decode")
        expected = truth[page_id]["articleBody"]
        result = PageResult(page_id, truth[page_id].get("url", ""), {})
        for name, extractor in EXTRACTORS.items():
            started = time.perf_counter()
            predicted = extractor(html, path)
            seconds[name] += time.perf_counter() - started
            result.scores[name] = score_page(expected, predicted)
            result.chars[name] = len(predicted)
            if name == "newsearch":
                result.why = explain(expected, predicted)
        results.append(result)
    summaries = {
        name: summarise([r.scores[name] for r in results], seconds[name]) for name in EXTRACTORS
    }
    return summaries, results


def worst_pages(results: Sequence[PageResult], count: int = WORST) -> list[PageResult]:
    return sorted(results, key=lambda r: (r.scores["newsearch"].f1, r.id))[:count]


def report(data: Path, summaries: dict[str, Summary], results: Sequence[PageResult]) -> str:
    lines = [
        f"{len(results)} pages from {data}",
        "",
        f"{'extractor':<14} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}",
    ]
    for name, summary in summaries.items():
        lines.append(
            f"{name:<14} {summary.precision:>9.4f} {summary.recall:>7.4f} {summary.f1:>7.4f}"
            f" {summary.seconds:>8.1f}"
        )
    lines += ["", f"{WORST} worst pages for newsearch (F1 newsearch / trafilatura):"]
    for result in worst_pages(results):
        ours, theirs = result.scores["newsearch"], result.scores["trafilatura"]
        lines.append(
            f"{result.id[:12]} F1 {ours.f1:.3f} (P {ours.precision:.3f} R {ours.recall:.3f})"
            f" / {theirs.f1:.3f}  {result.url}"
        )
        lines.append(f"    why: {result.why}")
    return "\n".join(lines)


def to_json(data: Path, summaries: dict[str, Summary], results: Sequence[PageResult]) -> dict:
    def page(result: PageResult) -> dict:
        scores = {
            name: {
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                **asdict(s),
            }
            for name, s in result.scores.items()
        }
        return {
            "id": result.id,
            "url": result.url,
            "chars": result.chars,
            "why": result.why,
            "scores": scores,
        }

    return {
        "data": str(data),
        "pages": len(results),
        "summary": {name: asdict(summary) for name, summary in summaries.items()},
        "worst": [result.id for result in worst_pages(results)],
        "results": [page(result) for result in results],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the benchmark folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    data = args.data or default_data_dir()
    if not (data / "ground-truth.json").is_file():
        print(f"no benchmark at {data} (set NEWSEARCH_SHARED_DATA or --data)", file=sys.stderr)
        return 2
    summaries, results = evaluate(data, args.limit)
    print(report(data, summaries, results))
    if args.json:
        args.json.write_text(json.dumps(to_json(data, summaries, results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

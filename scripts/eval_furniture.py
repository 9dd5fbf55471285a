"""Measure site-furniture removal: the BBC corpus polluted with injected furniture lines.

Usage: python scripts/eval_furniture.py [--data DIR] [--seed N] [--per-category N] [--json OUT]

The BBC News corpus (Greene & Cunningham 2006; ``DIR/<category>/NNN.txt``, headline on
line 1) is clean text: the fixed furniture patterns remove none of its lines. Each of the
five categories plays one invented news site with its own page template: a few lines it
puts at the top, a few in the middle, a few blocks at the end (some of them an end marker
such as "Recommended For You" followed by the headlines of 2-4 other BBC articles, as
link lists are). Every article gets one top line, one middle line (at a random paragraph
boundary) and one end block, drawn with a seeded generator; a quarter of them are stuck to
the neighbouring paragraph by a single line break instead of a blank line, and some are
upper-cased or end in " »" or ":", as sites style them. The lines mix the generic furniture
of the issue (most of which the fixed list knows) with site-specific ones invented here
(most of which it does not, so only the learner can catch them).

Then the cleaner runs over the whole polluted corpus in each configuration:

* no cleaning (the trivial baseline: recall 0);
* the fixed list alone (``clean_body`` without learned lines): the real baseline;
* fixed list + learner, per source: a first pass counts lines per site, then
  ``clean_body(body, learned.for_source(site))``;
* fixed list + learner without sources: the same, but the learner sees one corpus.

Lines are compared after ``clean_text`` (the injected text is built from the cleaned
article, so that step changes nothing and every line keeps its label). A line counts as
removed when it is missing from the output; a real line shortened by a trimmed tail
("... Share this") still counts as kept. Precision = injected removed / all removed,
recall = injected removed / injected. The real lines that were removed are listed with
their counts, and so are the injected lines that were missed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.clean import clean_body, clean_headline, clean_text, furniture_key
from search.furniture import FurnitureLearner, LearnedFurniture
from search.models import RawRecord
from search.readers import read_file

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "bbc" / "bbc"
CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")

# A block ending in LINKS gets the headlines of 2-4 other articles after its lines.
LINKS = "<links>"
Block = tuple[str, ...]


@dataclass(frozen=True)
class Site:
    """An invented site's template: what it puts at the top, in the middle, at the end."""

    name: str
    top: tuple[Block, ...]
    middle: tuple[Block, ...]
    end: tuple[Block, ...]


# The generic lines of the issue, plus site-specific ones written for this evaluation.
SITES: dict[str, Site] = {
    "business": Site(
        "The Ledger",
        top=(
            ("Get the Daily Brief in your inbox",),
            ("Ledger Pro subscribers read this first",),
            ("Advertisement",),
        ),
        middle=(
            ("Story continues below advertisement",),
            ("Ledger Pro: unlock every analysis",),
            ("Share this article",),
        ),
        end=(
            ("Download the Ledger app for iPhone and Android",),
            ("Tips? Write to our business desk",),
            (
                "View Comments",
                "Recommended For You",
                "Organic Right Rail Article Thumbnails",
                "People Also Read.",
                LINKS,
            ),
        ),
    ),
    "entertainment": Site(
        "Marquee",
        top=(
            ("Marquee Insider",),
            ("Image copyright Getty Images",),
            ("Tap the heart to save this story",),
        ),
        middle=(
            ("Advertisement",),
            ("Our critics' picks this weekend",),
            ("Continue reading the main story",),
        ),
        end=(
            ("Join Marquee Club for exclusive interviews",),
            ("Follow us on Twitter",),
            ("Recommended For You", LINKS),
            ("Sign up for our newsletter",),
        ),
    ),
    "politics": Site(
        "Westminster Wire",
        top=(
            ("Newsroom Live: watch now",),
            ("Westminster Wire is reader-funded.",),
            ("Skip to main content",),
        ),
        middle=(
            ("Support independent journalism",),
            ("Read more:",),
            ("Listen to this article",),
        ),
        end=(
            ("Send us your story",),
            ("Click here to subscribe",),
            ("Most Read", LINKS),
            ("Print this article",),
        ),
    ),
    "sport": Site(
        "Final Whistle",
        top=(
            ("Live scores and results",),
            ("Matchday Extra: all the goals",),
            ("Share on Facebook",),
        ),
        middle=(
            ("Get the Final Whistle podcast",),
            ("Advert",),
            ("Story continues below advertisement",),
        ),
        end=(
            ("Have your say in the comments below.",),
            ("Back to top",),
            ("People Also Read.", LINKS),
            ("More from Sport",),
        ),
    ),
    "tech": Site(
        "Circuit",
        top=(
            ("Circuit Daily: the stories that matter",),
            ("Skip to main content",),
            ("Listen to this article",),
        ),
        middle=(
            ("Got a tip? Message us on Signal",),
            ("This story is part of our Future Tech series",),
            ("Advertisement",),
        ),
        end=(
            ("Share this article",),
            ("Follow us on Twitter",),
            ("Related Topics", LINKS),
            ("Circuit members read ad-free",),
        ),
    ),
}
# Lines every site may carry anywhere, drawn instead of the site's own one time in five.
GENERIC: tuple[Block, ...] = (
    ("Advertisement",),
    ("Share this article",),
    ("Click here to subscribe",),
    ("Follow us on Twitter",),
    ("Image copyright Getty Images",),
    ("Recommended For You",),
    ("Sign up for our newsletter",),
    ("Share on WhatsApp",),
    ("Copy link",),
    ("Email this story",),
    ("Comments",),
    ("Skip advert",),
    ("Watch: highlights of the week",),
)
GENERIC_SHARE = 0.2
SINGLE_BREAK_SHARE = 0.25  # furniture stuck to the paragraph next to it by one line break
LINKS_MIN, LINKS_MAX = 2, 4


@dataclass
class Article:
    """One polluted article: its text, each non-empty line's label and where it was put."""

    source: str
    text: str
    labels: list[str]  # "real", or "start" / "middle" / "end" for an injected line


@dataclass
class Scores:
    """Line-level removal counts for one configuration."""

    name: str
    removed_injected: int = 0
    removed_real: int = 0
    kept_injected: int = 0
    kept_real: int = 0
    by_position: dict[str, list[int]] = field(default_factory=dict)  # [removed, total]
    real_removed: Counter[str] = field(default_factory=Counter)
    injected_missed: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    learned: int | None = None

    @property
    def precision(self) -> float | None:
        removed = self.removed_injected + self.removed_real
        return self.removed_injected / removed if removed else None

    @property
    def recall(self) -> float:
        injected = self.removed_injected + self.kept_injected
        return self.removed_injected / injected if injected else 0.0

    def position_recall(self, where: str) -> float:
        removed, total = self.by_position.get(where, (0, 0))
        return removed / total if total else 0.0

    @property
    def f1(self) -> float:
        precision = self.precision or 0.0
        total = precision + self.recall
        return 2 * precision * self.recall / total if total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "removed_injected": self.removed_injected,
            "removed_real": self.removed_real,
            "kept_injected": self.kept_injected,
            "kept_real": self.kept_real,
            "recall_by_position": {w: self.position_recall(w) for w in self.by_position},
            "real_lines_removed": dict(self.real_removed.most_common()),
            "injected_lines_missed": dict(self.injected_missed.most_common()),
            "learned_keys": self.learned,
            "seconds": round(self.seconds, 2),
        }


def load_records(data: Path, per_category: int | None = None) -> list[tuple[str, RawRecord]]:
    """(category, record) of the BBC files, in a stable order; the project's reader decodes."""
    out: list[tuple[str, RawRecord]] = []
    for category in CATEGORIES:
        files = sorted((data / category).glob("*.txt"))
        for path in files[:per_category]:
            for item in read_file(path):
                if isinstance(item, RawRecord):
                    out.append((category, item))
    return out


def pollute(records: list[tuple[str, RawRecord]], seed: int) -> list[Article]:
    """Each article with a start, a middle and an end injection (seeded, order-independent)."""
    headlines = [clean_headline(record.headline) for _, record in records]
    articles = []
    for number, (category, record) in enumerate(records):
        rng = random.Random(f"{seed}:{record.origin.path}")
        site = SITES[category]
        paragraphs = [p.split("\n") for p in clean_text(record.body).split("\n\n") if p]
        others = [h for i, h in enumerate(headlines) if i != number]
        units: list[tuple[list[str], str]] = [(lines, "real") for lines in paragraphs]
        middle = rng.randint(1, max(1, len(units) - 1))
        units.insert(middle, (_block(site.middle, rng, others), "middle"))
        units.insert(0, (_block(site.top, rng, others), "start"))
        units.append((_block(site.end, rng, others), "end"))
        text_parts: list[str] = []
        labels: list[str] = []
        for i, (lines, label) in enumerate(units):
            if i:
                injected = label != "real" or units[i - 1][1] != "real"
                single = injected and rng.random() < SINGLE_BREAK_SHARE
                text_parts.append("\n" if single else "\n\n")
            text_parts.append("\n".join(lines))
            labels.extend(label for _ in lines)
        text = "".join(text_parts)
        if clean_text(text) != text:  # the labels would no longer line up
            raise AssertionError(f"{record.origin.path}: polluted text is not clean")
        articles.append(Article(SITES[category].name, text, labels))
    return articles


def _block(pool: tuple[Block, ...], rng: random.Random, headlines: list[str]) -> list[str]:
    block = rng.choice(GENERIC if rng.random() < GENERIC_SHARE else pool)
    lines = []
    for line in block:
        if line == LINKS:
            lines.extend(rng.sample(headlines, rng.randint(LINKS_MIN, LINKS_MAX)))
        else:
            lines.append(_styled(line, rng))
    return lines


def _styled(line: str, rng: random.Random) -> str:
    """Sites style the same line differently; furniture_key sees through it."""
    roll = rng.random()
    if roll < 0.1:
        return line.upper()
    if roll < 0.15:
        return f"{line} »"
    if roll < 0.2 and not line.endswith((":", ".")):
        return f"{line}:"
    return line


def removed_flags(lines: list[str], kept: list[str]) -> list[bool]:
    """Which of ``lines`` are missing from ``kept`` (the cleaner's output, in order).

    The output is the input minus removed lines, some shortened by a trimmed tail, so a
    greedy walk lines them up. Equal lines always have the same label, so which copy of a
    repeated line is taken as kept does not change any count.
    """
    flags = []
    j = 0
    for line in lines:
        if j < len(kept) and (kept[j] == line or (kept[j] and line.startswith(kept[j]))):
            flags.append(False)
            j += 1
        else:
            flags.append(True)
    if j != len(kept):
        raise AssertionError("the cleaner's output is not a subsequence of its input")
    return flags


def score(name: str, articles: Iterable[Article], clean: Callable[[Article], str] | None) -> Scores:
    """Run one configuration (``clean`` None: no cleaning) and count line by line."""
    scores = Scores(name)
    started = time.perf_counter()
    for article in articles:
        lines = [line for line in article.text.split("\n") if line]
        output = article.text if clean is None else clean(article)
        kept = [line for line in output.split("\n") if line]
        for line, label, removed in zip(
            lines, article.labels, removed_flags(lines, kept), strict=True
        ):
            if label == "real":
                if removed:
                    scores.removed_real += 1
                    scores.real_removed[line] += 1
                else:
                    scores.kept_real += 1
                continue
            counts = scores.by_position.setdefault(label, [0, 0])
            counts[1] += 1
            if removed:
                scores.removed_injected += 1
                counts[0] += 1
            else:
                scores.kept_injected += 1
                scores.injected_missed[line] += 1
    scores.seconds = time.perf_counter() - started
    return scores


def learn(articles: list[Article], by_source: bool) -> LearnedFurniture:
    """The learner's first pass over the polluted corpus."""
    learner = FurnitureLearner()
    for article in articles:
        learner.observe(article.text, article.source if by_source else None)
    return learner.learned()


def evaluate(articles: list[Article]) -> list[Scores]:
    """Every configuration over the same polluted articles."""
    results = [
        score("no cleaning", articles, None),
        score("fixed list", articles, lambda a: clean_body(a.text)),
    ]
    for by_source, name in ((True, "fixed list + learner"), (False, "... learner, no sources")):
        started = time.perf_counter()
        learned = learn(articles, by_source)
        learning = time.perf_counter() - started
        result = score(
            name, articles, lambda a, f=learned: clean_body(a.text, f.for_source(a.source))
        )
        result.seconds += learning
        result.learned = len(learned)
        results.append(result)
    return results


def furniture_lines() -> set[str]:
    """Every distinct injected furniture line (link-list headlines aside)."""
    blocks = [*GENERIC]
    for site in SITES.values():
        blocks += [*site.top, *site.middle, *site.end]
    return {line for block in blocks for line in block if line != LINKS}


def unknown_to_fixed_list(lines: Iterable[str]) -> set[str]:
    """The lines the fixed patterns alone leave in (only a learner can catch them)."""
    prose = "The council met on Tuesday."
    return {line for line in lines if clean_body(f"{prose}\n\n{line}") != prose}


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def report(articles: list[Article], results: list[Scores], seed: int) -> str:
    labels = Counter(label for article in articles for label in article.labels)
    injected = sum(count for label, count in labels.items() if label != "real")
    lines = furniture_lines()
    out = [
        f"{len(lines)} furniture lines, {len(unknown_to_fixed_list(lines))} of them unknown to "
        "the fixed list, plus link-list headlines",
        f"{len(articles)} articles, {labels['real']} real lines, {injected} injected lines "
        f"(start {labels['start']}, middle {labels['middle']}, end {labels['end']}), seed {seed}",
        "",
        f"{'configuration':<26} {'removed':>8} {'precision':>9} {'recall':>7} {'F1':>7}"
        f"  recall start/middle/end  learned  seconds",
    ]
    for result in results:
        positions = "/".join(
            f"{result.position_recall(where):.3f}" for where in ("start", "middle", "end")
        )
        out.append(
            f"{result.name:<26} {result.removed_injected + result.removed_real:>8} "
            f"{_figure(result.precision):>9} {result.recall:>7.4f} {result.f1:>7.4f}  "
            f"{positions:<23}  {'' if result.learned is None else result.learned:>7}  "
            f"{result.seconds:>7.2f}"
        )
    for result in results[1:]:
        out += ["", f"{result.name}: real lines removed ({result.removed_real})"]
        out += [f"  {n:>5} × {line[:100]!r}" for line, n in result.real_removed.most_common(20)]
        missed: Counter[str] = Counter()
        for line, n in result.injected_missed.items():
            missed[furniture_key(line)] += n
        out.append(f"{result.name}: injected lines missed ({result.kept_injected}), by key")
        out += [f"  {n:>5} × {key[:100]!r}" for key, n in missed.most_common(15)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the bbc/ folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-category", type=int, default=None, help="first N files each")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    if not (args.data / CATEGORIES[0]).is_dir():
        parser.error(f"{args.data} does not hold the BBC category folders")
    articles = pollute(load_records(args.data, args.per_category), args.seed)
    results = evaluate(articles)
    print(report(articles, results, args.seed))
    if args.json:
        payload = {
            "data": str(args.data),
            "seed": args.seed,
            "articles": len(articles),
            "results": [result.to_json() for result in results],
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

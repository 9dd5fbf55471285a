#!/usr/bin/env python3
"""Measure duplicate detection and story clustering on the BBC News corpus.

Usage: python scripts/eval_duplicates.py [--data DIR] [--n 500] [--seed N] [--json OUT]
                                         [--categories business,tech] [--no-index]

The BBC corpus (Greene & Cunningham 2006; ``DIR/<category>/NNN.txt``, headline on line 1,
read from ../shared/data, never copied into the repository) holds 98 pairs of
byte-identical files. Four measurements, each next to the exact-hash baseline:

1. Exact duplicates: the real indexer (entities off) indexes the five category folders;
   every byte-identical pair must leave one copy indexed and one counted as a duplicate.
   The same two runs, with and without story clustering, give its cost in articles per
   CPU second, and the index is reopened to time rebuilding the clusters from stored
   signatures. Both runs include the furniture learner's extra reading pass.
2. Perturbations: ``--n`` articles drawn with ``--seed`` are re-published four ways --
   a changed headline (another article's), the last paragraph trimmed (its second half
   of sentences dropped; half its words if it is one sentence), a byline line added
   ("By ..., <role>"), furniture lines added (two from the fixed cleaning list, two it
   does not know) -- and all four at once. Every copy goes through the pipeline like an
   indexed article and is matched against the clusters of the whole corpus: it counts
   as grouped when it lands in its original's cluster. "Last paragraph dropped" (the
   whole block gone) is a harder extra row, outside the overall figure: BBC blocks are
   long, so for a tenth of the articles it leaves only the opening sentence.
3. False grouping: every distinct text is clustered in file order, as an index run
   would. The issue's figure is grouped pairs / articles. But the corpus also holds
   genuine near-duplicates that are not byte-identical (the same body under another
   headline, a story and its update), so every grouped pair is also checked against an
   independent reference -- the two share at least half of the shorter one's sentences
   (of five words or more), exactly -- and pairs outside it are "wrongly grouped".
   Recall of that reference is shown too.

Figures are printed; ``--json`` also writes them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from whoosh import index as whoosh_index  # noqa: E402 - after the path set-up

from search.dedup import StoryClusters, story_signature  # noqa: E402
from search.indexer import index_paths, stored_clusters  # noqa: E402
from search.models import Article, Origin, RawRecord  # noqa: E402
from search.pipeline import process_batch  # noqa: E402
from search.readers import read_file  # noqa: E402
from search.schema import INDEX_NAME  # noqa: E402

SHARED = Path(os.environ.get("NEWSEARCH_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_DATA = SHARED / "bbc" / "bbc"
CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")
TARGET_GROUPED = 0.95
TARGET_FALSE = 0.002
# Reference near-duplicates: pairs sharing at least this share of the shorter article's
# sentences, counting sentences of at least this many words (shorter ones recur by chance).
REFERENCE_SHARE = 0.5
REFERENCE_SENTENCE_WORDS = 5

_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’']))\s+(?=[\"“‘'A-Z0-9£$])")
_SPACES = re.compile(r"\s+")

# Invented for this test (not BBC text). A byline names a person and often a role.
BYLINES = (
    "By Anna Kowalski",
    "By Tom Becker, business reporter",
    "By Priya Raman and Luis Ortega, BBC News Online correspondents",
    "By Jonas Eriksen in Oslo",
    "By Ngozi Adeyemi, technology correspondent for the Daily Courier",
)
# Furniture: lines the fixed cleaning list removes, and lines it does not know.
KNOWN_FURNITURE = (
    "Advertisement",
    "Share this article",
    "Related Topics",
    "Follow us on Twitter and Facebook",
    "Sign up for our daily newsletter",
)
UNKNOWN_FURNITURE = (
    "The Courier is not responsible for the content of external internet sites",
    "This story was first published by our partner site and is republished here",
    "Have your say on this story in the comments section below the article",
    "Get the Courier app for the latest breaking news on your phone",
)


@dataclass
class Story:
    """One BBC file as the reader sees it."""

    key: str  # "business/007.txt"
    digest: str  # of the raw bytes
    record: RawRecord


@dataclass
class TypeResult:
    name: str
    copies: int
    grouped: int
    baseline: int  # the exact content hash alone

    @property
    def share(self) -> float:
        return self.grouped / self.copies if self.copies else 0.0

    @property
    def baseline_share(self) -> float:
        return self.baseline / self.copies if self.copies else 0.0


@dataclass
class Results:
    articles: int = 0
    distinct: int = 0
    byte_pairs: int = 0
    exact_pairs_found: int = 0  # byte-identical pairs with equal content hash
    index: dict[str, float] = field(default_factory=dict)
    perturbations: list[TypeResult] = field(default_factory=list)
    overall: TypeResult | None = None
    stress: TypeResult | None = None
    grouped_pairs: int = 0
    wrong_pairs: list[tuple[str, str]] = field(default_factory=list)
    reference_pairs: int = 0
    reference_grouped: int = 0
    baseline_pairs: int = 0
    baseline_wrong: int = 0
    lsh_ms_per_article: float = 0.0

    @property
    def false_share_literal(self) -> float:
        return self.grouped_pairs / self.distinct if self.distinct else 0.0

    @property
    def false_share(self) -> float:
        return len(self.wrong_pairs) / self.distinct if self.distinct else 0.0


# ------------------------------------------------------------------------------ corpus


def load_corpus(data: Path, categories: Iterable[str] = CATEGORIES) -> list[Story]:
    stories = []
    for category in categories:
        for path in sorted((data / category).glob("*.txt")):
            [record] = read_file(path)
            if not isinstance(record, RawRecord):
                raise SystemExit(f"{path}: {record.reason}")
            digest = hashlib.sha1(path.read_bytes()).hexdigest()
            stories.append(Story(f"{category}/{path.name}", digest, record))
    return stories


def byte_identical_pairs(stories: list[Story]) -> list[tuple[str, str]]:
    """Pairs of files with the same bytes, first file first (the ground truth)."""
    by_digest: dict[str, list[str]] = defaultdict(list)
    for story in stories:
        by_digest[story.digest].append(story.key)
    return [pair for keys in by_digest.values() for pair in combinations(keys, 2)]


def distinct_stories(stories: list[Story]) -> list[Story]:
    """The first file of each byte-identical group."""
    seen: set[str] = set()
    kept = []
    for story in stories:
        if story.digest not in seen:
            seen.add(story.digest)
            kept.append(story)
    return kept


def pipeline(records: list[RawRecord]) -> list[Article]:
    """The indexer's own cleaning (entities off): what story signatures are made from."""
    articles = []
    for item in process_batch(records, with_entities=False):
        if not isinstance(item, Article):
            raise SystemExit(f"{item.origin.describe()}: rejected ({item.reason})")
        articles.append(item)
    return articles


# ------------------------------------------------------------------------ perturbations


def paragraphs(body: str) -> list[str]:
    return [part.strip() for part in body.split("\n\n") if part.strip()]


def trim_last_paragraph(body: str) -> str:
    """The last paragraph loses its second half: sentences, or words if it is one sentence."""
    parts = paragraphs(body)
    sentences = _SENTENCE_BREAK.split(parts[-1])
    if len(sentences) > 1:
        parts[-1] = " ".join(sentences[: len(sentences) // 2])
    else:
        words = parts[-1].split()
        parts[-1] = " ".join(words[: max(1, len(words) // 2)])
    return "\n\n".join(parts)


def drop_last_paragraph(body: str) -> str:
    parts = paragraphs(body)
    return "\n\n".join(parts[:-1] if len(parts) > 1 else parts)


def add_byline(body: str, rng: random.Random) -> str:
    return f"{rng.choice(BYLINES)}\n\n{body}"


def add_furniture(body: str, rng: random.Random) -> str:
    """Two known and two unknown furniture lines: after the lead, before the end, at the end."""
    lines = rng.sample(KNOWN_FURNITURE, 2) + rng.sample(UNKNOWN_FURNITURE, 2)
    rng.shuffle(lines)
    parts = paragraphs(body)
    parts.insert(1, lines[0])
    parts.insert(len(parts) - 1, lines[1])
    parts.extend(lines[2:])
    return "\n\n".join(parts)


Perturb = Callable[[str, str, random.Random, list[str]], tuple[str, str]]


def changed_headline(
    headline: str, body: str, rng: random.Random, headlines: list[str]
) -> tuple[str, str]:
    other = rng.choice([h for h in headlines if h != headline] or ["Latest news"])
    return other, body


def all_four(headline: str, body: str, rng: random.Random, headlines: list[str]) -> tuple[str, str]:
    headline, _ = changed_headline(headline, body, rng, headlines)
    body = add_furniture(add_byline(trim_last_paragraph(body), rng), rng)
    return headline, body


PERTURBATIONS: dict[str, Perturb] = {
    "changed headline": changed_headline,
    "trimmed last paragraph": lambda h, b, r, _: (h, trim_last_paragraph(b)),
    "byline line added": lambda h, b, r, _: (h, add_byline(b, r)),
    "furniture lines added": lambda h, b, r, _: (h, add_furniture(b, r)),
}
COMBINED = ("all four at once", all_four)
STRESS = ("last paragraph dropped", lambda h, b, r, _: (h, drop_last_paragraph(b)))


# -------------------------------------------------------------------------- reference


def sentences(body: str) -> set[str]:
    found = set()
    for sentence in _SENTENCE_BREAK.split(_SPACES.sub(" ", body)):
        if len(sentence.split()) >= REFERENCE_SENTENCE_WORDS:
            found.add(sentence.strip().casefold())
    return found


def reference_pairs(stories: list[Story]) -> set[frozenset[str]]:
    """Pairs that share at least half of the shorter one's sentences, word for word."""
    per_story = {story.key: sentences(story.record.body) for story in stories}
    holders: dict[str, list[str]] = defaultdict(list)
    for key, found in per_story.items():
        for sentence in found:
            holders[sentence].append(key)
    shared: dict[frozenset[str], int] = defaultdict(int)
    for keys in holders.values():
        for a, b in combinations(keys, 2):
            shared[frozenset((a, b))] += 1
    return {
        pair
        for pair, count in shared.items()
        if count >= REFERENCE_SHARE * min(len(per_story[key]) for key in pair)
    }


# ------------------------------------------------------------------------- evaluation


def cluster_corpus(articles: list[Article]) -> tuple[StoryClusters, dict[str, str], float]:
    """Cluster in order, as an index run does; also the time per article in ms."""
    clusters = StoryClusters()
    cluster_of = {}
    started = time.perf_counter()
    for article in articles:
        cluster_of[article.id] = clusters.add(article.id, story_signature(article.body))
    elapsed = time.perf_counter() - started
    return clusters, cluster_of, 1000 * elapsed / max(1, len(articles))


def same_cluster_pairs(cluster_of: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for article_id, cluster in cluster_of.items():
        members[cluster].append(article_id)
    return {frozenset(pair) for ids in members.values() for pair in combinations(ids, 2)}


def perturbation_test(
    originals: list[tuple[Story, Article]],
    clusters: StoryClusters,
    headlines: list[str],
    name: str,
    perturb: Perturb,
    seed: int,
) -> TypeResult:
    rng = random.Random(f"{seed}:{name}")
    records = []
    for story, _ in originals:
        headline, body = perturb(story.record.headline, story.record.body, rng, headlines)
        origin = Origin(f"{story.key}~{name}")
        records.append(RawRecord(origin=origin, headline=headline, body=body))
    result = TypeResult(name, len(records), 0, 0)
    for (_, original), copy in zip(originals, pipeline(records), strict=True):
        signature = story_signature(copy.body)
        found = clusters.match(signature) if signature else None
        result.grouped += found is not None and found == clusters.cluster_of(original.id)
        result.baseline += copy.content_hash == original.content_hash
    return result


def index_check(
    data: Path, categories: Iterable[str], results: Results, pairs: list, cost: bool
) -> None:
    """The real indexer on the corpus; with ``cost``, once more without story clustering."""
    folders = [data / category for category in categories]
    runs = [("with", True), ("without", False)] if cost else [("with", True)]
    with tempfile.TemporaryDirectory() as work:
        for label, clustered in runs:
            target = Path(work) / label
            cpu = time.process_time()
            summary = index_paths(folders, target, entities=False, cluster_stories=clustered)
            # CPU time of this process (one worker does all the work): on a shared machine
            # the wall clock mostly measures the neighbours.
            results.index[f"cpu_per_second_{label}"] = summary.read / (time.process_time() - cpu)
            results.index[f"read_{label}"] = summary.read
            results.index[f"duplicates_{label}"] = summary.duplicates
            results.index[f"seconds_{label}"] = summary.seconds
            results.index[f"per_second_{label}"] = summary.read / summary.seconds
            if clustered:
                ix = whoosh_index.open_dir(target, indexname=INDEX_NAME)
                with ix.searcher() as searcher:
                    indexed = {f["path"] for f in searcher.reader().all_stored_fields()}
                    clusters = {f["cluster"] for f in searcher.reader().all_stored_fields()}
                started = time.perf_counter()
                reloaded = stored_clusters(ix)
                results.index["reload_seconds"] = time.perf_counter() - started
                results.index["reload_articles"] = len(reloaded)
                results.index["clusters"] = len(clusters)
                one_kept = sum(
                    (str(data / a) in indexed) != (str(data / b) in indexed) for a, b in pairs
                )
                results.index["pairs_one_copy_indexed"] = one_kept


def evaluate(
    data: Path,
    n: int,
    seed: int,
    categories: Iterable[str] = CATEGORIES,
    with_index: bool = True,
    cost: bool = True,
) -> Results:
    categories = list(categories)
    stories = load_corpus(data, categories)
    pairs = byte_identical_pairs(stories)
    distinct = distinct_stories(stories)
    results = Results(articles=len(stories), distinct=len(distinct), byte_pairs=len(pairs))

    # 1. exact duplicates: the pipeline's content hash, then the real indexer
    articles = pipeline([story.record for story in stories])
    hash_of = {
        story.key: article.content_hash for story, article in zip(stories, articles, strict=True)
    }
    results.exact_pairs_found = sum(hash_of[a] == hash_of[b] for a, b in pairs)
    if with_index:
        index_check(data, categories, results, pairs, cost)

    # 3. false grouping over distinct texts (done first: 2. matches against these clusters)
    article_of = {story.key: article for story, article in zip(stories, articles, strict=True)}
    distinct_articles = [article_of[story.key] for story in distinct]
    clusters, cluster_of, results.lsh_ms_per_article = cluster_corpus(distinct_articles)
    key_of = {article_of[story.key].id: story.key for story in distinct}
    grouped = {frozenset(key_of[i] for i in pair) for pair in same_cluster_pairs(cluster_of)}
    reference = reference_pairs(distinct)
    results.grouped_pairs = len(grouped)
    results.wrong_pairs = sorted(tuple(sorted(pair)) for pair in grouped - reference)
    results.reference_pairs = len(reference)
    results.reference_grouped = len(reference & grouped)
    by_hash: dict[str, int] = defaultdict(int)
    for article in distinct_articles:
        by_hash[article.content_hash] += 1
    results.baseline_pairs = sum(count * (count - 1) // 2 for count in by_hash.values())
    hashed = defaultdict(list)
    for story in distinct:
        hashed[article_of[story.key].content_hash].append(story.key)
    results.baseline_wrong = sum(
        frozenset(pair) not in reference
        for keys in hashed.values()
        for pair in combinations(keys, 2)
    )

    # 2. perturbations
    rng = random.Random(seed)
    chosen = rng.sample(distinct, min(n, len(distinct)))
    originals = [(story, article_of[story.key]) for story in chosen]
    headlines = [story.record.headline for story in distinct]
    for name, perturb in [*PERTURBATIONS.items(), COMBINED]:
        result = perturbation_test(originals, clusters, headlines, name, perturb, seed)
        results.perturbations.append(result)
    four = results.perturbations[: len(PERTURBATIONS)]
    results.overall = TypeResult(
        "overall (the four types)",
        sum(r.copies for r in four),
        sum(r.grouped for r in four),
        sum(r.baseline for r in four),
    )
    results.stress = perturbation_test(originals, clusters, headlines, *STRESS, seed)
    return results


# ----------------------------------------------------------------------------- report


def report(results: Results, n: int, seed: int) -> str:
    lines = [
        f"BBC: {results.articles} files, {results.distinct} distinct texts, "
        f"{results.byte_pairs} byte-identical pairs",
        "",
        "1. exact duplicates",
        f"  byte-identical pairs with equal content hash: "
        f"{results.exact_pairs_found} of {results.byte_pairs}",
    ]
    index = results.index
    if index:
        lines += [
            f"  indexer: read {index['read_with']:.0f}, duplicates {index['duplicates_with']:.0f}; "
            f"pairs with exactly one copy indexed: {index['pairs_one_copy_indexed']:.0f} of "
            f"{results.byte_pairs}; story clusters: {index['clusters']:.0f}",
            f"  clusters rebuilt from stored signatures of {index['reload_articles']:.0f} "
            f"articles in {index['reload_seconds'] * 1000:.0f} ms",
        ]
    if "per_second_without" in index:
        lines += [
            f"  indexing (entities off, 1 worker), articles per CPU second: "
            f"{index['cpu_per_second_with']:.0f} with story clusters, "
            f"{index['cpu_per_second_without']:.0f} without; per wall-clock second: "
            f"{index['per_second_with']:.0f} and {index['per_second_without']:.0f}",
        ]
    lines += [
        f"  signature + LSH query + insert: {results.lsh_ms_per_article:.2f} ms per article",
        "",
        f"2. re-published copies of {n} articles (seed {seed}): grouped with their original",
        f"  {'perturbation':<28} {'MinHash LSH':>12} {'exact hash':>11}",
    ]
    rows = [*results.perturbations, results.overall, results.stress]
    for row in rows:
        if row is None:
            continue
        extra = "  (harder extra, not in overall)" if row is results.stress else ""
        lines.append(
            f"  {row.name:<28} {row.share:>12.3f} {row.baseline_share:>11.3f}"
            f"   ({row.grouped}/{row.copies}){extra}"
        )
    lines += [
        "",
        f"3. false grouping over {results.distinct} distinct texts",
        f"  grouped pairs / articles (every grouped pair counted): {results.grouped_pairs} / "
        f"{results.distinct} = {results.false_share_literal:.4f}",
        f"  reference near-duplicate pairs (>= {REFERENCE_SHARE:.0%} of sentences shared): "
        f"{results.reference_pairs}; grouped: {results.reference_grouped}",
        f"  wrongly grouped (outside the reference) / articles: {len(results.wrong_pairs)} / "
        f"{results.distinct} = {results.false_share:.4f}   (target <= {TARGET_FALSE})",
        f"  exact-hash baseline: {results.baseline_pairs} pairs grouped (texts equal but for "
        f"case or spacing), {results.baseline_wrong} outside the reference",
    ]
    lines += [f"    wrongly grouped: {a} ~ {b}" for a, b in results.wrong_pairs]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the bbc/ folder")
    parser.add_argument("--n", type=int, default=500, help="articles to re-publish")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--categories", default=",".join(CATEGORIES))
    parser.add_argument("--no-index", action="store_true", help="skip the two indexer runs")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    categories = [c for c in args.categories.split(",") if c]
    if not all((args.data / category).is_dir() for category in categories):
        parser.error(f"{args.data} does not hold the BBC category folders {categories}")
    results = evaluate(args.data, args.n, args.seed, categories, with_index=not args.no_index)
    print(report(results, args.n, args.seed))
    if args.json:
        payload = asdict(results)
        payload.update(
            false_share=results.false_share, false_share_literal=results.false_share_literal
        )
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

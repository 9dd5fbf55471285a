"""Make a larger synthetic news corpus, deterministic by seed, from real headlines and sentences.

The pools are the real Reuters-21578 (read through the project's importer), BBC and
Wikinews articles in the shared data. Each generated article takes a real headline and a
body built around one real "anchor" article: a run of its own sentences (so the words
that co-occur in news stay together, which matters for phrase and AND queries), plus a few
sentences drawn from other articles of the same corpus (so bodies are new, not copies,
and the duplicate detector does not fold them together). Dates are spread over 1987-2025
with a dateline-free metadata date; sources are the corpus names with a numbered desk.

The vocabulary is bounded by the pools' (about 60k distinct words), so at 1M articles the
term dictionary is smaller than a real 1M-article crawl's would be; postings grow as in
real news. Output is JSON Lines (one article per line), streamed: memory holds the
sentence pools only, not the output.

    scripts/make_corpus.py OUT.jsonl --articles 20000 [--seed 1] [--data DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts._scripts import load_script  # noqa: E402 - after the path set-up

FIRST_DAY, DAYS = date(1987, 1, 1), (date(2025, 12, 31) - date(1987, 1, 1)).days
# Splits after ., ! or ? followed by space and a capital or quote: good enough for news prose.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“'])")
MIN_SENTENCE_CHARS = 25


@dataclass
class Pool:
    """One corpus's headlines and, per article, its sentences."""

    name: str
    headlines: list[str] = field(default_factory=list)
    articles: list[list[str]] = field(default_factory=list)

    def add(self, headline: str, body: str) -> None:
        sentences = [
            s.strip()
            for s in SENTENCE_END.split(" ".join(body.split()))
            if len(s.strip()) >= MIN_SENTENCE_CHARS
        ]
        if headline.strip() and sentences:
            self.headlines.append(" ".join(headline.split()))
            self.articles.append(sentences)


def load_pools(data: Path) -> list[Pool]:
    """Read in sorted file order, so that the same data and seed give the same corpus."""
    importer = load_script("import_reuters21578")
    reuters = Pool("Reuters")
    for path in importer.source_files(data / "reuters21578"):
        for doc in importer.iter_documents(path):
            reuters.add(doc.get("headline") or "", doc.get("body") or "")
    bbc = Pool("BBC")
    for path in sorted((data / "bbc" / "bbc").rglob("*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        headline, _, body = text.strip().partition("\n")
        bbc.add(headline, body)
    wikinews = Pool("Wikinews")
    wiki_file = data / "wikinews" / "wikinews-en.jsonl.gz"
    if wiki_file.exists():
        with gzip.open(wiki_file, "rt", encoding="utf-8") as lines:
            for line in lines:
                doc = json.loads(line)
                wikinews.add(doc.get("title") or "", doc.get("text") or "")
    return [pool for pool in (reuters, bbc, wikinews) if pool.articles]


def generate(pools: list[Pool], n: int, seed: int, out: Path) -> int:
    rng = random.Random(seed)
    # Corpora weighted by size, so the mix resembles the shared data's.
    weights = [len(pool.articles) for pool in pools]
    with out.open("w", encoding="utf-8") as sink:
        for number in range(n):
            pool = rng.choices(pools, weights)[0]
            anchor = rng.randrange(len(pool.articles))
            own = pool.articles[anchor]
            start = rng.randrange(len(own))
            body = own[start : start + rng.randint(2, 12)]
            for _ in range(rng.randint(1, 6)):
                other = pool.articles[rng.randrange(len(pool.articles))]
                body.insert(rng.randrange(len(body) + 1), rng.choice(other))
            paragraphs = [" ".join(body[i : i + 3]) for i in range(0, len(body), 3)]
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            article = {
                "id": f"syn{seed}-{number}",
                "headline": pool.headlines[rng.randrange(len(pool.headlines))],
                "body": "\n\n".join(paragraphs),
                "date": day.isoformat(),
                "source": f"{pool.name} desk {rng.randint(1, 20)}",
            }
            sink.write(json.dumps(article, ensure_ascii=False) + "\n")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="JSON Lines file to write (keep it outside the repository)")
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", help="shared data (default $NEWSEARCH_SHARED_DATA or ../shared/data)"
    )
    args = parser.parse_args(argv)
    if args.articles < 1:
        parser.error("--articles must be at least 1")
    data = Path(
        args.data or os.environ.get("NEWSEARCH_SHARED_DATA") or REPO.parent / "shared" / "data"
    )
    out = Path(args.out)
    if out.resolve().is_relative_to(REPO):
        parser.error("write the corpus outside the repository")
    started = time.perf_counter()
    pools = load_pools(data)
    if not pools:
        parser.error(f"no Reuters-21578, BBC or Wikinews articles under {data}")
    sizes = ", ".join(f"{p.name} {len(p.articles)}" for p in pools)
    print(f"pools: {sizes} articles", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed into place, so that a stopped run leaves no partial
    # file for bench_scale to mistake for a finished corpus and reuse.
    partial = out.with_name(out.name + ".partial")
    try:
        count = generate(pools, args.articles, args.seed, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    seconds = time.perf_counter() - started
    print(f"wrote {count} articles to {out} in {seconds:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

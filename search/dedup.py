"""Identity and duplicates: a stable id per record, a content hash per story, and
story clusters that group near-duplicates.

Exact duplicates (the same headline and body, whatever the case or spacing) share a
``content_hash`` and are not indexed twice. Near-duplicates -- the same story
re-published with another headline, a trimmed ending, a byline or site furniture
added -- are indexed, but grouped into one story cluster:

* A story's signature is a MinHash of the word 5-shingles of its cleaned body. The
  headline is left out (syndicated copies rewrite it) and so are lines of fewer than
  six words ("By Ana Ruiz", "Share this article", captions): adding those changes
  nothing, and a longer byline or furniture line only a few shingles.
* ``StoryClusters`` finds candidates with MinHash LSH (``BandIndex``) and accepts the
  best one whose estimated *containment* -- the share of the smaller body's shingles
  found in the larger -- is at least 0.6. Containment, not Jaccard, because a copy
  cut short is mostly contained in the original while sharing few of its shingles.
* A cluster's id is the id of its first article and never changes: a new article
  joins the cluster of its best match, and clusters are never merged, because Whoosh
  cannot change a stored field without rewriting the document.

scripts/eval_duplicates.py measures how well this works on the BBC corpus.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash

from search.models import RawRecord

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_SPACES = re.compile(r"\s+")


def article_id(record: RawRecord) -> str:
    """The record's own id when it is URL-safe; else a hash of its id, URL or position."""
    if record.record_id and _SAFE_ID.match(record.record_id):
        return record.record_id
    key = record.record_id or record.url or record.origin.key()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def raw_fingerprint(record: RawRecord) -> str:
    """Equal when a record is read again exactly as before (every field it brings)."""
    parts = (record.headline, record.body, record.date, record.url, record.source, record.author)
    joined = "\x1f".join(part or "" for part in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def content_hash(headline: str, body: str) -> str:
    """Equal for the same story whatever its case, spacing or file it came in."""
    normalised = _SPACES.sub(" ", f"{headline}\n{body}").strip().casefold()
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- story clusters
# Chosen on the BBC corpus with scripts/eval_duplicates.py, which prints the figures.
# Five-word shingles are rare enough that two different stories share few;
# 128 permutations estimate a Jaccard of 0.5 to within about +-0.045.
SHINGLE_WORDS = 5
NUM_PERM = 128
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
# LSH bands x rows: a pair becomes a candidate with probability 1 - (1 - J**3)**42,
# 0.68 at Jaccard 0.3, 0.996 at 0.5 and 0.04 at 0.1, so candidates stay few.
LSH_BANDS, LSH_ROWS = 42, 3
# Share of the smaller body's shingles that must also be in the larger one. On BBC (500
# copies of each kind, 2,127 distinct texts): 0.7 groups 97.0% of copies with all four
# edits at once and no pair outside the reference; 0.6 groups 99.2% and 2 pairs (two
# reports of the same event); 0.5 groups 99.4% and 8 pairs.
MIN_CONTAINMENT = 0.6
# Shorter lines are bylines, captions and furniture, not the story.
MIN_LINE_WORDS = 6
# Fewer shingles than this (a body of under a dozen words) is too little to compare.
MIN_SHINGLES = 8

_WORD = re.compile(r"\w+")
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations
_HEADER = struct.Struct("<I")


@dataclass(frozen=True)
class Signature:
    """A story's MinHash and how many distinct shingles it was made from."""

    minhash: LeanMinHash
    shingles: int

    def to_bytes(self) -> bytes:
        """Compact form for the index: shingle count, then the hash values (little-endian)."""
        values = np.asarray(self.minhash.hashvalues, dtype="<u4")
        return _HEADER.pack(self.shingles) + values.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature | None:
        """The signature ``to_bytes`` wrote; None for one made with other settings."""
        if len(data) != _HEADER.size + 4 * NUM_PERM:
            return None
        (shingles,) = _HEADER.unpack_from(data)
        values = np.frombuffer(data, dtype="<u4", offset=_HEADER.size).astype(np.uint32)
        minhash = LeanMinHash(seed=MINHASH_SEED, hashvalues=values, scheme=MINHASH_SCHEME)
        return cls(minhash, shingles)


def story_shingles(body: str) -> set[str]:
    """The body's word 5-shingles, casefolded, without its short lines.

    A body made only of short lines keeps them all rather than having nothing.
    """
    lines = [_WORD.findall(line) for line in body.splitlines()]
    lines = [words for words in lines if words]
    kept = [words for words in lines if len(words) >= MIN_LINE_WORDS] or lines
    words = [word.casefold() for line in kept for word in line]
    last = len(words) - SHINGLE_WORDS + 1
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(last, 0))}


def story_signature(body: str) -> Signature | None:
    """The body's signature; None when it is too short to compare with others."""
    shingles = story_shingles(body)
    if len(shingles) < MIN_SHINGLES:
        return None
    minhash = MinHash(
        num_perm=NUM_PERM, seed=MINHASH_SEED, permutations=_PERMUTATIONS, scheme=MINHASH_SCHEME
    )
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles])
    return Signature(LeanMinHash(minhash), len(shingles))


def containment(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller set's shingles that are in the other set."""
    values = np.asarray(b.minhash.hashvalues, dtype=np.uint32)[np.newaxis]
    return float(containments(a, values, np.array([b.shingles]))[0])


def containments(signature: Signature, hashvalues: np.ndarray, shingles: np.ndarray) -> np.ndarray:
    """``containment`` of ``signature`` with each of several signatures (rows of hash
    values, and their shingle counts). From the MinHash estimate of Jaccard J and the
    exact set sizes: |A & B| = J (|A| + |B|) / (1 + J)."""
    mine = np.asarray(signature.minhash.hashvalues, dtype=np.uint32)
    jaccard = (hashvalues == mine).sum(axis=1) / NUM_PERM
    common = jaccard * (shingles + signature.shingles) / (1 + jaccard)
    return np.minimum(1.0, common / np.minimum(shingles, signature.shingles))


class BandIndex:
    """MinHash LSH band tables as sorted arrays: which articles share a band with a query.

    Each article adds one 64-bit key per band (its band's hash values mixed with the
    band's number). New keys wait in a small dict; every ``BUFFER`` articles they become
    a sorted run, and runs of like size are merged, so there are O(log n) runs and a
    query is a binary search in each: 12 bytes per band per article, where
    datasketch's band tables of Python sets took over 300. Rows are never
    taken out; the caller skips rows it has forgotten.

    Runs stop growing at ``MAX_RUN`` keys: merging two runs holds both and their sorted
    copy at once, and a last merge of two half-million-article runs took the indexer's
    peak memory a gigabyte above its steady level. A million articles make about a
    dozen full runs, each a binary search per query.
    """

    BUFFER = 4096
    MAX_RUN = 4_000_000

    def __init__(self) -> None:
        self._pending: dict[int, list[int]] = {}
        self._pending_rows = 0
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def insert(self, row: int, keys: np.ndarray) -> None:
        """Add a row under its ``band_keys``."""
        for key in keys.tolist():
            self._pending.setdefault(key, []).append(row)
        self._pending_rows += 1
        if self._pending_rows >= self.BUFFER:
            self._flush()

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """Rows sharing at least one of these ``band_keys``, without repeats."""
        found = [
            np.asarray(rows, dtype=np.int64)
            for key in keys.tolist()
            if (rows := self._pending.get(key))
        ]
        for run_keys, run_rows in self._runs:
            starts = np.searchsorted(run_keys, keys, side="left")
            ends = np.searchsorted(run_keys, keys, side="right")
            found.extend(
                run_rows[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b > a
            )
        return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)

    def _flush(self) -> None:
        if not self._pending:
            return
        sizes = [len(rows) for rows in self._pending.values()]
        keys = np.repeat(np.fromiter(self._pending.keys(), np.uint64, len(sizes)), sizes)
        rows = np.fromiter(
            (r for group in self._pending.values() for r in group), np.int64, sum(sizes)
        )
        self._pending, self._pending_rows = {}, 0
        self._runs.append(_sorted_run(keys, rows))
        # Merge while the newest run is at least half the size of the one before it.
        while (
            len(self._runs) > 1
            and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0])
            and len(self._runs[-1][0]) + len(self._runs[-2][0]) <= self.MAX_RUN
        ):
            (k2, r2), (k1, r1) = self._runs.pop(), self._runs.pop()
            self._runs.append(_sorted_run(np.concatenate([k1, k2]), np.concatenate([r1, r2])))


def _sorted_run(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], rows[order].astype(np.int32)


# Odd 64-bit multipliers (from splitmix64) that spread a band's three values over the key.
_MIX = np.array([0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB], dtype=np.uint64)


def band_keys(hashvalues: np.ndarray) -> np.ndarray:
    """One key per band: equal when the band's rows are equal (rarely otherwise)."""
    bands = hashvalues[: LSH_BANDS * LSH_ROWS].astype(np.uint64).reshape(LSH_BANDS, LSH_ROWS)
    with np.errstate(over="ignore"):
        mixed = (bands * _MIX[:LSH_ROWS]).sum(axis=1, dtype=np.uint64)
        mixed ^= np.arange(LSH_BANDS, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
        mixed ^= mixed >> np.uint64(31)
        mixed *= np.uint64(0x9E3779B97F4A7C15)
    return mixed


class StoryClusters:
    """Near-duplicate stories grouped under the id of their first article.

    Held in memory as arrays: each article's hash values (512 bytes), its band keys
    (``BandIndex``) and its cluster. Measured with tracemalloc over 100,000
    articles: 1.4 KB an article, 2.5 KB at the peak of a run merge -- a million
    articles fit in about 2.5 GB, where datasketch's MinHashLSH needed 14 GB.
    """

    def __init__(self) -> None:
        self._bands = BandIndex()
        self._hashvalues = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self._shingles = np.empty(1024, dtype=np.int32)
        self._live = np.zeros(1024, dtype=bool)
        self._clusters: list[str] = []  # by row
        self._row_of: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._row_of

    def cluster_of(self, article_id: str) -> str | None:
        row = self._row_of.get(article_id)
        return None if row is None else self._clusters[row]

    def match(self, signature: Signature) -> str | None:
        """The cluster of the closest article that contains, or is contained in, this one.

        Ties go to the article added first (the lowest row), so the answer does not
        depend on the order candidates are found in.
        """
        values = np.asarray(signature.minhash.hashvalues, dtype=np.uint32)
        return self._best(signature, band_keys(values))

    def _best(self, signature: Signature, keys: np.ndarray) -> str | None:
        rows = self._bands.candidates(keys)
        rows = rows[self._live[rows]]
        if not len(rows):
            return None
        scores = containments(signature, self._hashvalues[rows], self._shingles[rows])
        best = int(np.argmax(scores))  # the first of equals: rows are in insertion order
        if scores[best] < MIN_CONTAINMENT:
            return None
        return self._clusters[int(rows[best])]

    def add(self, article_id: str, signature: Signature | None, cluster: str | None = None) -> str:
        """Cluster an article and return its cluster id.

        ``cluster`` restores an article clustered in an earlier run; without it the
        article joins the cluster of its best match, or starts its own. An article
        without a signature is its own cluster and is not remembered. An id added
        again is first removed (a changed article).
        """
        self.remove(article_id)
        if signature is None:
            return cluster or article_id
        values = np.asarray(signature.minhash.hashvalues, dtype=np.uint32)
        keys = band_keys(values)
        cluster = cluster or self._best(signature, keys) or article_id
        row = len(self._clusters)
        if row == len(self._live):
            self._grow()
        self._hashvalues[row] = values
        self._shingles[row] = signature.shingles
        self._live[row] = True
        self._bands.insert(row, keys)
        self._clusters.append(cluster)
        self._row_of[article_id] = row
        return cluster

    def remove(self, article_id: str) -> None:
        """Forget an article (its cluster keeps its id, which other members still carry)."""
        row = self._row_of.pop(article_id, None)
        if row is not None:
            self._live[row] = False

    def _grow(self) -> None:
        size = 2 * len(self._live)
        self._hashvalues = np.resize(self._hashvalues, (size, NUM_PERM))
        self._shingles = np.resize(self._shingles, size)
        live = np.zeros(size, dtype=bool)
        live[: len(self._live)] = self._live
        self._live = live

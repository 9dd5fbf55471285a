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
* ``StoryClusters`` finds candidates with MinHash LSH (datasketch) and accepts the
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
from datasketch import LeanMinHash, MinHash, MinHashLSH

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
    """Estimated share of the smaller set's shingles that are in the other set.

    From the MinHash estimate of Jaccard J and the exact set sizes:
    |A & B| = J (|A| + |B|) / (1 + J).
    """
    jaccard = a.minhash.jaccard(b.minhash)
    common = jaccard * (a.shingles + b.shingles) / (1 + jaccard)
    return min(1.0, common / min(a.shingles, b.shingles))


class StoryClusters:
    """Near-duplicate stories grouped under the id of their first article.

    Everything is in memory: about 14 KB per article (measured with tracemalloc), nearly
    all of it datasketch's 42 band tables of Python sets -- 1.4 GB per 100,000 articles.
    """

    def __init__(self) -> None:
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
        self._signatures: dict[str, Signature] = {}
        self._clusters: dict[str, str] = {}
        self._order: dict[str, int] = {}
        self._added = 0

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._signatures

    def cluster_of(self, article_id: str) -> str | None:
        return self._clusters.get(article_id)

    def match(self, signature: Signature) -> str | None:
        """The cluster of the closest article that contains, or is contained in, this one.

        Ties go to the article added first, so the answer does not depend on the
        order the LSH returns its candidates in.
        """
        best: tuple[float, int] | None = None
        best_id = None
        for candidate in self._lsh.query(signature.minhash):
            score = containment(signature, self._signatures[candidate])
            if score < MIN_CONTAINMENT:
                continue
            key = (-score, self._order[candidate])
            if best is None or key < best:
                best, best_id = key, candidate
        return None if best_id is None else self._clusters[best_id]

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
        cluster = cluster or self.match(signature) or article_id
        self._lsh.insert(article_id, signature.minhash, check_duplication=False)
        self._signatures[article_id] = signature
        self._clusters[article_id] = cluster
        self._order[article_id] = self._added
        self._added += 1
        return cluster

    def remove(self, article_id: str) -> None:
        """Forget an article (its cluster keeps its id, which other members still carry)."""
        if article_id in self._signatures:
            self._lsh.remove(article_id)
            del self._signatures[article_id], self._clusters[article_id]
            del self._order[article_id]

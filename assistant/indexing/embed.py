"""embed stage of indexing: each batch's sentences embedded before the write lock is taken (`pipeline.py`), every
distinct text once: identical sentences or units, in an article or across the run, share one vector. A chunk's and
an article's vector are the normalised mean of their sentences', taken as they are written (`write/writes.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.embeddings import CachedEmbedder, EmbeddingModel
from assistant.indexing.chunk.work import Prepared

RUN_CACHE = 20_000  # vectors of distinct texts one run remembers (~30 MB): more than one file within its limit holds


def run_embedder(embedder: EmbeddingModel) -> CachedEmbedder:
    """The embedder of one run: it remembers the vectors of the last `RUN_CACHE` distinct texts."""
    return CachedEmbedder(embedder, size=RUN_CACHE)


def embed_batch(embedder: CachedEmbedder, batch: Sequence[Prepared]) -> tuple[list[np.ndarray], int]:
    """The sentence vectors of each article of the batch, and how many sentences they are."""
    texts = [s.text for p in batch for s in p.sentences]
    return _per_article(batch, embedder.embed(texts)), len(texts)


def _per_article(batch: Sequence[Prepared], vectors: np.ndarray) -> list[np.ndarray]:
    out, row = [], 0
    for item in batch:
        out.append(vectors[row : row + len(item.sentences)])
        row += len(item.sentences)
    return out

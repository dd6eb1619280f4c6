"""BM25 over the stored chunks (bm25s), rebuilt whenever the index's generation changes.

The chunks are read from Chroma itself, so the lexical side is right in server mode and after
another process (the CLI, `assistant watch`) has changed the index.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answering.terms import terms
from assistant.store import Store


@dataclass(frozen=True)
class ChunkRef:
    chunk_id: str
    article_id: str
    content_hash: str
    first_sentence: int
    last_sentence: int
    title: str
    text: str


class LexicalIndex:
    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._bm25 = None
        self._refs: list[ChunkRef] = []
        self._vocab: dict[str, int] = {}
        self._df: dict[str, int] = {}

    def refresh(self, generation: int) -> None:
        """Rebuild from the store when its generation moved on (cheap check otherwise)."""
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            self._build()
            self._generation = generation

    def _build(self) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        current = {i: info.content_hash for i, info in self.store.article_infos().items()}
        refs: list[ChunkRef] = []
        corpus: list[list[str]] = []
        for ids, metas, docs in self.store.scan_chunks():
            for chunk_id, meta, doc in zip(ids, metas, docs, strict=True):
                if current.get(meta["article_id"]) != meta["content_hash"]:
                    continue  # left over from an interrupted write
                refs.append(ChunkRef(chunk_id, meta["article_id"], meta["content_hash"],
                                     int(meta["first_sentence"]), int(meta["last_sentence"]),
                                     str(meta.get("title", "")), doc))
                corpus.append(terms(f"{meta.get('title', '')} {doc}" if meta.get("chunk_index") == 0 else doc))
        df: dict[str, int] = {}
        for toks in corpus:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        bm25 = None
        if refs:
            bm25 = bm25s.BM25()
            bm25.index(_as_tokenized(corpus), show_progress=False)
        self._bm25, self._refs, self._df = bm25, refs, df
        self._vocab = bm25.vocab_dict if bm25 is not None else {}

    @property
    def size(self) -> int:
        return len(self._refs)

    def idf(self, term: str) -> float:
        n = max(len(self._refs), 1)
        return math.log(1 + (n - self._df.get(term, 0) + 0.5) / (self._df.get(term, 0) + 0.5))

    def search(self, query_terms: Sequence[str], k: int,
               article_ids: set[str] | None = None) -> list[tuple[ChunkRef, float]]:
        bm25, refs = self._bm25, self._refs
        known = [t for t in query_terms if t in self._vocab]
        if bm25 is None or not known:
            return []
        mask = None
        if article_ids is not None:
            mask = np.array([r.article_id in article_ids for r in refs], dtype=np.float32)
            if not mask.any():
                return []
        k = min(k, len(refs))
        docs, scores = bm25.retrieve([known], k=k, show_progress=False,
                                     weight_mask=mask, n_threads=1)
        return [(refs[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def _as_tokenized(corpus: list[list[str]]):
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(tok, len(vocab)) for tok in doc] for doc in corpus]
    return Tokenized(ids=ids, vocab=vocab)

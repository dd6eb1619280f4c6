"""BM25 over the stored chunks (bm25s), rebuilt whenever the index's generation changes.

The chunks are read from Chroma itself, so the lexical side is right in server mode and after
another process (the CLI, `assistant watch`) has changed the index.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np

from assistant.answering.retrieval.links import TitleIndex
from assistant.answering.terms import terms
from assistant.store import Store

if TYPE_CHECKING:  # bm25s is imported when an index is first built
    from bm25s import BM25
    from bm25s.tokenization import Tokenized

Key = tuple[UUID, int]  # the articles collection's id (a new one after `rebuild --reset`) and the index's generation


@dataclass(frozen=True)
class ChunkRef:
    chunk_id: str
    article_id: str
    content_hash: str
    first_sentence: int
    last_sentence: int
    title: str
    text: str


@dataclass(frozen=True)
class Snapshot:
    """One built BM25 index with everything read alongside it; never changed after it is built."""

    key: Key | None
    bm25: BM25 | None
    refs: tuple[ChunkRef, ...]
    vocab: Mapping[str, int]
    df: Mapping[str, int]
    titles: TitleIndex  # the articles by the names their titles are (`links.py`)

    @property
    def size(self) -> int:
        return len(self.refs)

    def idf(self, term: str) -> float:
        n = max(len(self.refs), 1)
        df = self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self, query_terms: Sequence[str], k: int, article_ids: set[str] | None = None
    ) -> list[tuple[ChunkRef, float]]:
        known = [t for t in query_terms if t in self.vocab]
        if self.bm25 is None or not known:
            return []
        mask = None
        if article_ids is not None:
            mask = np.array([r.article_id in article_ids for r in self.refs], dtype=np.float32)
            if not mask.any():
                return []
        k = min(k, len(self.refs))
        docs, scores = self.bm25.retrieve([known], k=k, show_progress=False, weight_mask=mask, n_threads=1)
        return [(self.refs[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


EMPTY = Snapshot(None, None, (), {}, {}, TitleIndex())


class LexicalIndex:
    """The current `Snapshot`, replaced as a whole when the index changes.

    Readers take `snapshot()` once per question (or use the methods below, each of which reads
    one snapshot): a refresh in another thread can never mix a new index with an old vocabulary.
    """

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._snapshot = EMPTY

    def refresh(self, generation: int) -> None:
        """Rebuild from the store when its generation moved on, or its collections were created anew
        (`rebuild --reset` starts counting again); a cheap check otherwise."""
        key = (self.store.articles.id, generation)
        if self._snapshot.key == key:
            return
        with self._lock:
            if self._snapshot.key != key:
                self._snapshot = self._build(key)

    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def size(self) -> int:
        return self._snapshot.size

    def idf(self, term: str) -> float:
        return self._snapshot.idf(term)

    def search(
        self, query_terms: Sequence[str], k: int, article_ids: set[str] | None = None
    ) -> list[tuple[ChunkRef, float]]:
        return self._snapshot.search(query_terms, k, article_ids)

    def _build(self, key: Key) -> Snapshot:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        infos = self.store.article_infos()
        current = {i: info.content_hash for i, info in infos.items()}
        titles = TitleIndex((i, info.title) for i, info in infos.items())
        refs: list[ChunkRef] = []
        corpus: list[list[str]] = []
        for ids, metas, docs in self.store.scan_chunks():
            for chunk_id, meta, doc in zip(ids, metas, docs, strict=True):
                if current.get(meta["article_id"]) != meta["content_hash"]:
                    continue  # left over from an interrupted write
                refs.append(
                    ChunkRef(
                        chunk_id,
                        meta["article_id"],
                        meta["content_hash"],
                        int(meta["first_sentence"]),
                        int(meta["last_sentence"]),
                        str(meta.get("title", "")),
                        doc,
                    )
                )
                corpus.append(terms(f"{meta.get('title', '')} {doc}" if meta.get("chunk_index") == 0 else doc))
        df: dict[str, int] = {}
        for toks in corpus:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        if not refs:
            return Snapshot(key, None, (), {}, df, titles)
        bm25 = bm25s.BM25()
        bm25.index(_as_tokenized(corpus), show_progress=False)
        return Snapshot(key, bm25, tuple(refs), MappingProxyType(dict(bm25.vocab_dict)), MappingProxyType(df), titles)


def _as_tokenized(corpus: list[list[str]]) -> Tokenized:
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(tok, len(vocab)) for tok in doc] for doc in corpus]
    return Tokenized(ids=ids, vocab=vocab)

"""Writes to the store, in an order that survives a crash anywhere.

For each article: its new sentence and chunk records (ids carry the content hash), then its
article record (which makes the new version current), then the records of older versions are
deleted. A process killed in between leaves at worst records that no article record points to;
readers ignore them and the next write sweeps them away (`sweep`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Embedding, Metadata, Where
from chromadb.base_types import LiteralValue, LogicalOperator, WhereOperator

from assistant.indexing.chunk.work import Prepared
from assistant.store import IndexState, Store, chroma_errors, metadatas, record_prefix

PART = 5000  # records per Chroma call (an embedded Chroma takes at most 5,461)


class Rows(TypedDict):
    """The columns of one Chroma write."""

    ids: list[str]
    embeddings: list[Embedding]
    documents: list[str]
    metadatas: list[Metadata]


def write_batch(store: Store, batch: Sequence[Prepared], vectors: Sequence[np.ndarray], replaced: set[str]) -> None:
    """`vectors[i]` holds the sentence vectors of `batch[i]`. Few writes per collection for the whole batch (in
    parts of at most `PART` records: Chroma refuses larger ones), in the crash-safe order of the module doc."""
    sentence_rows: Rows = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    chunk_rows: Rows = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    article_rows: Rows = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    for item, own in zip(batch, vectors, strict=True):
        article, digest = item.article, item.content_hash
        prefix = record_prefix(article.id, digest)
        base: Metadata = {"article_id": article.id, "content_hash": digest}
        for s, vec in zip(item.sentences, own, strict=True):
            _append(
                sentence_rows,
                f"{prefix}s{s.index}",
                vec,
                s.text,
                {**base, "sentence_index": s.index, "start": s.start, "end": s.end},
            )
        for c in item.chunks:
            vector = _unit(own[c.first_sentence : c.last_sentence + 1].mean(axis=0))
            meta: Metadata = {
                **base,
                "chunk_index": c.index,
                "first_sentence": c.first_sentence,
                "last_sentence": c.last_sentence,
                "title": article.title,
            }
            _append(chunk_rows, f"{prefix}c{c.index}", vector, c.text, meta)
        _append(
            article_rows,
            article.id,
            _unit(own.mean(axis=0)),
            article.text,
            {
                "title": article.title,
                "source": article.source,
                "url": article.url,
                "published": article.published,
                "site": article.site,
                "author": article.author,
                "content_hash": digest,
                "sentences": len(item.sentences),
                "chunks": len(item.chunks),
            },
        )
    with chroma_errors(store.settings):
        _upsert(store.sentences, sentence_rows)
        _upsert(store.chunks, chunk_rows)
        _upsert(store.articles, article_rows)  # from here on the new versions are current
        for item in batch:
            if item.article.id in replaced:
                older: dict[WhereOperator | LogicalOperator, LiteralValue] = {"$ne": item.content_hash}
                stale: Where = {"$and": [{"article_id": item.article.id}, {"content_hash": older}]}
                store.chunks.delete(where=stale)
                store.sentences.delete(where=stale)


def _upsert(collection: Collection, rows: Rows) -> None:
    for start in range(0, len(rows["ids"]), PART):
        part = slice(start, start + PART)
        collection.upsert(
            ids=rows["ids"][part],
            embeddings=rows["embeddings"][part],
            documents=rows["documents"][part],
            metadatas=rows["metadatas"][part],
        )


def delete_article(store: Store, article_id: str) -> None:
    with chroma_errors(store.settings):
        store.articles.delete(ids=[article_id])
        store.chunks.delete(where={"article_id": article_id})
        store.sentences.delete(where={"article_id": article_id})


def begin_write(store: Store, state: IndexState | None = None) -> int:
    """Mark the index dirty (a write in progress), after sweeping what an interrupted write left; the
    generation to pass on, plus one, to `store.set_state(..., dirty=False)` once the write is done."""
    state = state or store.state()
    if state["dirty"]:
        sweep(store)
    store.set_state(state["generation"], dirty=True)
    return state["generation"]


def update_sources(store: Store, sources: dict[str, str]) -> None:
    """Record the new path of unchanged articles whose file was renamed (their text and records stay)."""
    if not sources:
        return
    with chroma_errors(store.settings):
        got = store.articles.get(ids=list(sources), include=["metadatas"])
        metas: list[Metadata] = [
            {**meta, "source": sources[i]} for i, meta in zip(got["ids"], metadatas(got), strict=True)
        ]
        if metas:
            store.articles.update(ids=got["ids"], metadatas=metas)


def sweep(store: Store) -> None:
    """Delete records that no current article points to (left by an interrupted write)."""
    current = {i: info.content_hash for i, info in store.article_infos().items()}
    for collection in (store.chunks, store.sentences):
        orphans: list[str] = []
        for ids, metas in store.scan(collection):
            orphans.extend(
                i
                for i, m in zip(ids, metas, strict=True)
                if current.get(str(m.get("article_id"))) != m.get("content_hash")
            )
        with chroma_errors(store.settings):
            for start in range(0, len(orphans), PART):
                collection.delete(ids=orphans[start : start + PART])


def _append(rows: Rows, id_: str, vector: Embedding, document: str, metadata: Metadata) -> None:
    rows["ids"].append(id_)
    rows["embeddings"].append(vector)
    rows["documents"].append(document)
    rows["metadatas"].append(metadata)


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)

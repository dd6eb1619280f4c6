"""Small helpers shared by tests: synthetic articles and record checks."""

from __future__ import annotations

import socket

from benchmarks.common import TOWNS, write_articles  # noqa: F401 (one source of synthetic articles; tests use it)


def record_hashes(store, collection) -> set[tuple[str, str]]:
    got = collection.get(include=["metadatas"])
    return {(m["article_id"], m["content_hash"]) for m in got["metadatas"]}


def assert_consistent(store) -> None:
    """Every chunk and sentence record belongs to the current version of a stored article."""
    current = {i: info.content_hash for i, info in store.article_infos().items()}
    for collection in (store.chunks, store.sentences):
        for art_id, digest in record_hashes(store, collection):
            assert current.get(art_id) == digest, f"orphan record of {art_id} in {collection.name}"
    for art_id, info in store.article_infos().items():
        got = store.sentences.get(where={"article_id": art_id}, include=[])
        assert len(got["ids"]) == info.sentences


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the one copy the tests share)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

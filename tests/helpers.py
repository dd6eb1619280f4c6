"""Small helpers shared by tests: synthetic articles and record checks."""

from __future__ import annotations

import socket
from pathlib import Path

TOWNS = ["Arden", "Bexley", "Corvin", "Dunmore", "Elston", "Fairholt", "Glenrock", "Harlow"]


def write_articles(folder: Path, count: int, sentences: int = 8, start: int = 0) -> list[Path]:
    """Distinct news-like articles, one .txt each."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        town = TOWNS[n % len(TOWNS)]
        lines = [f"Council of {town} district {n} approves plan {n}"]
        for j in range(sentences):
            lines.append(
                f"Officials in {town} district {n} said on day {j} that the budget of "
                f"{n * 1000 + j} dollars would fund project {n}-{j}."
            )
        path = folder / f"town-{n:04d}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


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

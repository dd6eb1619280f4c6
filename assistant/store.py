"""The Chroma store: the three collections, the stamp (embedding model and chunk geometry), reads and writes of
records.

Collections (prefix from `Settings.collection`):
- `<p>-chunks`: chunk vectors (retrieval unit); metadata names the article and sentence range;
- `<p>-sentences`: one vector per sentence with its offsets (ranking and citations);
- `<p>-articles`: one record per article: full text, title, source, content hash, counts.
All carry `content_hash`, so records of an older version of an article are recognisable.
Opening the client and translating Chroma's errors live in `assistant.client`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NotRequired, TypedDict, TypeVar
from uuid import UUID

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.rust import RustBindingsAPI
from chromadb.api.types import GetResult, Include, Metadata, Where
from chromadb.errors import InternalError

from assistant import index_lock
from assistant.client import chroma_errors as chroma_errors
from assistant.client import drop_index as drop_index
from assistant.client import make_client as make_client
from assistant.client import opening
from assistant.embeddings import EmbeddingModel
from assistant.errors import IndexMismatchError, IndexUnavailableError
from assistant.records import ArticleInfo, ArticleRecord, IndexHealth, Sentence, SentenceRecord
from assistant.settings import Settings

SCHEMA = 1
READ_TRIES = 3  # a read the store failed from the inside is tried again twice (`Store.snapshot`)
READ_PAUSE = 0.05  # seconds before the second try, twice that before the third
T = TypeVar("T")
log = logging.getLogger(__name__)
LEGACY_GEOMETRY = (3, 2)  # an index stamped before the chunk geometry was stamped was cut so (and only so)
_PAGE = 5000


class IndexState(TypedDict):
    """`Store.state()`: the index's generation (counts writes) and whether a write was interrupted."""

    generation: int
    dirty: bool


class ChunkMeta(TypedDict):
    """A chunk record's metadata as `Store.scan_chunks` gives it (`indexing/write/writes.py` writes it)."""

    article_id: str
    content_hash: str
    first_sentence: int
    last_sentence: int
    title: str
    chunk_index: NotRequired[int]  # 0: the article's first chunk (the lexical index reads its title with it)


def meta_text(meta: Metadata, key: str) -> str:
    """A text field of a record's metadata (a KeyError when it lacks it, a TypeError when it is no text)."""
    value = meta[key]
    if not isinstance(value, str):
        raise TypeError(f"the record's {key} is a {type(value).__name__}, not text")
    return value


def meta_int(meta: Metadata, key: str, default: int | None = None) -> int:
    """A whole-number field of a record's metadata, as `int()` reads it (`default` when it lacks it and one is
    given, else a KeyError; a TypeError when it is no number)."""
    value = meta[key] if default is None else meta.get(key, default)
    if not isinstance(value, int | float | str):
        raise TypeError(f"the record's {key} is a {type(value).__name__}, not a number")
    return int(value)


def metadatas(got: GetResult) -> list[Metadata]:
    """The metadata of a read that asked for it."""
    found = got["metadatas"]
    if found is None:
        raise TypeError("the store sent no metadata for a read that asked for it")
    return found


def documents(got: GetResult) -> list[str]:
    """The documents of a read that asked for them."""
    found = got["documents"]
    if found is None:
        raise TypeError("the store sent no documents for a read that asked for them")
    return found


def article_info(article_id: str, meta: Metadata) -> ArticleInfo:
    """An article's record (its metadata as the store holds it) as the typed `ArticleInfo`."""
    return ArticleInfo(
        id=article_id,
        title=str(meta.get("title", article_id)),
        source=str(meta.get("source", "")),
        content_hash=str(meta.get("content_hash", "")),
        sentences=meta_int(meta, "sentences", 0),
        chunks=meta_int(meta, "chunks", 0),
        url=str(meta.get("url") or "") or None,
        published=str(meta.get("published") or "") or None,
        site=str(meta.get("site") or "") or None,
        author=str(meta.get("author") or "") or None,
    )


class Store:
    """The three collections over one client, stamped with the embedder that built them.

    Several processes may share an embedded index (the web chat, `assistant ingest`, `watch`).
    Chroma keeps each collection's vector index in the memory of the process that opened it and
    does not notice another process's writes: queries would go on returning deleted records
    (with no metadata) and never find new ones. So `state()`, which readers call before each
    question, compares the index's state with the last one this process saw or wrote, and when
    someone else changed it, makes this process see the change (`_follow`). And a read must never meet a
    write in progress (a record in the database whose vector this process's copy lacks: "Error finding id"),
    so every read holds `reading()`, and a writer waits for the reads in flight (`index_lock`).
    """

    def __init__(self, client: ClientAPI, embedder: EmbeddingModel, settings: Settings, *, geometry: tuple[int, int]):
        """`geometry`: (sentences per chunk, sentences between chunk starts) that the indexing side cuts, which
        retrieval reads back (indexing/chunk/chunking.py WINDOW, STRIDE); stamped like the embedding model."""
        self.client = client
        self.embedder = embedder
        self.settings = settings
        self.geometry = geometry
        self.stamp = {
            "embedding_model": embedder.model_name,
            "embedding_dim": embedder.dimension,
            "chunk_window": geometry[0],
            "chunk_stride": geometry[1],
            "schema": SCHEMA,
        }
        self._follow_lock = threading.Lock()
        # states of the index this process has caught up with or written itself: (collection id,
        # generation, dirty). The generation only grows, so another process's write is never among them.
        self._known: deque[tuple[UUID, int, bool]] = deque(maxlen=8)
        with opening(settings), chroma_errors(settings):
            self._open()
            meta = self.articles.metadata or {}
        self._known.append((self.articles.id, int(meta.get("generation", 0)), bool(meta.get("dirty", False))))

    def _open(self) -> None:
        prefix = self.settings.collection
        self.articles = self._collection(f"{prefix}-articles")
        self.chunks = self._collection(f"{prefix}-chunks")
        self.sentences = self._collection(f"{prefix}-sentences")

    def _collection(self, name: str) -> Collection:
        col = self.client.get_or_create_collection(
            name,
            # chromadb's type also admits images; ours embeds text, which is all we give it
            embedding_function=self.embedder,  # type: ignore[arg-type]
            metadata=dict(self.stamp),
            configuration={"hnsw": {"space": "cosine"}},
        )
        meta = col.metadata or {}
        found = (meta.get("embedding_model"), meta.get("embedding_dim"))
        wanted = (self.stamp["embedding_model"], self.stamp["embedding_dim"])
        if found != wanted:
            raise IndexMismatchError(
                f"the index in '{self.location}' was built with {found[0]} (dimension {found[1]}), "
                f"but the embedder now is {wanted[0]} (dimension {wanted[1]}); vectors of two models "
                "cannot be mixed. Rebuild it with the current model: assistant rebuild --reset "
                "(or set ASSISTANT_EMBEDDINGS back to the model that built it)."
            )
        cut = (meta.get("chunk_window", LEGACY_GEOMETRY[0]), meta.get("chunk_stride", LEGACY_GEOMETRY[1]))
        if cut != self.geometry:
            raise IndexMismatchError(
                f"the index in '{self.location}' was cut into chunks of {cut[0]} sentences, one starting every "
                f"{cut[1]}, but this version cuts {self.geometry[0]} every {self.geometry[1]}; its chunks would "
                "map to the wrong sentences. Rebuild it: assistant rebuild --reset"
            )
        return col

    @property
    def location(self) -> str:
        """Where the index is, as a person should be told: the server's URL or the folder's full path."""
        return self.settings.chroma_url or str(Path(self.settings.index_dir).resolve())

    def snapshot(self, read: Callable[[], T]) -> T:
        """`read()` as one snapshot (`reading()`), tried again when the store failed it from the inside: a Chroma
        server can answer a read that meets a write in progress with an internal error (2 reads in 761 while a
        writer wrote, `docs/reliability.md`), and the same read succeeds a moment later. Embedded, the reload of
        the vector indexes comes first (a writer that took no read lock, an older version of this program)."""
        for attempt in range(READ_TRIES):
            try:
                with self.reading():
                    return read()
            except IndexUnavailableError as exc:
                if attempt == READ_TRIES - 1 or not isinstance(exc.__cause__, InternalError):
                    raise
                log.info("the store failed a read from the inside (%s); reading again", exc.__cause__)
                time.sleep(READ_PAUSE * (attempt + 1))
                if not self.settings.chroma_url:
                    self._reload()
        raise AssertionError("unreachable")  # the last try returns or raises

    def _reload(self) -> None:
        with self._follow_lock, chroma_errors(self.settings):
            self._restart_bindings()

    def _restart_bindings(self) -> None:
        """Embedded: new bindings over the same files, which read the vector indexes afresh (a Chroma server
        serves every client alike: nothing to do). The caller holds `_follow_lock`."""
        server = getattr(self.client, "_server", None)
        if isinstance(server, RustBindingsAPI):
            server.start()

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Held for one read, or several that must see one snapshot: no batch is written meanwhile, by this process
        or another (`assistant.index_lock`); nested reads, and reads inside this thread's write, take nothing."""
        return index_lock.reading(self.settings)

    # ---- state: generation counter and the dirty flag of an interrupted write
    def state(self) -> IndexState:
        """The index's generation and dirty flag as stored now; see the class doc for `_follow`."""
        with self.reading():
            with chroma_errors(self.settings):
                col = self.client.get_collection(self.articles.name)
            meta = col.metadata or {}
            state = IndexState(generation=int(meta.get("generation", 0)), dirty=bool(meta.get("dirty", False)))
            self._follow((col.id, int(state["generation"]), bool(state["dirty"])))
            return state

    def set_state(self, generation: int, dirty: bool) -> None:
        # known before it is written: a reader that sees our own write has nothing to follow
        self._known.append((self.articles.id, generation, dirty))
        with chroma_errors(self.settings):
            self.articles.modify(metadata={**self.stamp, "generation": generation, "dirty": dirty})

    def _follow(self, seen: tuple[UUID, int, bool]) -> None:
        """Catch up with a change another process made: reopen the collections if they were
        dropped and created anew (`rebuild --reset`), and reload the vector indexes from disk."""
        if seen in self._known:
            return
        with self._follow_lock, chroma_errors(self.settings):
            if seen in self._known:
                return
            if seen[0] != self.articles.id:
                self._open()
            self._restart_bindings()
            self._known.append(seen)

    # ---- reads
    def article_infos(self) -> dict[str, ArticleInfo]:
        with self.reading():
            return self._article_infos()

    def _article_infos(self) -> dict[str, ArticleInfo]:
        self.state()  # follows another process's changes first (see the class doc)
        out: dict[str, ArticleInfo] = {}
        for ids, metas in self.scan(self.articles):
            for art_id, meta in zip(ids, metas, strict=True):
                out[art_id] = article_info(art_id, meta)
        return out

    def article_records(self, ids: Sequence[str], with_text: bool = True) -> dict[str, ArticleRecord]:
        """The records (metadata, and the full text `with_text`) of those of the given articles that exist."""
        if not ids:
            return {}
        include: Include = ["metadatas", "documents"] if with_text else ["metadatas"]
        with self.reading():
            self.state()
            with chroma_errors(self.settings):
                got = self.articles.get(ids=list(dict.fromkeys(ids)), include=include)
        docs: list[str] | list[None] = documents(got) if with_text else [None] * len(got["ids"])
        return {
            i: ArticleRecord(article_info(i, m), d if with_text else None)
            for i, m, d in zip(got["ids"], metadatas(got), docs, strict=True)
        }

    def sentences_of(self, article_id: str, content_hash: str) -> list[SentenceRecord]:
        """Every sentence of that version of the article, in order (without vectors)."""
        where: Where = {"$and": [{"article_id": article_id}, {"content_hash": content_hash}]}
        return self._sentences(False, where=where)

    def sentences_by_index(
        self, wanted: dict[str, tuple[str, Sequence[int]]], with_vectors: bool = False
    ) -> list[SentenceRecord]:
        """Sentences of several articles in one round trip: {article_id: (content_hash, indices)}."""
        ids = [
            f"{record_prefix(a, digest)}s{i}" for a, (digest, indices) in wanted.items() for i in dict.fromkeys(indices)
        ]
        return self._sentences(with_vectors, ids=ids) if ids else []

    def _sentences(
        self, with_vectors: bool, *, ids: list[str] | None = None, where: Where | None = None
    ) -> list[SentenceRecord]:
        """The sentence records with those ids, or those `where` says (Chroma's `get`)."""
        include: Include = ["metadatas", "documents", "embeddings"] if with_vectors else ["metadatas", "documents"]
        with self.reading(), chroma_errors(self.settings):
            got = self.sentences.get(ids=ids, where=where, include=include)
        vectors = got.get("embeddings") if with_vectors else None
        out = []
        for n, (meta, doc) in enumerate(zip(metadatas(got), documents(got), strict=True)):
            sentence = Sentence(
                meta_text(meta, "article_id"),
                meta_int(meta, "sentence_index"),
                meta_int(meta, "start"),
                meta_int(meta, "end"),
                doc,
            )
            out.append(SentenceRecord(sentence, _vector(vectors[n]) if vectors is not None else None))
        return sorted(out, key=lambda s: (s.sentence.article_id, s.sentence.index))

    def counts(self) -> dict[str, int]:
        with self.reading():
            self.state()
            with chroma_errors(self.settings):
                return {
                    "articles": self.articles.count(),
                    "chunks": self.chunks.count(),
                    "sentences": self.sentences.count(),
                }

    def health(self) -> IndexHealth:
        """Whether a write was interrupted, and how many records no current article points to
        (readers ignore them; the next write sweeps them away)."""
        with self.reading():  # one snapshot
            state = self.state()
            infos = self.article_infos().values()
            counts = self.counts()
        return IndexHealth(
            bool(state["dirty"]),
            counts["chunks"] - sum(i.chunks for i in infos),
            counts["sentences"] - sum(i.sentences for i in infos),
        )

    def _pages(self, collection: Collection, include: Include) -> Iterator[GetResult]:
        """Every record of the collection, `_PAGE` at a time."""
        offset = 0
        with chroma_errors(self.settings):
            while True:
                got = collection.get(include=include, where=None, limit=_PAGE, offset=offset)
                if not got["ids"]:
                    return
                yield got
                if len(got["ids"]) < _PAGE:
                    return
                offset += _PAGE

    def scan(self, collection: Collection) -> Iterator[tuple[list[str], list[Metadata]]]:
        """(ids, metadatas) pages of every record of the collection."""
        for got in self._pages(collection, ["metadatas"]):
            yield got["ids"], metadatas(got)

    def scan_chunks(self) -> Iterator[tuple[list[str], list[ChunkMeta], list[str]]]:
        """(ids, metadatas, documents) pages of every chunk: the lexical index is built from them."""
        for got in self._pages(self.chunks, ["metadatas", "documents"]):
            yield got["ids"], [_chunk_meta(m) for m in metadatas(got)], documents(got)


def _chunk_meta(meta: Metadata) -> ChunkMeta:
    chunk = ChunkMeta(
        article_id=meta_text(meta, "article_id"),
        content_hash=meta_text(meta, "content_hash"),
        first_sentence=meta_int(meta, "first_sentence"),
        last_sentence=meta_int(meta, "last_sentence"),
        title=str(meta.get("title", "")),
    )
    if "chunk_index" in meta:
        chunk["chunk_index"] = meta_int(meta, "chunk_index")
    return chunk


def _vector(stored: object) -> np.ndarray:
    """A stored vector as Chroma reads it back: a numpy array (its type also admits a sequence of numbers)."""
    return stored if isinstance(stored, np.ndarray) else np.asarray(stored, dtype=np.float32)


def record_prefix(article_id: str, content_hash: str) -> str:
    return f"{article_id}::{content_hash[:16]}::"

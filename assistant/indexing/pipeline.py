"""The threads of an ingest: split → embed → write, overlapping, with the write lock held only to write.

One thread splits the articles file by file (within each file's `WorkLimit`) and hands over batches of
about `BATCH_SENTENCES` sentences; this thread embeds each batch (`embed.py`), every distinct text once (identical
sentences or units, in an article or across the run, share one vector); a writer thread writes each batch
under the index's write lock, taken per batch and only once its vectors are ready. So a second writer
waits at most for one batch's write, never for an embedding. Before writing, each batch is checked
against the index as it stands under the lock: an article another process stored meanwhile in the same
version is left alone (unchanged), and one whose id another file took meanwhile is rejected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue

import numpy as np

from assistant.indexing.chunk.work import Prepared, WorkLimit, prepare_files
from assistant.indexing.embed import embed_batch, run_embedder
from assistant.indexing.write.locking import write_lock
from assistant.indexing.write.writes import begin_write, write_batch
from assistant.records import Article, IngestReport, Rejection
from assistant.store import Store

BATCH_SENTENCES = 256  # sentences embedded together and written under one hold of the lock
JOIN_SECONDS = 60  # the splitter stops between articles; one article splits in seconds at most
Progress = Callable[[int, int], None]  # (done, total) in articles
log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What the writes of one batch did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def index_articles(
    store: Store, todo: list[Article], limit: WorkLimit, report: IngestReport, progress: Progress | None
) -> list[Rejection]:
    """Split, embed and write `todo`; counts and rejections go to `report`. Returns the rejections (files and
    articles not written), whose stored articles the caller keeps: no deletion on doubt."""
    batches: Queue[list[Prepared] | None] = Queue(maxsize=2)  # None: the splitter is done
    stop = threading.Event()
    failures: list[BaseException] = []
    rejected: list[Rejection] = []  # appended by the splitter thread and this one, read once both have stopped

    def hand_over(item: list[Prepared] | None) -> bool:
        """Put one item in the queue unless the consumer has stopped; never blocks for good."""
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in _batches(prepare_files(todo, store.embedder, limit, stop, rejected), BATCH_SENTENCES):
                if not hand_over(batch):
                    return
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)
        finally:
            hand_over(None)

    embedder = run_embedder(store.embedder)
    producer = threading.Thread(target=produce, name="assistant-split", daemon=True)
    producer.start()
    done = 0
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="assistant-write") as writer:
            pending: tuple[Future[Outcome], int] | None = None
            while (batch := batches.get()) is not None:
                vectors, embedded = embed_batch(embedder, batch)  # before the lock: others may write meanwhile
                report.sentences_embedded += embedded
                if pending is not None:
                    done = _count(pending, report, rejected, progress, done, len(todo))
                pending = (writer.submit(commit, store, batch, vectors), len(batch))
            if pending is not None:
                _count(pending, report, rejected, progress, done, len(todo))
    finally:
        stop.set()
        producer.join(timeout=JOIN_SECONDS)
        if producer.is_alive():
            log.error("the sentence splitter did not stop within %s s", JOIN_SECONDS)
    if failures:
        raise failures[0]
    report.rejected.extend(rejected)
    return rejected


def commit(store: Store, batch: Sequence[Prepared], vectors: Sequence[np.ndarray]) -> Outcome:
    """Write one batch under the write lock, checked against the index as it stands now."""
    outcome = Outcome()
    with write_lock(store.settings):
        stored = store.article_records([p.article.id for p in batch], with_text=False)
        keep: list[Prepared] = []
        keep_vectors: list[np.ndarray] = []
        for item, own in zip(batch, vectors, strict=True):
            record = stored.get(item.article.id)
            if record is not None and record.info.content_hash == item.content_hash:
                outcome.unchanged += 1  # another process stored this version meanwhile
                continue
            other = record.info.source if record is not None else ""
            if other and other != item.article.source and Path(other).exists():
                outcome.rejected.append(
                    Rejection(
                        item.article.source,
                        f"article id '{item.article.id}' is already used by {other}; rename one of the files "
                        "(or give the JSON record its own 'id')",
                    )
                )
                continue
            keep.append(item)
            keep_vectors.append(own)
        if keep:
            generation = begin_write(store)
            replaced = {p.article.id for p in keep if p.article.id in stored}
            write_batch(store, keep, keep_vectors, replaced)
            store.set_state(generation + 1, dirty=False)
            outcome.updated = len(replaced)
            outcome.added = len(keep) - len(replaced)
    return outcome


def _count(
    pending: tuple[Future[Outcome], int],
    report: IngestReport,
    rejected: list[Rejection],
    progress: Progress | None,
    done: int,
    total: int,
) -> int:
    future, size = pending
    outcome = future.result()  # the batch is stored (or its error is raised here)
    report.added += outcome.added
    report.updated += outcome.updated
    report.unchanged += outcome.unchanged
    rejected.extend(outcome.rejected)
    done += size
    if progress:
        progress(done, total)
    return done


def _batches(items: Iterable[Prepared], size: int) -> Iterator[list[Prepared]]:
    batch: list[Prepared] = []
    count = 0
    for item in items:
        batch.append(item)
        count += len(item.sentences)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch

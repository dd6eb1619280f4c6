"""The indexing side: load → split → chunk → embed → store. Incremental, idempotent, crash-safe
(the order of writes is in `writes.py`). Splitting, embedding and writing overlap in threads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue

from assistant.errors import InputError, require_utf8
from assistant.indexing.chunking import make_chunks
from assistant.indexing.files import INDEX_FOLDER, is_index, iter_files, max_bytes
from assistant.indexing.loaders import content_hash, load_file
from assistant.indexing.locking import write_lock
from assistant.indexing.sentences import PysbdBudget, split_sentences
from assistant.indexing.writes import Prepared, delete_article, sweep, update_sources, write_batch
from assistant.records import Article, ArticleInfo, IngestReport, Rejection
from assistant.store import Store

BATCH_SENTENCES = 256  # sentences embedded and written together
Progress = Callable[[int, int], None]  # (done, total) in articles
_DONE = object()
JOIN_SECONDS = 60  # the splitter stops between articles; one article splits in seconds at most
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    load: list[Article]
    rejected: list[Rejection]
    rejected_sources: set[str]  # files with a problem: their stored articles are never removed
    loaded_sources: set[str]  # JSON files read whole: stored articles of theirs not in `load` are gone


class Indexer:
    def __init__(self, store: Store):
        self.store = store
        self.embedder = store.embedder
        self.settings = store.settings

    # ---- public
    def ingest(self, paths: Iterable[str | Path], progress: Progress | None = None) -> IngestReport:
        return self._run(list(paths), mirror=False, progress=progress)

    def rebuild(self, folder: str | Path, progress: Progress | None = None) -> IngestReport:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"'{folder}' is not a folder; rebuild mirrors a folder of articles")
        if is_index(folder):  # mirroring it would remove every article
            raise InputError(f"'{folder}' is {INDEX_FOLDER}")
        return self._run([folder], mirror=True, progress=progress)

    def remove(self, article_ids: Sequence[str]) -> IngestReport:
        report = IngestReport()
        started = time.perf_counter()
        article_ids = [require_utf8(i, "article id") for i in article_ids]
        with write_lock(self.settings):
            existing = self.store.article_infos()
            missing = [i for i in article_ids if i not in existing]
            if missing:
                raise InputError(f"no article with id {', '.join(missing)} in the index")
            generation = self._begin()
            for art_id in article_ids:
                delete_article(self.store, art_id)
                report.removed += 1
            self.store.set_state(generation + 1, dirty=False)
        report.seconds = time.perf_counter() - started
        return report

    # ---- the run
    def _run(self, paths: list, mirror: bool, progress: Progress | None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        plan = self._load(paths)
        report.rejected.extend(plan.rejected)
        with write_lock(self.settings):
            existing = self.store.article_infos()
            todo: list[Article] = []
            moved: dict[str, str] = {}  # id -> its file's new path: the file it was stored from is gone
            for article in self._check_ids(plan, existing, report):
                info = existing.get(article.id)
                if info is not None and info.source and info.source != article.source:
                    moved[article.id] = article.source
                if info is not None and info.content_hash == content_hash(article):
                    report.unchanged += 1
                else:
                    todo.append(article)
            kept = {a.id for a in plan.load}
            if mirror:
                stale = [
                    i for i, info in existing.items() if i not in kept and info.source not in plan.rejected_sources
                ]
            else:  # records deleted from a JSON/JSONL file that was read, under its name or the one it had
                read = plan.loaded_sources | {
                    existing[i].source for i, new in moved.items() if new in plan.loaded_sources
                }
                stale = [i for i, info in existing.items() if i not in kept and info.source in read]
            state = self.store.state()
            if not todo and not stale and not moved and not state["dirty"]:
                report.seconds = time.perf_counter() - started
                return report
            generation = self._begin(state)
            for art_id in stale:
                delete_article(self.store, art_id)
                report.removed += 1
            update_sources(self.store, {i: new for i, new in moved.items() if i not in {a.id for a in todo}})
            self._index(todo, existing, report, progress)
            self.store.set_state(generation + 1, dirty=False)
        report.seconds = time.perf_counter() - started
        return report

    def _load(self, paths: list) -> Plan:
        articles: list[Article] = []
        rejected: list[Rejection] = []
        rejected_sources: set[str] = set()
        loaded_sources: set[str] = set()
        limit = max_bytes(self.settings.max_file_mb)
        for item in iter_files(paths):
            if isinstance(item, Rejection):
                rejected.append(item)
                rejected_sources.add(_own_path(item.path))
                continue
            found: list[Rejection] = []
            try:
                articles.extend(load_file(item, limit, found))
            except InputError as exc:
                found.append(Rejection(str(item), str(exc)))
            except OSError as exc:
                found.append(Rejection(str(item), f"cannot be read ({exc.strerror or exc})"))
            except Exception as exc:  # any other parse failure rejects this file, never the run
                log.warning("reading %s failed", item, exc_info=True)
                found.append(Rejection(str(item), f"cannot be read as an article ({type(exc).__name__})"))
            rejected.extend(found)
            if found:
                rejected_sources.add(str(item.resolve()))
            elif item.suffix.lower() in (".json", ".jsonl"):  # a file of many articles, read whole
                loaded_sources.add(str(item.resolve()))
        return Plan(articles, rejected, rejected_sources, loaded_sources)

    def _check_ids(self, plan: Plan, existing: dict[str, ArticleInfo], report: IngestReport) -> list[Article]:
        """Article ids must be unique: a second file with the same id is rejected, not merged."""
        seen: dict[str, str] = {}
        ok: list[Article] = []
        for article in plan.load:
            other = seen.get(article.id)
            if other is None:
                info = existing.get(article.id)
                if info and info.source and info.source != article.source and Path(info.source).exists():
                    other = info.source
            if other is not None and other != article.source:
                report.rejected.append(
                    Rejection(
                        article.source,
                        f"article id '{article.id}' is already used by {other}; rename one of the files "
                        "(or give the JSON record its own 'id')",
                    )
                )
                continue
            if other == article.source and article.id in seen:
                report.rejected.append(Rejection(article.source, f"article id '{article.id}' appears twice"))
                continue
            seen[article.id] = article.source
            ok.append(article)
        return ok

    def _begin(self, state: dict | None = None) -> int:
        state = state or self.store.state()
        if state["dirty"]:
            sweep(self.store)
        self.store.set_state(state["generation"], dirty=True)
        return state["generation"]

    # ---- embedding and writing: split in one thread, embed here, write in another, batches in order
    def _index(
        self, todo: list[Article], existing: dict[str, ArticleInfo], report: IngestReport, progress: Progress | None
    ) -> None:
        batches: Queue = Queue(maxsize=2)
        stop = threading.Event()
        failures: list[BaseException] = []

        def hand_over(item: object) -> bool:
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
                for batch in _batches(self._prepare(todo, report, stop), BATCH_SENTENCES):
                    if not hand_over(batch):
                        return
            except BaseException as exc:  # handed to the caller below
                failures.append(exc)
            finally:
                hand_over(_DONE)

        producer = threading.Thread(target=produce, name="assistant-split", daemon=True)
        producer.start()
        done = 0
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="assistant-write") as writer:
                pending: tuple[Future, list[Prepared]] | None = None
                while (batch := batches.get()) is not _DONE:
                    texts = [s.text for p in batch for s in p.sentences]
                    vectors = self.embedder.embed(texts)
                    report.sentences_embedded += len(texts)
                    if pending is not None:
                        done += self._finish(pending, existing, report, progress, done, len(todo))
                    replaced = {p.article.id for p in batch if p.article.id in existing}
                    pending = (writer.submit(write_batch, self.store, batch, vectors, replaced), batch)
                if pending is not None:
                    self._finish(pending, existing, report, progress, done, len(todo))
        finally:
            stop.set()
            producer.join(timeout=JOIN_SECONDS)
            if producer.is_alive():
                log.error("the sentence splitter did not stop within %s s", JOIN_SECONDS)
        if failures:
            raise failures[0]

    def _prepare(self, todo: list[Article], report: IngestReport, stop: threading.Event):
        budgets = {article.source: PysbdBudget() for article in todo}  # one per file
        for article in todo:
            if stop.is_set():
                return
            try:
                sentences = split_sentences(article, budgets[article.source])
            except Exception:  # a splitter failure rejects this article, never the run
                log.warning("splitting %s failed", article.source, exc_info=True)
                report.rejected.append(Rejection(article.source, "its sentences cannot be split"))
                continue
            if not sentences:
                report.rejected.append(Rejection(article.source, "no sentences found in the text"))
                continue
            yield Prepared(article, content_hash(article), sentences, make_chunks(article, sentences))

    @staticmethod
    def _finish(pending, existing, report: IngestReport, progress: Progress | None, done: int, total: int) -> int:
        future, batch = pending
        future.result()  # the batch is stored (or its error is raised here)
        for item in batch:
            if item.article.id in existing:
                report.updated += 1
            else:
                report.added += 1
        if progress:
            progress(done + len(batch), total)
        return len(batch)


def _batches(items: list[Prepared], size: int):
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


def _own_path(path: str) -> str:
    """The path with its folders resolved but not its last part: a link stands for itself, not its target."""
    p = Path(path).absolute()
    return str(p.parent.resolve() / p.name)

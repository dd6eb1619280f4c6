"""The indexing side: load → split → chunk → embed → store. Incremental, idempotent, crash-safe (the order of
writes is in `write/writes.py`). Reading, splitting and embedding happen without the write lock (`pipeline.py`);
each batch's writes, and the removals at the end, take it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import InputError, require_utf8
from assistant.indexing.chunk.work import WorkLimit
from assistant.indexing.parse.loaders import content_hash, load_file
from assistant.indexing.parse.web_sources import load_url
from assistant.indexing.pipeline import Progress, index_articles
from assistant.indexing.sources.addresses import normalise_url
from assistant.indexing.sources.fetch import is_url
from assistant.indexing.sources.files import INDEX_FOLDER, is_index, iter_files, max_bytes
from assistant.indexing.write.locking import write_lock
from assistant.indexing.write.writes import begin_write, delete_article, update_sources
from assistant.records import Article, ArticleInfo, IngestReport, Rejection
from assistant.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    load: list[Article]
    rejected: list[Rejection]
    rejected_sources: set[str]  # files with a problem: their stored articles are never removed
    loaded_sources: set[str]  # JSON files read whole: stored articles of theirs not in `load` are gone


@dataclass(frozen=True)
class Moved:
    """An article whose file was renamed: stored from `old` (gone), read now from `new`."""

    old: str
    new: str


class Indexer:
    def __init__(self, store: Store, limit: WorkLimit | None = None):
        self.store = store
        self.embedder = store.embedder
        self.settings = store.settings
        self.limit = limit or WorkLimit()

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
            generation = begin_write(self.store)
            for art_id in article_ids:
                delete_article(self.store, art_id)
                report.removed += 1
            self.store.set_state(generation + 1, dirty=False)
        report.seconds = time.perf_counter() - started
        return report

    # ---- the run
    def _run(self, paths: list[str | Path], mirror: bool, progress: Progress | None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        plan = self._load(paths)
        report.rejected.extend(plan.rejected)
        existing = self.store.article_infos()  # read without the lock: each write checks again under it
        todo: list[Article] = []
        moved: dict[str, Moved] = {}
        for article in self._check_ids(plan, existing, report):
            info = existing.get(article.id)
            if info is not None and info.source and info.source != article.source:
                moved[article.id] = Moved(info.source, article.source)  # the old file is gone (_check_ids)
            if info is not None and info.content_hash == content_hash(article):
                report.unchanged += 1
            else:
                todo.append(article)
        doubtful = set(plan.rejected_sources)
        if todo:
            doubtful |= {r.path for r in index_articles(self.store, todo, self.limit, report, progress)}
        self._remove_stale(plan, mirror, moved, doubtful, report)
        report.seconds = time.perf_counter() - started
        return report

    def _remove_stale(
        self, plan: Plan, mirror: bool, moved: dict[str, Moved], doubtful: set[str], report: IngestReport
    ) -> None:
        """Articles gone from what was read are removed, renamed files recorded, and an interrupted write swept:
        decided on the index as it stands under the lock (another writer may have changed it meanwhile)."""
        kept = {a.id for a in plan.load}
        read = plan.loaded_sources - doubtful  # JSON files read whole, under their name or the one they had
        read |= {m.old for m in moved.values() if m.new in read}

        def work(infos: dict[str, ArticleInfo]) -> tuple[list[str], dict[str, str]]:
            if mirror:  # a folder's mirror leaves the pages added by address alone (remove them by id)
                stale = [
                    i
                    for i, info in infos.items()
                    if i not in kept and info.source not in doubtful and not is_url(info.source)
                ]
            else:
                stale = [i for i, info in infos.items() if i not in kept and info.source in read]
            renamed = {i: m.new for i, m in moved.items() if i in infos and infos[i].source != m.new}
            return stale, renamed

        stale, renamed = work(self.store.article_infos())
        if not stale and not renamed and not self.store.state()["dirty"]:
            return  # nothing to do: no lock taken
        with write_lock(self.settings):
            stale, renamed = work(self.store.article_infos())
            state = self.store.state()
            if not stale and not renamed and not state["dirty"]:
                return
            generation = begin_write(self.store, state)
            for art_id in stale:
                delete_article(self.store, art_id)
                report.removed += 1
            update_sources(self.store, renamed)
            self.store.set_state(generation + 1, dirty=False)

    def _load(self, paths: list[str | Path]) -> Plan:
        articles: list[Article] = []
        rejected: list[Rejection] = []
        rejected_sources: set[str] = set()
        loaded_sources: set[str] = set()
        limit = max_bytes(self.settings.max_file_mb)
        read: set[str] = set()
        for url in (str(p) for p in paths if _addressed(p)):  # pages and feeds by address, each address read once
            try:
                same = normalise_url(url)
            except InputError:
                same = url  # rejected by load_url below, with the reason
            if same in read:
                continue
            read.add(same)
            try:
                found_articles, found_rejections = load_url(
                    url,
                    max_bytes=limit,
                    timeout=self.settings.request_timeout,
                    allow_private=self.settings.allow_private_urls,
                )
            except InputError as exc:
                rejected.append(Rejection(url, str(exc)))
                rejected_sources.add(url)
                continue
            except Exception as exc:  # any other failure rejects this address, never the run
                log.warning("reading %s failed", url, exc_info=True)
                rejected.append(Rejection(url, f"cannot be read as an article ({type(exc).__name__})"))
                rejected_sources.add(url)
                continue
            articles.extend(found_articles)
            rejected.extend(found_rejections)
            rejected_sources.update(r.path for r in found_rejections)
        for item in iter_files(p for p in paths if not _addressed(p)):
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
        """Article ids must be unique: a second file with the same id is rejected, not merged. A page stored under
        the address it names but was not fetched from (its same-host canonical one) never replaces an article read
        from another address: a page fetched from its own address is read first and wins."""
        seen: dict[str, str] = {}
        ok: list[Article] = []
        for article in sorted(plan.load, key=_borrows_address):  # stable: the order is kept otherwise
            other = seen.get(article.id)
            if other is None:
                info = existing.get(article.id)
                if info and info.source and info.source != article.source:
                    if Path(info.source).exists():
                        other = info.source
                    elif _borrows_address(article) and is_url(info.source):
                        if info.content_hash == content_hash(article):
                            report.unchanged += 1  # the same text: nothing to replace
                            continue
                        other = info.source
            if other is not None and other != article.source:
                report.rejected.append(Rejection(article.source, _taken(article, other)))
                continue
            if other == article.source and article.id in seen:
                report.rejected.append(Rejection(article.source, f"article id '{article.id}' appears twice"))
                continue
            seen[article.id] = article.source
            ok.append(article)
        return ok


def _addressed(item: str | Path) -> bool:
    """Is the item an address rather than a file? A malformed address ("http://[::1") is one too: `load_url`
    rejects it with its reason, instead of the whole run failing."""
    try:
        return is_url(item)
    except Exception:
        return "://" in str(item)


def _borrows_address(article: Article) -> bool:
    """A page stored under an address other than the one it was fetched from (the canonical one it states)."""
    return bool(article.url) and article.url != article.source and is_url(article.source)


def _taken(article: Article, other: str) -> str:
    if _borrows_address(article):
        return (
            f"the page names {article.url} as its address, and the article of that address is read from {other}; "
            f"add {article.url} itself to update it"
        )
    return (
        f"article id '{article.id}' is already used by {other}; rename one of the files "
        "(or give the JSON record its own 'id')"
    )


def _own_path(path: str) -> str:
    """The path with its folders resolved but not its last part: a link stands for itself, not its target."""
    p = Path(path).absolute()
    return str(p.parent.resolve() / p.name)

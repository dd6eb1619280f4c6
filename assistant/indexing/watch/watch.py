"""`assistant watch`: poll a folder and rebuild when files arrive, change or vanish; poll feeds (`feeds.py`).

No feed ends the watch: a feed's failure, whatever it is, is printed and the feed polled again next time; only
Ctrl-C (KeyboardInterrupt) or the end of the process stops it.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from assistant.errors import AssistantError
from assistant.indexing.sources.files import is_index
from assistant.indexing.watch.feeds import FeedWatcher
from assistant.records import IngestReport

log = logging.getLogger(__name__)
Entry = tuple[int, int, int, str]  # kind, size, mtime (ns), link target


class Rebuilds(Protocol):
    """What watching needs of the assistant: a rebuild that mirrors the folder, an ingest of pages by URL."""

    def rebuild(self, folder: str | Path) -> IngestReport: ...

    def ingest(self, paths: list[str]) -> IngestReport: ...


def snapshot(folder: Path) -> dict[str, Entry]:
    """(kind, size, mtime, link target) of every visible entry below the folder, links not followed.

    Cheap, and enough to notice a file or a link arriving, changing or vanishing; what a rebuild then
    reads (or rejects) follows the folder rule in `sources/files.py`.
    """
    out: dict[str, Entry] = {}
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not is_index(Path(here) / d)]  # as files.py reads it
        for name in files + [d for d in dirs if (Path(here) / d).is_symlink()]:
            if name.startswith("."):
                continue
            path = Path(here) / name
            try:
                st = path.lstat()
                target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
            except OSError:
                continue
            out[str(path)] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, target)
    return out


def watch(
    bot: Rebuilds,
    folder: str | Path | None,
    interval: float,
    on_report: Callable[[IngestReport], object],
    max_rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    feeds: FeedWatcher | None = None,
    every: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Rebuild the folder now, then whenever its snapshot changes; poll the feeds now, then every `every` seconds.
    `max_rounds` bounds the loop (tests)."""
    folder = Path(folder) if folder is not None else None
    what = [f"{folder} every {interval:g} s"] if folder is not None else []
    if feeds is not None:
        what.append(f"{len(feeds.feeds)} feed(s) every {every:g} s")
    print(f"watching {' and '.join(what)}; Ctrl-C stops", flush=True)
    last = None
    polled: float | None = None
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
        if folder is not None:
            current = snapshot(folder) if folder.is_dir() else {}
            if current != last:
                try:
                    report = bot.rebuild(folder)
                except AssistantError as exc:
                    print(f"error: {exc}", flush=True)
                else:
                    if report.changed or report.rejected or last is None:
                        on_report(report)
                    last = current
        if feeds is not None and (polled is None or clock() - polled >= every):
            polled = clock()
            try:
                polls = feeds.poll(bot.ingest)
            except Exception as exc:  # FeedWatcher answers for each feed; this is the last guard of the loop
                log.debug("polling the feeds failed", exc_info=True)
                print(f"error: the feeds cannot be polled ({type(exc).__name__}); tried again next time", flush=True)
                polls = []
            for poll in polls:
                if poll.error:
                    print(f"error: feed {poll.feed}: {poll.error} (tried again next time)", flush=True)
                elif poll.report is not None and (poll.report.changed or poll.report.rejected):
                    on_report(poll.report)
        sleep(interval if folder is not None or feeds is None else min(interval, every))

"""`assistant watch`: poll a folder and rebuild when files arrive, change or vanish."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from assistant.errors import AssistantError
from assistant.indexing.files import is_index
from assistant.records import IngestReport

Entry = tuple[int, int, int, str]  # kind, size, mtime (ns), link target


class Rebuilds(Protocol):
    """What watching needs of the assistant: a rebuild that mirrors the folder."""

    def rebuild(self, folder: str | Path) -> IngestReport: ...


def snapshot(folder: Path) -> dict[str, Entry]:
    """(kind, size, mtime, link target) of every visible entry below the folder, links not followed.

    Cheap, and enough to notice a file or a link arriving, changing or vanishing; what a rebuild then
    reads (or rejects) follows the folder rule in `files.py`.
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
    folder: str | Path,
    interval: float,
    on_report: Callable[[IngestReport], object],
    max_rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Rebuild now, then whenever the snapshot changes. `max_rounds` bounds the loop (tests)."""
    folder = Path(folder)
    print(f"watching {folder} every {interval:g} s; Ctrl-C stops", flush=True)
    last = None
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
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
        sleep(interval)

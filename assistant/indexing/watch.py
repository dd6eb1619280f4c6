"""`assistant watch`: poll a folder and rebuild when files arrive, change or vanish."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from assistant.errors import AssistantError
from assistant.records import IngestReport


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every visible file below the folder: cheap, and enough to notice a change."""
    out = {}
    for path in folder.rglob("*"):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts):
            try:
                st = path.stat()
            except OSError:
                continue
            out[str(path)] = (st.st_size, st.st_mtime_ns)
    return out


def watch(bot, folder: str | Path, interval: float, on_report: Callable[[IngestReport], object],
          max_rounds: int | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
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

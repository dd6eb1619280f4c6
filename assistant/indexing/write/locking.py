"""One writer at a time for an embedded index: a file lock beside the Chroma files; while it writes, no reader of any
process reads (`assistant.index_lock`)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import IndexBusyError, IndexUnavailableError
from assistant.index_lock import writing
from assistant.settings import Settings

LOCK_NAME = ".write.lock"


@contextlib.contextmanager
def write_lock(settings: Settings, timeout: float | None = None) -> Iterator[None]:
    """Held while an ingest or rebuild writes. A Chroma server serialises writes itself."""
    if settings.chroma_url:
        yield
        return
    folder = Path(settings.index_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexUnavailableError(
            f"cannot create the index folder '{folder}' ({exc.strerror}); choose another ASSISTANT_INDEX_DIR"
        ) from exc
    if not os.access(folder, os.W_OK):
        raise IndexUnavailableError(
            f"the index folder '{folder}' is read-only; make it writable or choose another ASSISTANT_INDEX_DIR"
        )
    wait = settings.lock_timeout if timeout is None else timeout
    deadline = time.monotonic() + wait
    lock = FileLock(str(folder / LOCK_NAME), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise IndexBusyError(
            f"another process is writing the index at '{folder}' (waited {wait:.0f} s); let it finish, then try again"
        ) from None
    try:
        with writing(settings, deadline):
            yield
    finally:
        lock.release()

"""Readers and writers of one embedded index in several processes: a reader never sees a write in progress.

Embedded Chroma is not built for several processes: each keeps its own copy of the vector indexes in memory, and
a read in one process while another writes can find a record in the database whose vector its copy does not hold
yet ("Error finding id"). So the processes sharing an index folder coordinate through two lock files beside the
Chroma files (`flock`, released by the kernel when a process dies):

    .read.lock   readers hold it shared for one read (a question's whole retrieval: one snapshot); a writer holds
                 it exclusively for one batch's write (never while it embeds), so a reader waits one batch at most
    .gate.lock   a turnstile: a writer takes it exclusively before waiting for the readers, and readers pass it
                 (shared, for an instant) before they read, so a stream of readers cannot starve a writer

Each acquisition opens the file anew, so threads of one process exclude each other as processes do. A thread that
already reads or writes the folder reads again without another lock (nested reads; a writer reading what it
writes). A Chroma server serialises its clients itself: with `ASSISTANT_CHROMA_URL` nothing is locked here.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import IndexBusyError
from assistant.settings import Settings

READ_LOCK = ".read.lock"
GATE_LOCK = ".gate.lock"
_RW = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
_POLL_MAX = 0.02  # seconds between two tries while someone else holds the lock

_held = threading.local()  # per thread: {index folder: "read" | "write"}


def _holding() -> dict[Path, str]:
    if not hasattr(_held, "folders"):
        _held.folders = {}
    folders: dict[Path, str] = _held.folders
    return folders


def _open(path: Path) -> int | None:
    """A descriptor to lock `path` with, created if need be; None when the folder can be neither written nor the
    file read (a read-only index nobody here can write: there is no writer to wait for)."""
    try:
        return os.open(path, _RW, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None


def _lock(fd: int, operation: int, deadline: float, what: str, folder: Path) -> None:
    """flock with a deadline: tried at once, then every few milliseconds until `deadline`."""
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise IndexBusyError(
                    f"another process has been {what} the index at '{folder}' for too long "
                    "(ASSISTANT_LOCK_TIMEOUT); let it finish, then try again"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)


def _folder(settings: Settings) -> Path:
    return Path(settings.index_dir).resolve()


@contextlib.contextmanager
def reading(settings: Settings) -> Iterator[None]:
    """Held while this thread reads the index: no batch is written meanwhile, by any process."""
    if settings.chroma_url:
        yield
        return
    folder = _folder(settings)
    holding = _holding()
    if folder in holding or not folder.is_dir():  # nested, inside this thread's write, or nothing to read yet
        yield
        return
    deadline = time.monotonic() + settings.lock_timeout
    fd = _open(folder / READ_LOCK)
    if fd is None:
        yield
        return
    try:
        gate = _open(folder / GATE_LOCK)
        if gate is not None:
            try:
                _lock(gate, fcntl.LOCK_SH, deadline, "writing", folder)
            finally:
                os.close(gate)  # passed: the turnstile is free again
        _lock(fd, fcntl.LOCK_SH, deadline, "writing", folder)
        holding[folder] = "read"
        try:
            yield
        finally:
            del holding[folder]
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def writing(settings: Settings, deadline: float) -> Iterator[None]:
    """Held while this thread writes one batch: readers of every process wait until it is written whole.
    `deadline`: a `time.monotonic()` past which IndexBusyError is raised instead of waiting on."""
    if settings.chroma_url:
        yield
        return
    folder = _folder(settings)
    holding = _holding()
    if holding.get(folder) == "write":
        yield
        return
    if holding.get(folder) == "read":  # waiting for our own read to end would never end
        raise RuntimeError(f"a write to '{folder}' was started inside a read of it in the same thread")
    gate, fd = os.open(folder / GATE_LOCK, _RW, 0o644), os.open(folder / READ_LOCK, _RW, 0o644)
    try:
        _lock(gate, fcntl.LOCK_EX, deadline, "reading", folder)  # no new reader gets past the gate
        _lock(fd, fcntl.LOCK_EX, deadline, "reading", folder)  # the readers inside have finished
        holding[folder] = "write"
        try:
            yield
        finally:
            del holding[folder]
    finally:
        os.close(fd)
        os.close(gate)

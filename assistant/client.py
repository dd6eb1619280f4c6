"""The Chroma client: opening an embedded index or a server, and translating Chroma's errors.

One place where database exceptions become messages a person can act on (`chroma_errors`); an
embedded index is created by one process at a time (`opening`); a read-only one is read from a
private copy; `drop_index` deletes the collections without opening them.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from filelock import FileLock, Timeout

from assistant.errors import IndexBusyError, IndexMismatchError, IndexUnavailableError
from assistant.settings import Settings

log = logging.getLogger(__name__)

OPEN_LOCK = ".open.lock"


def translate_chroma_error(exc: Exception, settings: Settings) -> IndexUnavailableError:
    """One place where database exceptions become messages a person can act on."""
    if settings.chroma_url and type(exc).__name__ == "InternalError":  # it answered, with an error of its own
        return IndexUnavailableError(
            f"the index is unavailable: the Chroma server at {settings.chroma_url} failed the request "
            f"(InternalError: {str(exc)[:200]}); try again, and if it persists, read the server's log."
        )
    if settings.chroma_url:
        return IndexUnavailableError(
            f"the index is unavailable: the Chroma server at {settings.chroma_url} did not answer "
            f"({type(exc).__name__}). Check that it is running (chroma run --path ... --port ...) "
            "and try again."
        )
    return IndexUnavailableError(
        f"the index at '{settings.index_dir}' cannot be used ({type(exc).__name__}: {str(exc)[:200]}). "
        "Check that the folder exists and is writable and that no other program holds it. Only if the index "
        "itself is damaged: `assistant rebuild --reset` rebuilds it from the articles folder (it drops what "
        "was indexed from elsewhere)"
    )


@contextlib.contextmanager
def chroma_errors(settings: Settings) -> Iterator[None]:
    try:
        yield
    except (IndexMismatchError, IndexUnavailableError):
        raise
    except Exception as exc:  # chromadb raises many types (HTTP, sqlite, rust bindings)
        raise translate_chroma_error(exc, settings) from exc


def make_client(settings: Settings) -> ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    with chroma_errors(settings):
        if settings.chroma_url:
            host, port, ssl = settings.chroma_host_port()
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
            _bound_http_timeout(client, settings.request_timeout)
            return client
        path = Path(settings.index_dir)
        if _read_only(path):
            path = _readable_copy(path)
        with opening(settings):
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _read_only(folder: Path) -> bool:
    database = folder / "chroma.sqlite3"
    return database.is_file() and not (os.access(folder, os.W_OK) and os.access(database, os.W_OK))


def _readable_copy(folder: Path) -> Path:
    """Chroma writes to its database even to open it, so a read-only index (a read-only volume, another
    user's folder) is read from a private copy, deleted at exit. Writes are refused on the original's
    terms: the write lock finds the folder read-only and says so."""
    copy = Path(tempfile.mkdtemp(prefix="assistant-readonly-index-"))
    atexit.register(shutil.rmtree, copy, True)
    try:
        shutil.copytree(folder, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.lock"))
    except OSError as exc:
        raise IndexUnavailableError(
            f"the index at '{folder}' is read-only and could not be copied to read it ({exc.strerror or exc}); "
            "make it writable, or copy it somewhere writable and set ASSISTANT_INDEX_DIR to that copy"
        ) from exc
    log.warning(
        "the index at %s is read-only: reading a copy in %s (questions work; ingest, rebuild and remove are refused)",
        folder,
        copy,
    )
    return copy


@contextlib.contextmanager
def opening(settings: Settings) -> Iterator[None]:
    """One process at a time creates an embedded index's database and collections: two creating
    the same new index at once failed ("table collections already exists"). A folder this process
    cannot write is only read, so it needs no lock (and could not hold one)."""
    if settings.chroma_url:
        yield
        return
    folder = Path(settings.index_dir)
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        yield
        return
    try:
        with FileLock(str(folder / OPEN_LOCK), timeout=settings.lock_timeout):
            yield
    except Timeout:
        raise IndexBusyError(
            f"another process has been opening the index at '{folder}' for {settings.lock_timeout:g} s; "
            "let it finish, then try again"
        ) from None


def _bound_http_timeout(client: ClientAPI, seconds: float) -> None:
    """chromadb's HTTP client waits forever by default; a hung server must not hang us."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))


def drop_index(settings: Settings) -> None:
    """Delete the three collections (`rebuild --reset`, e.g. after a change of embedding model).

    Works without opening them, so an index stamped with another model can be dropped."""
    client = make_client(settings)
    with chroma_errors(settings):
        existing = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
        for suffix in ("articles", "chunks", "sentences"):
            name = f"{settings.collection}-{suffix}"
            if name in existing:
                client.delete_collection(name)

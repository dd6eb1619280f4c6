"""What lets every process on the machine share one model server: its record, a lock, and checks.

Beside the model cache, `runtime/` holds, per model file:

    <model>.json       the record: pid, port, model file, its sha256, when it started, its keep-alive
    <model>.lock       taken (flock) by whoever starts or stops the server, so two starters start one
    <model>.active     touched before, during (at most once a second) and after every request: the server stops
                       itself after keep-alive seconds without a touch ...
    <model>.inflight/  ... and never while a request is in flight: one marker file per request, named by the pid
                       of the process that sent it (a marker whose process is gone does not count). The markers
                       also say whether the model was busy with another request of ours when one times out.
    <model>.check.*    the same four for the model check's own server of the same file (`llama_server.check_server`)

A record is never trusted blindly: the pid must be alive, run by this user, and be a llama.cpp server of ours on
the recorded port and model file (its command line says so), and the server must respond.

The files are ours alone: the cache folder, `runtime/` and every file in it must belong to this user and be
writable by no one else (else LocalModelError says how to fix it); the folders are made with mode 0o700, the files
0o600. Files are opened with O_NOFOLLOW and the record is replaced from a fresh `mkstemp` file, so a symbolic link
planted at any of these names never makes us write a file elsewhere.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.errors import LocalModelError

SERVER_MODULE = "llama_cpp.server"  # in the command line of every server we start


@dataclass(frozen=True)
class RuntimeRecord:
    pid: int
    port: int
    model_path: str
    sha256: str | None  # what the file hashed to when this server started (None: not checked)
    started: float  # time.time()
    keep_alive: float  # seconds idle before it stops itself; 0: it stops with the process that started it
    owner: int  # the pid of the process that started it

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FIX = "or set ASSISTANT_MODEL_CACHE to a folder of your own"


def check_private(path: Path, what: str, *, follow: bool = False) -> None:
    """Refuse `path` (when it exists) unless it belongs to this user and no one else can write to it. `follow`:
    a symbolic link is allowed and its target checked (the cache folder the person chose); else a link is refused.
    Explicit checks, so they hold for root too (root passes every permission check of the system's own)."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LocalModelError(f"{what} {path} cannot be checked ({exc.strerror}); {_FIX}.") from None
    if stat.S_ISLNK(st.st_mode):
        raise LocalModelError(
            f"{what} {path} is a symbolic link, and the local model's files are never opened through one; "
            f"remove it (`rm {path}`) {_FIX}."
        )
    if st.st_uid != os.geteuid():
        raise LocalModelError(
            f"{what} {path} belongs to another user (uid {st.st_uid}), and the local model's files must be yours "
            f"alone; use a folder of your own: set ASSISTANT_MODEL_CACHE."
        )
    if st.st_mode & 0o022:
        raise LocalModelError(
            f"{what} {path} can be changed by other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run `chmod go-w {path}`, {_FIX}."
        )


def private_dir(path: Path, what: str, *, follow: bool = False) -> Path:
    """`path` made (mode 0o700) when missing, and checked (`check_private`)."""
    try:
        Path(path).mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalModelError(f"{what} {path} cannot be made ({exc.strerror}); {_FIX}.") from None
    check_private(path, what, follow=follow)
    return Path(path)


def _open(path: Path, flags: int, what: str) -> int:
    """os.open without following a symbolic link; a file we create is 0o600. The file is checked once open."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            check_private(path, what)  # raises: it is a symbolic link
        raise
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            check_private(path, what)  # raises, with how to fix it
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass(frozen=True)
class RuntimeFiles:
    record: Path
    lock: Path
    activity: Path
    cache_dir: Path | None = None  # the folder holding the model and `runtime/`: checked, never made here

    @classmethod
    def beside(cls, state_dir: Path, model_path: Path, slot: str = "") -> RuntimeFiles:
        """The files of the model file's server; `slot` names a second server of the same file that keeps its own
        record, lock and activity (the model check's: "<model>.check.json", ...)."""
        base = Path(state_dir) / "runtime" / (Path(model_path).name + (f".{slot}" if slot else ""))
        return cls(
            base.with_name(base.name + ".json"),
            base.with_name(base.name + ".lock"),
            base.with_name(base.name + ".active"),
            Path(state_dir),
        )

    @property
    def in_flight_dir(self) -> Path:
        return self.activity.with_name(self.activity.name.removesuffix(".active") + ".inflight")

    def check(self) -> None:
        """Refuse folders or files another user could change (those that exist; nothing is made)."""
        if self.cache_dir is not None:
            check_private(self.cache_dir, "the model cache folder", follow=True)
        check_private(self.record.parent, "the model's runtime folder")
        for path, what in ((self.record, "the model's runtime record"), (self.lock, "the model's lock file")):
            check_private(path, what)
        check_private(self.activity, "the model's activity file")
        check_private(self.in_flight_dir, "the model's in-flight folder")

    def prepare(self) -> None:
        """The runtime folder made (0o700) when missing, and everything checked."""
        if self.cache_dir is not None:
            private_dir(self.cache_dir, "the model cache folder", follow=True)
        private_dir(self.record.parent, "the model's runtime folder")
        self.check()

    def read(self) -> RuntimeRecord | None:
        """The record, or None when there is none or it cannot be parsed. LocalModelError when it (or its folder)
        could have been written by someone else."""
        self.check()
        try:
            fd = _open(self.record, os.O_RDONLY, "the model's runtime record")
        except OSError:
            return None
        try:
            with os.fdopen(fd, "r", encoding="utf-8") as f:
                data = json.load(f)
            return RuntimeRecord(
                pid=int(data["pid"]),
                port=int(data["port"]),
                model_path=str(data["model_path"]),
                sha256=data.get("sha256"),
                started=float(data["started"]),
                keep_alive=float(data["keep_alive"]),
                owner=int(data.get("owner", 0)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable: treated as none (the lock holder replaces it)

    def write(self, record: RuntimeRecord) -> None:
        """Replace the record: a fresh file (mkstemp: a new name, O_EXCL, 0o600) in the same folder, then os.replace,
        which replaces a link at the record's name rather than writing through it."""
        self.prepare()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.record.name}.", suffix=".tmp", dir=self.record.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(record), f)
            os.replace(tmp, self.record)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def forget(self, pid: int | None = None) -> None:
        """Remove the record (only if it is still the one of `pid`, when given)."""
        current = self.read()
        if pid is None or (current is not None and current.pid == pid):
            self.record.unlink(missing_ok=True)

    def touch(self) -> None:
        self.prepare()
        fd = _open(self.activity, os.O_WRONLY | os.O_CREAT, "the model's activity file")
        try:
            os.utime(fd)
        finally:
            os.close(fd)

    def idle_seconds(self) -> float | None:
        try:
            return max(0.0, time.time() - os.lstat(self.activity).st_mtime)
        except OSError:
            return None

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[InFlight]:
        """Mark one request in flight for as long as it lasts: the activity is touched before and after, and the
        idle watchdog does not stop the server while the marker is there (see `InFlight`)."""
        self.touch()
        folder = private_dir(self.in_flight_dir, "the model's in-flight folder")
        marker = folder / f"{os.getpid()}.{uuid.uuid4().hex}"
        others = live_markers(folder)
        os.close(_open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, "the model's in-flight marker"))
        try:
            yield InFlight(self, marker, others)
        finally:
            marker.unlink(missing_ok=True)
            self.touch()

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        """Hold the runtime's lock; LocalModelError when another process holds it longer than `timeout`."""
        self.prepare()
        fd = _open(self.lock, os.O_RDWR | os.O_CREAT, "the model's lock file")
        with os.fdopen(fd, "r+b") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LocalModelError(
                            f"another process has been starting or stopping the local model for over {timeout:.0f} s "
                            f"(lock {self.lock}); try again, or stop it with `assistant model stop`."
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class InFlight:
    """One request of ours in flight. `others`: how many other requests of ours (any process on this machine) were
    in flight when it was sent; `refresh()` touches the activity (at most once a second) while its answer streams."""

    def __init__(self, files: RuntimeFiles, marker: Path, others: int):
        self.files, self.marker, self.others = files, marker, others
        self.sent = time.monotonic()
        self._touched = self.sent

    def refresh(self) -> None:
        now = time.monotonic()
        if now - self._touched >= 1.0:
            self._touched = now
            self.files.touch()
            with contextlib.suppress(OSError):
                os.utime(self.marker, follow_symlinks=False)  # a marker left untouched for STALE_MARKER s is stale

    def others_now(self) -> int:
        return max(0, live_markers(self.marker.parent) - (1 if self.marker.exists() else 0))


STALE_MARKER = 7200.0  # seconds: longer than any request can last untouched (ASSISTANT_REQUEST_TIMEOUT <= 3600)


def live_markers(folder: Path) -> int:
    """In-flight markers in `folder` of a live process, touched within STALE_MARKER seconds; the others (a process
    killed mid-request, or hung) do not count, and are removed."""
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    live = 0
    for name in names:
        pid = name.split(".", 1)[0]
        path = Path(folder) / name
        try:
            fresh = time.time() - os.lstat(path).st_mtime < STALE_MARKER
        except OSError:
            continue
        if pid.isdigit() and process_alive(int(pid)) and fresh:
            live += 1
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return live


def process_alive(pid: int) -> bool:
    """Is there a live (not zombie) process with this pid?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, but not ours (`is_our_server` says no)
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc here: os.kill said it exists


def command_line(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None


def process_uid(pid: int) -> int | None:
    """The user a process runs as (the owner of /proc/PID), or None when it cannot be told."""
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def is_our_server(pid: int, port: int, model_path: str | Path) -> bool:
    """Is `pid` a llama.cpp server we started, on `port`, serving `model_path`? It must run as this user (another
    user's process is never adopted, probed or killed, whatever its command line), and its command line says so."""
    if process_uid(pid) != os.geteuid():
        return False
    args = command_line(pid)
    if args is None:
        return False
    return (
        SERVER_MODULE in " ".join(args)
        and _after(args, "--port") == str(port)
        and _after(args, "--model") == str(model_path)
    )


def _after(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


def responds(port: int, timeout: float) -> bool:
    """Does the server's web loop answer? `/openapi.json` is served without the model's lock, so a server busy
    with another chat's answer still responds; a stopped or hung one does not."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def resident_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None

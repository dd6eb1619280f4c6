"""What lets every process on the machine share one model server: its record, a lock, and checks.

Beside the model cache, `runtime/` holds, per model file:

    <model>.json     the record: pid, port, model file, its sha256, when it started, its keep-alive
    <model>.lock     taken (flock) by whoever starts or stops the server, so two starters start one
    <model>.active   touched before and after every request: the server stops itself after
                     keep-alive seconds without a touch

A record is never trusted blindly: the pid must be alive and be a llama.cpp server of ours on the
recorded port and model file (its command line says so), and the server must respond.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import urllib.error
import urllib.request
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


@dataclass(frozen=True)
class RuntimeFiles:
    record: Path
    lock: Path
    activity: Path

    @classmethod
    def beside(cls, state_dir: Path, model_path: Path) -> RuntimeFiles:
        base = Path(state_dir) / "runtime" / Path(model_path).name
        return cls(
            base.with_name(base.name + ".json"),
            base.with_name(base.name + ".lock"),
            base.with_name(base.name + ".active"),
        )

    def read(self) -> RuntimeRecord | None:
        try:
            data = json.loads(self.record.read_text(encoding="utf-8"))
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
            return None  # none, or unreadable: treated as none (the lock holder replaces it)

    def write(self, record: RuntimeRecord) -> None:
        self.record.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.record.with_name(f"{self.record.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(record)), encoding="utf-8")
        os.replace(tmp, self.record)

    def forget(self, pid: int | None = None) -> None:
        """Remove the record (only if it is still the one of `pid`, when given)."""
        current = self.read()
        if pid is None or (current is not None and current.pid == pid):
            self.record.unlink(missing_ok=True)

    def touch(self) -> None:
        self.activity.parent.mkdir(parents=True, exist_ok=True)
        with open(self.activity, "a"):
            pass
        os.utime(self.activity)

    def idle_seconds(self) -> float | None:
        try:
            return max(0.0, time.time() - self.activity.stat().st_mtime)
        except OSError:
            return None

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        """Hold the runtime's lock; LocalModelError when another process holds it longer than `timeout`."""
        self.lock.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock, "a") as handle:
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


def is_our_server(pid: int, port: int, model_path: str | Path) -> bool:
    """Is `pid` a llama.cpp server we started, on `port`, serving `model_path`? (Its command line says so.)"""
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

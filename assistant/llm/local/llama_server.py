"""llama.cpp's OpenAI-compatible server on a free 127.0.0.1 port: one per model file, shared by every process.

The first process that needs the model starts the server and records it (`runtime.RuntimeFiles`); every
later one (another `assistant ask`, `assistant chat`, a web chat, the Python API) finds the record,
checks it (the pid alive, a server of ours on that port and model file, responding) and reuses it.
Two processes starting at once start one server (a file lock). With a keep-alive (`ASSISTANT_MODEL_KEEP_ALIVE`,
default 10 minutes) the server outlives the command and stops itself after that long without a request;
with 0 it is the child of the process that started it and stops with it, even on kill -9.

Before each request `ensure_running()` checks the server: one that died, hung (no response within
`liveness_timeout`, e.g. after `kill -STOP`) or serves another model file is replaced, a bounded number of
times. Every start hashes the model file first (`verify`): the sha256 is what makes it trustworthy.

    server = LlamaServer(ServerConfig(model_path=path, log_path=cache_dir / "llama-server.log", keep_alive=600))
    base_url = server.ensure_running()   # "http://127.0.0.1:PORT/v1", model name "local"
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import LocalModelError
from assistant.llm.local.local_model import QWEN_CODER_1_5B, ModelSpec, cache_dir_for, ensure_model_file, verify_model
from assistant.llm.local.runtime import (
    RuntimeFiles,
    RuntimeRecord,
    check_private,
    is_our_server,
    private_dir,
    process_alive,
    resident_bytes,
    responds,
)
from assistant.settings import Settings

log = logging.getLogger(__name__)

MODEL_ALIAS = "local"
LOG_MAX_BYTES = 20 * 1024 * 1024
MIN_FREE_BYTES = 2_200_000_000  # the 1.5B Q4_K_M model with a 4096-token context: ~1.9-2.0 GB resident
# `--cache` (off by default): every state it saves also holds a copy of llama-cpp-python's logits buffer, n_batch x
# vocab floats (311 MB at n_batch 512 for Qwen2.5, 78 MB at 128), which its byte limit does not count, so it grows
# with the number of distinct prompts (measured: +1.4 GB after four requests at 512). Without it the server still
# reuses the prefix shared with the previous request (measured: 15 of 1,116 tokens evaluated for a second question).
CACHE_MIN_FREE_BYTES = 3_500_000_000

# Runs in the child. With a parent pid: exit when that process goes away (even on kill -9). With a keep-alive:
# exit after that many seconds without a request (the activity file untouched) and with no request in flight (no
# marker of a live process, touched within `runtime.STALE_MARKER` s, in the in-flight folder: a long answer is never
# cut short), forgetting its own record under the lock, so a process that is about to use it either sees it alive or
# starts another. Nothing is opened through a symbolic link. Then llama_cpp.server.
_CHILD = """\
import fcntl, json, os, runpy, sys, threading, time
parent, keep_alive = int(sys.argv[1]), float(sys.argv[2])
record, lock, activity, in_flight = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
born = time.time()
def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
def live(name):
    try:
        fresh = time.time() - os.lstat(os.path.join(in_flight, name)).st_mtime < 7200
    except OSError:
        return False
    return fresh and name.split(".", 1)[0].isdigit() and alive(int(name.split(".", 1)[0]))
def busy():
    try:
        return any(live(name) for name in os.listdir(in_flight))
    except OSError:
        return False
def idle():
    try:
        since = time.time() - os.lstat(activity).st_mtime
    except OSError:
        since = time.time() - born
    return 0.0 if busy() else since
def mine():
    try:
        fd = os.open(record, os.O_RDONLY | NOFOLLOW)
        with os.fdopen(fd) as f:
            return json.load(f).get("pid") == os.getpid()
    except (OSError, ValueError):
        return False
def watch():
    while True:
        time.sleep(1.0)
        if parent and os.getppid() != parent:
            os._exit(0)
        if keep_alive > 0 and idle() > keep_alive:
            try:
                fd = os.open(lock, os.O_RDWR | NOFOLLOW)
            except OSError:
                continue
            with os.fdopen(fd, "r+b") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                if idle() > keep_alive:
                    if mine():
                        os.unlink(record)
                    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["llama_cpp.server", *sys.argv[7:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class ServerConfig:
    model_path: Path
    log_path: Path
    alias: str = MODEL_ALIAS
    n_ctx: int = 4096
    n_threads: int = field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 4)))
    n_batch: int = 512  # measured faster than 128 for prompt processing (1.1-1.6x, interleaved runs)
    prompt_cache: bool = False  # --cache: keep earlier prompts' states (see CACHE_MIN_FREE_BYTES for its cost)
    cache_bytes: int = 64 * 1024 * 1024  # counts KV state only (~29 KB per token): about two answer prompts
    logits_all: bool = False  # a row of logits per token of context: what log-probabilities need (the check server)
    slot: str = ""  # a second server of the same model file, with its own record ("check": the model check's)
    extra_args: tuple[str, ...] = ()
    start_timeout: float = 120.0
    min_free_bytes: int = MIN_FREE_BYTES  # below this the server is not started
    cache_min_free_bytes: int = CACHE_MIN_FREE_BYTES  # below this it is started without the prompt cache
    meminfo: Path = Path("/proc/meminfo")
    max_restarts: int = 3  # within restart_window seconds; then the server is given up
    restart_window: float = 600.0
    keep_alive: float = 0.0  # seconds idle before a shared server stops itself; 0: it stops with its starter
    state_dir: Path | None = None  # where the runtime record lives; None: beside the log
    verify: Callable[[Path], str] | None = None  # hashes the model file before every start, returns its sha256
    expected_sha256: str | None = None  # a recorded server whose file hashed otherwise is replaced
    liveness_timeout: float = 3.0  # a server that does not respond within this (twice) is hung: killed, replaced

    def arguments(self, port: int, prompt_cache: bool | None = None) -> list[str]:
        threads = str(self.n_threads)
        args = [
            "--model",
            str(self.model_path),
            "--model_alias",
            self.alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_batch",
            str(self.n_batch),
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--logits_all",
            str(self.logits_all),
            "--use_mlock",
            "False",
            "--interrupt_requests",
            "False",
        ]  # queue a second chat's request; never cut a streaming answer short
        if self.prompt_cache if prompt_cache is None else prompt_cache:
            args += ["--cache", "True", "--cache_type", "ram", "--cache_size", str(self.cache_bytes)]
        return args + list(self.extra_args)


def free_memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in bytes, or None where /proc/meminfo does not exist (not Linux)."""
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_free_memory(required: int, meminfo: Path = Path("/proc/meminfo")) -> None:
    available = free_memory_bytes(meminfo)
    if available is not None and available < required:
        raise LocalModelError(
            f"only {available / 1e9:.1f} GB of memory is free and the local model needs about "
            f"{required / 1e9:.1f} GB; close other programs, or set ASSISTANT_ANSWERER=extractive "
            "(or OPENAI_API_KEY) to answer without it."
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _models_answer(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own 127.0.0.1 child)
            return response.status == 200 and "data" in json.loads(response.read() or b"{}")
    except (OSError, ValueError, urllib.error.URLError):
        return False


class LlamaServer:
    """A handle on the model file's shared server: starts, reuses, checks and replaces it; thread-safe."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.files = RuntimeFiles.beside(config.state_dir or config.log_path.parent, config.model_path, config.slot)
        self._process: subprocess.Popen[bytes] | None = None  # the server, when this process started it
        self._record: RuntimeRecord | None = None  # the server in use (ours or adopted)
        self._lock = threading.Lock()
        self._deaths: deque[float] = deque()
        self._atexit_registered = False
        self._last_exit = ""
        self.starts = 0  # servers this handle started
        self.adopted = 0  # servers this handle found running and reused
        self.prompt_cache_active = False

    @property
    def base_url(self) -> str:
        if self._record is None:
            raise LocalModelError("the local model server has not been started.")
        return self._record.base_url

    @property
    def pid(self) -> int | None:
        return self._record.pid if self._record is not None else None

    @property
    def record(self) -> RuntimeRecord | None:
        return self._record

    def is_running(self) -> bool:
        record = self._record
        if record is None:
            return False
        if self._process is not None and self._process.pid == record.pid:
            return self._process.poll() is None
        return process_alive(record.pid)

    def ensure_running(self) -> str:
        """The address of a working server: the one in use, another process's (recorded and checked), or a new one.

        A server that died, hung or serves another file is replaced; after more than `max_restarts` losses within
        `restart_window` seconds it is given up: every call raises LocalModelError until the window passes.

        The activity is touched first (a server about to stop for idleness sees this request coming) and again once
        the server is found or ready (checking and starting take seconds, a keep-alive may be short): the request
        that follows marks itself in flight (`RuntimeFiles.in_flight`)."""
        url = self._ensure_running()
        self.files.touch()
        return url

    def _ensure_running(self) -> str:
        with self._lock:
            self.files.touch()
            if self._record is not None:
                state = self._state(self._record)
                if state == "ok":
                    return self.base_url
                self._lose(self._record, state)
            if self._adopt():
                return self.base_url
            self._check_given_up()
            with self.files.locked(self.config.start_timeout + 120):  # one starter at a time, machine-wide
                if self._adopt():  # another process started it while we waited
                    return self.base_url
                stale = self.files.read()
                if stale is not None:
                    self._dispose(stale)
                use_cache = self._preflight()  # no model file or not enough memory: refused, not counted as a crash
                sha256 = self.config.verify(self.config.model_path) if self.config.verify else None
                try:
                    self._start(use_cache, sha256)
                except LocalModelError as exc:
                    self._deaths.append(time.monotonic())
                    self._last_exit = "failed to start"
                    raise exc from None
            return self.base_url

    def start(self) -> str:
        return self.ensure_running()

    # --- checking ------------------------------------------------------------------------------------------------

    def _state(self, record: RuntimeRecord) -> str:
        """ "ok", or why the recorded server cannot be used: "gone", "foreign" (not our server of this model file, or
        its file hashed otherwise) or "hung" (alive, ours, but it does not respond)."""
        own = self._process is not None and self._process.pid == record.pid
        if (own and self._process is not None and self._process.poll() is not None) or not process_alive(record.pid):
            return "gone"
        if record.model_path != str(self.config.model_path) or not is_our_server(
            record.pid, record.port, record.model_path
        ):
            return "foreign"
        if self.config.expected_sha256 and record.sha256 != self.config.expected_sha256:
            return "foreign"
        timeout = self.config.liveness_timeout
        if not (responds(record.port, timeout) or responds(record.port, timeout)):
            return "hung"
        return "ok"

    def _adopt(self) -> bool:
        record = self.files.read()
        if record is None or self._state(record) != "ok":
            return False
        started_here = self._process is not None and self._process.pid == record.pid
        if not started_here and (self._record is None or self._record.pid != record.pid):
            self.adopted += 1
            log.info("using the local model server at %s (pid %s)", record.base_url, record.pid)
        self._record = record
        return True

    def _lose(self, record: RuntimeRecord, state: str) -> None:
        """The server in use cannot serve: count it as lost unless it was stopped on purpose (idle, `model stop`)."""
        self._record = None
        recorded = self.files.read()
        on_purpose = state == "gone" and (recorded is None or recorded.pid != record.pid)
        if state == "hung":
            self._kill(record)
            self.files.forget(record.pid)  # so no one probes it again while it dies
            self._last_exit = f"it did not respond within {self.config.liveness_timeout:g} s (hung) and was killed"
        elif state == "gone":
            code = self._process.returncode if self._process is not None else None
            self._last_exit = f"exit code {code}" if code is not None else "it stopped"
        else:
            self._last_exit = "another server took its place"
            on_purpose = True
        if not on_purpose:
            log.warning("the local model server (pid %s) was lost: %s; starting another", record.pid, self._last_exit)
            self._deaths.append(time.monotonic())
        self._process = None if self._process is not None and self._process.pid == record.pid else self._process

    def _dispose(self, record: RuntimeRecord) -> None:
        """Under the lock: a recorded server that cannot be used is stopped if it is ours, and forgotten."""
        if process_alive(record.pid) and is_our_server(record.pid, record.port, record.model_path):
            self._kill(record)
        self.files.forget(record.pid)

    @staticmethod
    def _kill(record: RuntimeRecord) -> None:
        if is_our_server(record.pid, record.port, record.model_path):
            try:
                os.kill(record.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _check_given_up(self) -> None:
        now = time.monotonic()
        while self._deaths and now - self._deaths[0] > self.config.restart_window:
            self._deaths.popleft()
        if len(self._deaths) > self.config.max_restarts:
            wait = self.config.restart_window - (now - self._deaths[0])
            raise LocalModelError(
                f"the local model server stopped {len(self._deaths)} times in the last "
                f"{self.config.restart_window / 60:.0f} minutes (last: {self._last_exit}); it is not started "
                f"again for {wait / 60:.0f} more minutes. See {self.config.log_path}."
            )

    def _preflight(self) -> bool:
        """Refuse a missing model file or too little memory; whether there is room for the prompt cache."""
        config = self.config
        if not Path(config.model_path).is_file():
            raise LocalModelError(f"the local model file {config.model_path} does not exist.")
        check_free_memory(config.min_free_bytes, config.meminfo)
        available = free_memory_bytes(config.meminfo)
        if config.prompt_cache and available is not None and available < config.cache_min_free_bytes:
            log.warning(
                "only %.1f GB of memory is free: the local model starts without its prompt cache (slower follow-ups)",
                available / 1e9,
            )
            return False
        return config.prompt_cache

    # --- starting and stopping -----------------------------------------------------------------------------------

    def _start(self, use_cache: bool, sha256: str | None) -> None:
        config = self.config
        private_dir(config.log_path.parent, "the model's log folder", follow=True)
        if config.log_path.exists() and config.log_path.stat().st_size > LOG_MAX_BYTES:  # keep one older log
            os.replace(config.log_path, config.log_path.with_name(config.log_path.name + ".1"))
        port = free_port()
        parent = 0 if config.keep_alive > 0 else os.getpid()
        files = self.files
        command = [
            sys.executable,
            "-c",
            _CHILD,
            str(parent),
            str(config.keep_alive),
            str(files.record),
            str(files.lock),
            str(files.activity),
            str(files.in_flight_dir),
            *config.arguments(port, use_cache),
        ]
        files.touch()
        log_fd = os.open(config.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(log_fd, "ab") as log_file:
            log_file.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting on port {port}\n".encode())
            log_file.flush()
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        threading.Thread(target=process.wait, name="llama-server-reaper", daemon=True).start()  # no zombie left
        self.prompt_cache_active = use_cache
        self.starts += 1
        deadline = time.monotonic() + config.start_timeout
        url = f"http://127.0.0.1:{port}/v1/models"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalModelError(
                    f"the local model server exited while starting (code {process.returncode}): "
                    f"{self._log_tail()}. Full log: {config.log_path}."
                )
            if _models_answer(url):
                record = RuntimeRecord(
                    pid=process.pid,
                    port=port,
                    model_path=str(config.model_path),
                    sha256=sha256,
                    started=time.time(),
                    keep_alive=config.keep_alive,
                    owner=os.getpid(),
                )
                files.write(record)
                self._process, self._record = process, record
                if parent and not self._atexit_registered:
                    atexit.register(self.stop)
                    self._atexit_registered = True
                log.info("local model server ready at %s (pid %s)", record.base_url, process.pid)
                return
            time.sleep(0.2)
        self._terminate(process)
        raise LocalModelError(
            f"the local model server did not answer within {config.start_timeout:.0f} s; see {config.log_path}."
        )

    def _log_tail(self, lines: int = 3) -> str:
        try:
            text = self.config.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(line.strip() for line in text[-lines:]) or "no output"

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server if this process started it (terminate, then kill after 10 s), and forget it; a server
        another process started is only let go. Safe to call twice and at exit. `stop_runtime` stops any."""
        with self._lock:
            process, record = self._process, self._record
            self._process, self._record = None, None
            if process is not None:
                self._terminate(process)
                self.files.forget(process.pid)
            elif record is not None:
                log.debug("letting go of the local model server %s (another process's)", record.pid)

    def __enter__(self) -> LlamaServer:
        self.ensure_running()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class RuntimeStatus:
    """What `assistant model status` shows."""

    running: bool
    record: RuntimeRecord | None
    idle_seconds: float | None
    resident_bytes: int | None
    log_path: Path
    note: str


def runtime_status(server: LlamaServer) -> RuntimeStatus:
    """The shared server of this model file as its record and the process say (nothing is started)."""
    record = server.files.read()
    if record is None:
        return RuntimeStatus(False, None, None, None, server.config.log_path, "not running")
    alive = process_alive(record.pid) and is_our_server(record.pid, record.port, record.model_path)
    if not alive:
        return RuntimeStatus(False, record, None, None, server.config.log_path, "stale record (the server is gone)")
    ok = responds(record.port, server.config.liveness_timeout)
    note = "running" if ok else f"not responding within {server.config.liveness_timeout:g} s (hung?)"
    return RuntimeStatus(
        True, record, server.files.idle_seconds(), resident_bytes(record.pid), server.config.log_path, note
    )


def stop_runtime(server: LlamaServer, timeout: float = 10.0) -> RuntimeRecord | None:
    """Stop the shared server of this model file, whoever started it (terminate, then kill after `timeout`)."""
    files = server.files
    with files.locked(server.config.start_timeout + 120):
        record = files.read()
        if record is None:
            return None
        files.forget(record.pid)
        if process_alive(record.pid) and is_our_server(record.pid, record.port, record.model_path):
            os.kill(record.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while process_alive(record.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if process_alive(record.pid):
                os.kill(record.pid, signal.SIGKILL)
        return record


def local_server(settings: Settings, spec: ModelSpec = QWEN_CODER_1_5B, *, join: bool = True) -> LlamaServer:
    """A handle on the bundled model's shared server (not started yet); joins the model file on first use
    (`join=False`: only look, for `assistant model status|stop`).

    Raises LocalModelError when the model is missing; the caller falls back to extractive. The file's sha256 is
    checked before every start of the server (a wrong copy is joined again from the parts, or refused)."""
    cache_dir, model_path = _model_file(settings, spec, join)
    return LlamaServer(
        ServerConfig(
            model_path=model_path,
            log_path=cache_dir / "llama-server.log",
            keep_alive=settings.model_keep_alive,
            verify=lambda path: verify_model(path, spec),
            expected_sha256=spec.sha256,
        )
    )


CHECK_SLOT = "check"
CHECK_CONTEXT = 1024  # tokens: the check's prompt (a few sentences, a question, an answer) fits many times over
CHECK_MIN_FREE_BYTES = 2_200_000_000  # measured resident: the mapped model file's 1.1 GB + 1.0 GB of its own


def check_server(settings: Settings, spec: ModelSpec = QWEN_CODER_1_5B, *, join: bool = True) -> LlamaServer:
    """A handle on the model check's own server of the same model file (`ASSISTANT_MODEL_CHECK`), shared by every
    process as the answer server is, with a record of its own (slot "check").

    Why a second server: the check needs log-probabilities, which llama.cpp gives only with `logits_all` (a row of
    152,000 logits per token of context: 0.6 GB at the check's 1,024 tokens, 2.5 GB at the answer server's 4,096);
    and llama.cpp keeps one prompt's state, so a check asked of the answer server makes it read the next question's
    article text again from the start (measured: the slowest answers 10-15 s instead of 3 s). The model file's pages
    are shared by the two processes; the check server adds about 1.0 GB of its own (measured: 0.99 GB anonymous
    memory beside the shared 1.1 GB)."""
    cache_dir, model_path = _model_file(settings, spec, join)
    return LlamaServer(
        ServerConfig(
            model_path=model_path,
            log_path=cache_dir / "llama-check-server.log",
            n_ctx=CHECK_CONTEXT,
            logits_all=True,
            slot=CHECK_SLOT,
            min_free_bytes=CHECK_MIN_FREE_BYTES,
            cache_min_free_bytes=CHECK_MIN_FREE_BYTES,
            keep_alive=settings.model_keep_alive,
            verify=lambda path: verify_model(path, spec),
            expected_sha256=spec.sha256,
        )
    )


def _model_file(settings: Settings, spec: ModelSpec, join: bool) -> tuple[Path, Path]:
    """The model cache folder and the model file in it (joined and checked on first use unless `join` is False:
    then nothing is made, and what is there is checked)."""
    cache_dir = cache_dir_for(settings.model_cache)
    if join:  # ours alone (made 0o700 when missing); only looking makes nothing, and checks what is there
        private_dir(cache_dir, "the model cache folder", follow=True)
    else:
        check_private(cache_dir, "the model cache folder", follow=True)
    return cache_dir, ensure_model_file(cache_dir, spec) if join else cache_dir / spec.filename

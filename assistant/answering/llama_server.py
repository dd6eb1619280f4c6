"""llama.cpp's OpenAI-compatible server as a child process on a free 127.0.0.1 port.

A crash in native code ends the child, never the app: `ensure_running()` (called before each
request) starts it again, a bounded number of times. The child's output goes to a log file, and
the child is stopped at exit; if the app itself is killed, the child notices that its parent is
gone and exits too.

    server = LlamaServer(ServerConfig(model_path=path, log_path=cache_dir / "llama-server.log"))
    base_url = server.ensure_running()   # "http://127.0.0.1:PORT/v1", model name "local"
    ...
    server.stop()
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answering.local_model import QWEN_CODER_1_5B, ModelSpec, cache_dir_for, ensure_model_file
from assistant.errors import LocalModelError
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

# Runs in the child: exit when the parent goes away (even on kill -9), then run llama_cpp.server.
_CHILD = """\
import os, runpy, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["llama_cpp.server", *sys.argv[2:]]
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
    extra_args: tuple[str, ...] = ()
    start_timeout: float = 120.0
    min_free_bytes: int = MIN_FREE_BYTES  # below this the server is not started
    cache_min_free_bytes: int = CACHE_MIN_FREE_BYTES  # below this it is started without the prompt cache
    meminfo: Path = Path("/proc/meminfo")
    max_restarts: int = 3  # within restart_window seconds; then the server is given up
    restart_window: float = 600.0

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
            "False",
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
        return s.getsockname()[1]


def _models_answer(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own 127.0.0.1 child)
            return response.status == 200 and "data" in json.loads(response.read() or b"{}")
    except (OSError, ValueError, urllib.error.URLError):
        return False


class LlamaServer:
    """One llama.cpp server child process; thread-safe."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._lock = threading.Lock()
        self._deaths: deque[float] = deque()
        self._atexit_registered = False
        self._last_exit = ""
        self.starts = 0
        self.prompt_cache_active = False

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise LocalModelError("the local model server has not been started.")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def healthy(self, timeout: float = 2.0) -> bool:
        return self.is_running() and _models_answer(f"{self.base_url}/models", timeout)

    def ensure_running(self) -> str:
        """Start the server if it is not running (first use, or it died) and return base_url.

        A server that stopped or failed to start more than `max_restarts` times within
        `restart_window` seconds is given up: every call raises LocalModelError until the window passes."""
        with self._lock:
            if self.is_running():
                return self.base_url
            if self._process is not None:  # it was started and has died
                log.warning("the local model server exited with code %s; starting it again", self._process.returncode)
                self._last_exit = f"exit code {self._process.returncode}"
                self._process = None
                self._deaths.append(time.monotonic())
            now = time.monotonic()
            while self._deaths and now - self._deaths[0] > self.config.restart_window:
                self._deaths.popleft()
            if len(self._deaths) > self.config.max_restarts:
                raise LocalModelError(
                    f"the local model server stopped {len(self._deaths)} times in the last "
                    f"{self.config.restart_window / 60:.0f} minutes (last: {self._last_exit}); it is not started "
                    f"again for now. See {self.config.log_path}."
                )
            use_cache = self._preflight()  # no model file or not enough memory: refused, not counted as a crash
            try:
                self._start(use_cache)
            except LocalModelError as exc:
                self._deaths.append(time.monotonic())
                self._last_exit = "failed to start"
                raise exc from None
            return self.base_url

    def start(self) -> str:
        return self.ensure_running()

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

    def _start(self, use_cache: bool) -> None:
        config = self.config
        config.log_path.parent.mkdir(parents=True, exist_ok=True)
        if config.log_path.exists() and config.log_path.stat().st_size > LOG_MAX_BYTES:  # keep one older log
            os.replace(config.log_path, config.log_path.with_name(config.log_path.name + ".1"))
        port = free_port()
        command = [sys.executable, "-c", _CHILD, str(os.getpid()), *config.arguments(port, use_cache)]
        with open(config.log_path, "ab") as log_file:
            log_file.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting on port {port}\n".encode())
            log_file.flush()
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._process, self._port = process, port
        self.prompt_cache_active = use_cache
        self.starts += 1
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        deadline = time.monotonic() + config.start_timeout
        url = f"http://127.0.0.1:{port}/v1/models"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise LocalModelError(
                    f"the local model server exited while starting (code {process.returncode}): "
                    f"{self._log_tail()}. Full log: {config.log_path}."
                )
            if _models_answer(url):
                log.info("local model server ready at %s (pid %s)", self.base_url, process.pid)
                return
            time.sleep(0.2)
        self._terminate(process)
        self._process = None
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
        """Stop the child (terminate, then kill after 10 s). Safe to call twice and at exit."""
        with self._lock:
            process, self._process = self._process, None
            if process is not None:
                self._terminate(process)

    def __enter__(self) -> LlamaServer:
        self.ensure_running()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def local_server(settings: Settings, spec: ModelSpec = QWEN_CODER_1_5B) -> LlamaServer:
    """A (not yet started) server for the bundled model; joins and checks the model file first.

    Raises LocalModelError when the model is missing or wrong; the caller falls back to extractive."""
    cache_dir = cache_dir_for(settings.model_cache)
    model_path = ensure_model_file(cache_dir, spec)
    return LlamaServer(ServerConfig(model_path=model_path, log_path=cache_dir / "llama-server.log"))

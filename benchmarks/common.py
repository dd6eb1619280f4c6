"""Shared by the benchmarks: a free port, a `chroma run` server on 127.0.0.1, result sections in docs."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chroma_server(path: Path, wait_s: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """(url, process) of a Chroma server on its own data folder; stopped on exit."""
    port = free_port()
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Chroma server did not start within {wait_s:g} s") from None
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.kill()
        proc.wait(30)


def write_section(path: Path, name: str, body: str, title: str) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->`, keeping the prose around it."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {title}\n"
    if start not in text:  # a new section goes at the end
        text = f"{text.rstrip()}\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body}{end}{tail}", encoding="utf-8")

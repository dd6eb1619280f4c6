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


CHROMA = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 over its own data folder; it can be killed -9 and started again
    on the same data and port (the fault tests do that). The one Chroma server starter of tests and benchmarks."""

    def __init__(self, path: Path, wait_s: float = 60):
        self.path, self.port, self.wait_s = path, free_port(), wait_s
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [CHROMA, "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"the Chroma server did not start within {self.wait_s:g} s") from None
                time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@contextlib.contextmanager
def chroma_server(path: Path, wait_s: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """(url, process) of a Chroma server on its own data folder; stopped on exit."""
    server = ChromaServer(path, wait_s)
    server.start()
    try:
        assert server.proc is not None
        yield server.url, server.proc
    finally:
        server.kill()


# The offline answerer, whatever the machine has installed: these benchmarks time retrieval, attribution and the
# decision (ms); the local model, when installed, would otherwise be the automatic choice (seconds per answer).
OFFLINE = {"ASSISTANT_ANSWERER": "extractive"}


def write_section(path: Path, name: str, body: str, title: str) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->`, keeping the prose around it."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {title}\n"
    if start not in text:  # a new section goes at the end
        text = f"{text.rstrip()}\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body}{end}{tail}", encoding="utf-8")


TOWNS = ["Arden", "Bexley", "Corvin", "Dunmore", "Elston", "Fairholt", "Glenrock", "Harlow"]


def write_articles(folder: Path, count: int, sentences: int = 8, start: int = 0) -> list[Path]:
    """Distinct news-like articles, one .txt each."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        town = TOWNS[n % len(TOWNS)]
        lines = [f"Council of {town} district {n} approves plan {n}"]
        for j in range(sentences):
            lines.append(
                f"Officials in {town} district {n} said on day {j} that the budget of "
                f"{n * 1000 + j} dollars would fund project {n}-{j}."
            )
        path = folder / f"town-{n:04d}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths

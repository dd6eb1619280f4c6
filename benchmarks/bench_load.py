"""Load benchmark (issue: reliability). Run: .venv/bin/python benchmarks/bench_load.py

20 concurrent chats through the web chat's `/chat` endpoint (gradio_client, bounded: a fixed
number of requests each, on 127.0.0.1) while a rebuild adds 100 articles:
- embedded: the app and the rebuild share one Assistant in one process (one embedded Chroma);
- server: the app talks to a `chroma run` server on 127.0.0.1 and the rebuild runs as another
  process (`assistant rebuild`), as it would on another machine.
Checks that every request was answered without an exception and that the index then holds
exactly the expected articles; writes throughput and p50/p95 to docs/results/load.json.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import chroma_server, free_port, write_articles  # noqa: E402

QUESTIONS = [
    "How much security assistance did the U.S. announce?",
    "Which gangs will be designated as terrorist organizations?",
    "What share of the world's cocaine passes through Ecuador?",
    "What budget would fund project 12-3 in district 12?",
    "What is the boiling point of mercury in kelvin?",
]


def run_load(url: str, clients: int = 20, per_client: int = 3, deadline_s: float = 600) -> dict:
    """`clients` threads, each its own gradio_client, each asking `per_client` questions in turn."""
    from gradio_client import Client

    records: list[tuple[bool, float, str]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # counted as failures
            with lock:
                records.extend((False, 0.0, f"connect: {exc!r}") for _ in range(per_client))
            return
        for j in range(per_client):
            question = QUESTIONS[(n + j) % len(QUESTIONS)]
            t = time.perf_counter()
            try:
                text = client.predict(question, api_name="/chat")
                ok, error = isinstance(text, str) and bool(text.strip()), ""
            except Exception as exc:  # counted as failures
                ok, error = False, repr(exc)[:300]
            with lock:
                records.append((ok, time.perf_counter() - t, error))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, deadline_s - (time.perf_counter() - started)))
    wall = time.perf_counter() - started
    latencies = sorted(r[1] * 1000 for r in records if r[0])
    return {
        "clients": clients,
        "requests": clients * per_client,
        "answered": sum(r[0] for r in records),
        "errors": [r[2] for r in records if not r[0]][:5],
        "unfinished": sum(t.is_alive() for t in threads),
        "wall_s": round(wall, 1),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
    }


def _launch(settings, embedder=None):
    from assistant import Assistant
    from assistant.web.app import build_app
    from assistant.web.server import launch_options

    bot = Assistant(settings=settings, embedder=embedder)
    bot.ingest(sorted(Path(settings.articles_dir).glob("ecuador-*.txt")))  # the sample, from the folder
    demo = build_app(bot)
    _, url, _ = demo.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    return bot, demo, url


def embedded(tmp: Path, per_client: int, embedder=None) -> dict:
    """App and rebuild in one process over one embedded index."""
    from assistant import Settings

    folder = tmp / "articles"
    shutil.copytree(ROOT / "articles", folder)
    write_articles(folder, 100, sentences=6)
    settings = Settings.from_env(env={}, index_dir=str(tmp / "index"), articles_dir=str(folder))
    bot, demo, url = _launch(settings, embedder)
    report_box: dict = {}
    rebuild = threading.Thread(target=lambda: report_box.update(r=bot.rebuild(folder)), daemon=True)
    try:
        rebuild.start()
        load = run_load(url, per_client=per_client)
        rebuild.join(600)
        load["rebuild"] = report_box["r"].as_dict() if "r" in report_box else "unfinished"
        load["articles_after"] = len(bot.articles())
        load["articles_expected"] = 101
    finally:
        demo.close()
    return load


def server(tmp: Path, per_client: int) -> dict:
    """App over a Chroma server; the rebuild is another process."""
    from assistant import Settings

    folder = tmp / "articles"
    shutil.copytree(ROOT / "articles", folder)
    write_articles(folder, 100, sentences=6)
    with chroma_server(tmp / "srv") as (url_chroma, _):
        settings = Settings.from_env(env={}, chroma_url=url_chroma, articles_dir=str(folder))
        bot, demo, url = _launch(settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env["ASSISTANT_CHROMA_URL"] = url_chroma
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "assistant", "rebuild", "--json", str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            load = run_load(url, per_client=per_client)
            out, _ = rebuild.communicate(timeout=600)
            load["rebuild"] = json.loads(out) if rebuild.returncode == 0 else f"exit {rebuild.returncode}"
            load["articles_after"] = len(bot.articles())
            load["articles_expected"] = 101
        finally:
            rebuild.kill()
            demo.close()
    return load


def main() -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    results = {"machine": f"{os.cpu_count()} cores, no GPU", "date": time.strftime("%Y-%m-%d")}
    for name, fn in (("embedded", embedded), ("server", server)):
        with tempfile.TemporaryDirectory(prefix=f"bench-load-{name}-") as tmp:
            results[name] = fn(Path(tmp), per_client=3)
            print(name, json.dumps(results[name]), flush=True)
    out = ROOT / "docs" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Readers while a writer writes (issue 24). Run: .venv/bin/python benchmarks/bench_readers_writer.py [SECONDS]

1. What the read lock costs: one `Store.reading()` taken and released, and an answer's latency on the sample
   article with the lock and with it replaced by nothing (same process, same questions, interleaved).
2. A writer process adding, updating and removing articles in a loop and a reader process asking every 100 ms,
   for SECONDS (default 180), on an embedded index and on a Chroma server: answers, errors, answers citing an
   article absent before and after a write, answer latency (benchmarks/readers_writer.py).
Writes docs/results/readers_writer.json and the section `readers-writer` of docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import chroma_server, write_section  # noqa: E402
from benchmarks.readers_writer import QUESTIONS, run  # noqa: E402


def lock_cost(tmp: Path, rounds: int = 20) -> dict:
    from assistant import Assistant, Settings, index_lock

    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"}, index_dir=str(tmp / "index"), articles_dir=str(tmp / "articles")
    )
    bot = Assistant(settings=settings)
    bot.ingest([ROOT / "articles"])
    n = 5000
    t = time.perf_counter()
    for _ in range(n):
        with bot.store.reading():
            pass
    per_lock_us = (time.perf_counter() - t) / n * 1e6
    real = index_lock.reading
    timings: dict[str, list[float]] = {"with the lock": [], "without": []}
    for q in QUESTIONS * 2:  # warm
        bot.answer(q)
    for _ in range(rounds):
        for name in timings:
            index_lock.reading = real if name == "with the lock" else (lambda s: contextlib.nullcontext())  # type: ignore[assignment]
            for q in QUESTIONS:
                t = time.perf_counter()
                bot.answer(q)
                timings[name].append(time.perf_counter() - t)
    index_lock.reading = real
    return {
        "one_read_lock_us": round(per_lock_us, 1),
        **{f"answer_p50_ms {name}": round(statistics.median(v) * 1000, 1) for name, v in timings.items()},
        "answers_each": len(timings["without"]),
    }


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 180.0
    results: dict = {"machine": f"{os.cpu_count()} cores, no GPU, {platform.machine()}", "seconds": seconds}
    with tempfile.TemporaryDirectory() as tmp:
        results["lock_cost"] = lock_cost(Path(tmp) / "cost")
        print("lock cost", results["lock_cost"], flush=True)
        work = Path(tmp) / "embedded"
        work.mkdir()
        results["embedded"] = run(work, seconds, interval=0.1)
        print("embedded", json.dumps(results["embedded"])[:400], flush=True)
        with chroma_server(Path(tmp) / "chroma") as (url, _):
            work = Path(tmp) / "server"
            work.mkdir()
            results["server"] = run(work, seconds, interval=0.1, chroma_url=url)
        print("server", json.dumps(results["server"])[:400], flush=True)
        load = os.getloadavg()
    results["load_average_after"] = [round(x, 2) for x in load]
    out = ROOT / "docs" / "results"
    (out / "readers_writer.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")

    rows = []
    for mode, label in (("embedded", "embedded (file locks)"), ("server", "Chroma server (`ASSISTANT_CHROMA_URL`)")):
        r = results[mode]
        rows.append(
            f"| {label} | {r['answers']} | {r['errors']} | {r['wrong_citations']} | {r['adds']} / {r['updates']} / "
            f"{r['removes']} | {r['answer_p50_s']} s / {r['answer_p95_s']} s / {r['answer_max_s']} s |"
        )
    cost = results["lock_cost"]
    body = (
        f"A writer process adds, updates and removes articles in a loop while a reader process asks a question every "
        f"100 ms, for {seconds:g} s (`benchmarks/bench_readers_writer.py`; {results['machine']}, load average "
        f"{results['load_average_after'][0]} at the end):\n\n"
        "| index | answers | errors | answers citing an article absent before and after the write | adds / updates "
        "/ removes | answer p50 / p95 / max |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"The read lock costs {cost['one_read_lock_us']} µs to take and release; an answer on the sample article "
        f"(extractive, quiet index) took {cost['answer_p50_ms with the lock']} ms p50 with it and "
        f"{cost['answer_p50_ms without']} ms without ({cost['answers_each']} answers each, interleaved).\n"
    )
    write_section(ROOT / "docs" / "reliability.md", "readers-writer", body, "Reliability")


if __name__ == "__main__":
    main()

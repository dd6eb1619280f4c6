"""Ingest benchmark: files the size limit accepts, each ingested or rejected with its reason, and how long
a second writer waits meanwhile (issue 20: "ingest time bounded by work, not bytes").

Run: .venv/bin/python benchmarks/bench_ingest.py   (about 10 minutes on 2 cores; `--quick` skips the
distinct-prose rows and the second writer)

Each case runs in a fresh child process on a fresh embedded index, so its peak RSS is its own; the time is
that of `Assistant.ingest` (the embedding model is loaded before). The load average (1 minute) is recorded
before and after each case: the machine these ran on was shared. Writes the table in docs/benchmarks.md
(section `ingest`).
"""

from __future__ import annotations

import json
import os
import platform
import random
import string
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_section  # noqa: E402

MB = 1_000_000
SAMPLE = (ROOT / "articles" / "ecuador-gangs-terrorist-designation.txt").read_text(encoding="utf-8")


def _prose(n: int) -> str:
    """Distinct news-like sentences, one per line (about 27 tokens each)."""
    return "Budget lines\n" + "\n".join(
        f"Officials in district {k} said on day {k % 31} that the budget of {k * 1000 + 7} dollars would fund "
        f"project {k}."
        for k in range(n)
    )


def _random_units(n: int) -> str:
    """One-letter fragments in random order: a run without words, kept in units of 1,000 characters, all distinct."""
    rng = random.Random(7)
    return " ".join(f"{rng.choice(string.ascii_lowercase)}." for _ in range(n * 1000 // 3))


def _fill(unit: str, size: int) -> str:
    return unit * (size // len(unit))


# (case, file name, text, before the fix: the figures)
CASES = [
    ("9.9 MB of `x. `", "x.txt", _fill("x. ", int(9.9 * MB)), "over 600 s (stopped), 1.66 GB"),
    ("9.9 MB of `a.b.c. `", "abc.txt", _fill("a.b.c. ", int(9.9 * MB)), "over 600 s (stopped), 1.66 GB"),
    ("1 MB of `x. `", "x1.txt", _fill("x. ", MB), "110 s"),
    (
        "JSON Lines: 100,000 tiny records",
        "tiny.jsonl",
        "\n".join(json.dumps({"id": f"r{n}", "text": f"Record {n}."}) for n in range(100_000)),
        "455 s",
    ),
    ("10 MB of lines `ab` and `x` in turn (4,000,000 sentences)", "pairs.txt", _fill("ab\nx\n", 10 * MB), "–"),
    (
        "9.9 MB of news text (the sample article, repeated)",
        "news.txt",
        "\n\n".join([SAMPLE] * int(9.9 * MB // (len(SAMPLE) + 2))),
        "–",
    ),
    (
        "0.78 MB of random `q. z. k. …`: 780 distinct units of 256 tokens, the most costly text per token",
        "random.txt",
        _random_units(780),
        "–",
    ),
    ("0.7 MB of distinct prose (7,000 sentences, 181,000 tokens)", "prose.txt", _prose(7_000), "–"),
    ("1.2 MB of distinct prose (12,000 sentences, 310,000 tokens)", "prose2.txt", _prose(12_000), "–"),
    ("2 MB of distinct prose (19,000 sentences)", "prose3.txt", _prose(19_000), "–"),
]
QUICK_SKIP = {"prose.txt", "prose2.txt", "prose3.txt", "random.txt"}

CHILD = """
import json, resource, sys, time
from assistant import Assistant, Settings
settings = Settings.from_env(env={"ASSISTANT_ANSWERER": "extractive"}, index_dir=sys.argv[1])
bot = Assistant(settings=settings)
inner = bot.embedder
texts = inner.texts_embedded
t = time.perf_counter()
report = bot.ingest([sys.argv[2]])
seconds = time.perf_counter() - t
counts = bot.store.counts()
print(json.dumps({
    "seconds": seconds,
    "added": report.added,
    "rejected": [r.reason for r in report.rejected],
    "sentences": counts["sentences"],
    "records": sum(counts.values()),
    "embedded": inner.texts_embedded - texts,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_case(path: Path, index_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env["PYTHONPATH"] = str(ROOT)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(index_dir), str(path)], env=env, capture_output=True, text=True, timeout=1800
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(wall=wall, load=(load_before, os.getloadavg()[0]))
    return result


def second_writer(tmp: Path, big: Path) -> dict:
    """A first process ingests `big` while a second, started once the first is under way, ingests one small file
    with the default lock timeout (30 s): how long the second takes, and whether it succeeds."""
    index_dir = tmp / "shared-index"
    small = tmp / "small.txt"
    small.write_text("Harbour reopens\nThe harbour of Port Lyle reopened on Monday.", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_ANSWERER="extractive")
    first = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", str(big)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(15)  # the model is loaded and the first file is being split and embedded
    started = time.perf_counter()
    second = subprocess.run(
        [sys.executable, "-m", "assistant", "ingest", str(small)], env=env, capture_output=True, text=True, timeout=600
    )
    waited = time.perf_counter() - started
    first_running = first.poll() is None
    first.communicate(timeout=1800)
    return {"seconds": waited, "rc": second.returncode, "first_running": first_running, "out": second.stdout.strip()}


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n, (case, name, text, before) in enumerate(CASES):
            if quick and name in QUICK_SKIP:
                continue
            path = tmp / name
            path.write_text(text, encoding="utf-8")
            result = run_case(path, tmp / f"index-{n}")
            rows.append((case, path.stat().st_size, result, before))
            print(case, json.dumps(result), flush=True)
        writer = None if quick else second_writer(tmp, tmp / "prose.txt")
        if writer:
            print("second writer", json.dumps(writer), flush=True)
    body = [
        f"Measured {date.today().isoformat()} on 2 cores, no GPU, {platform.machine()}, Python "
        f"{platform.python_version()} (`benchmarks/bench_ingest.py`, one run, at `nice -n 15` on a machine shared "
        "with other work: the load average, 1 minute, before → after each case is in the last column; 2.0 would "
        "be both cores busy). Time: `Assistant.ingest` on a fresh embedded index, the model loaded before. "
        "Before the fix: the issue's figures.",
        "",
        "| file | size | result | sentences stored | texts embedded | records written | ingest | peak RSS | "
        "before the fix | load average |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, size, r, before in rows:
        result = f"added {r['added']}" if r["added"] else "rejected: " + "; ".join(r["rejected"])
        body.append(
            f"| {case} | {size / MB:.2f} MB | {result} | {r['sentences']:,} | {r['embedded']:,} | {r['records']:,} "
            f"| {r['seconds']:.1f} s | {r['rss_mb']:.0f} MB | {before} | {r['load'][0]:.1f} → {r['load'][1]:.1f} |"
        )
    if writer:
        body += [
            "",
            f"A second writer (`assistant ingest` of one small file, lock timeout 30 s) started 15 s after a first "
            f"one began to ingest the 0.7 MB of distinct prose: exit {writer['rc']} ({writer['out']!r}) after "
            f"{writer['seconds']:.1f} s, with the first still running: {writer['first_running']}. Before the fix it "
            'failed after 30 s: "another process is writing the index".',
        ]
    write_section(ROOT / "docs" / "benchmarks.md", "ingest", "\n".join(body) + "\n", "Benchmarks")


if __name__ == "__main__":
    main()

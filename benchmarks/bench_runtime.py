"""The shared local-model runtime (issue 18). Run: .venv/bin/python -m benchmarks.bench_runtime [--write]

Needs the local model installed (`bash scripts/setup`). On the sample article, in a temporary index, with the
model cache's runtime stopped first, as a person would run them (each a new process):
1. `assistant ask` with no model server running (cold: hash the file, start llama.cpp, read the article, answer);
2. five more `assistant ask`, each a new process, while the server stays loaded (warm);
3. two `assistant ask` at once, a Python API process and a web chat (`assistant serve`) all running: how many
   llama.cpp servers, and the memory of the one;
4. `assistant model stop`.
Targets (issue 18): warm `assistant ask` <= 3 s wall, cold <= 15 s, one model in memory however many front ends.
Prints the figures; --write writes docs/results/runtime.json and the "runtime" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.llm.local.runtime import SERVER_MODULE, command_line, resident_bytes  # noqa: E402
from benchmarks.common import free_port, write_section  # noqa: E402

QUESTIONS = (
    "Which gangs will the U.S. designate as terrorist organizations?",
    "How much money was set aside for drones?",
    "Who is the president of Ecuador?",
    "What share of the world's cocaine passes through Ecuador?",
    "How much security assistance did the U.S. announce for Ecuador?",
    "Which Venezuelan gang was targeted by a military operation?",
)
API = """\
import sys
from assistant import Assistant
bot = Assistant()
print(bot.answer(sys.argv[1]).answered, flush=True)
sys.stdin.read()
"""


def servers() -> list[int]:
    """pids of the llama.cpp servers running on this machine (ours: their command line names the module)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            args = command_line(int(entry.name))
            if args and SERVER_MODULE in " ".join(args) and "--model" in args:
                found.append(int(entry.name))
    return found


def assistant(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=600
    )
    return time.perf_counter() - start, done


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/results/runtime.json and docs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-runtime-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env.update(ASSISTANT_ANSWERER="local", ASSISTANT_INDEX_DIR=str(work / "index"), PYTHONPATH=str(ROOT))
    r: dict = {
        "machine": f"{os.cpu_count()} cores, no GPU, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    web = api = None
    try:
        assistant(env, "model", "stop")
        _, done = assistant(env, "rebuild", str(ROOT / "articles"))
        assert done.returncode == 0, done.stderr
        r["load_before"] = load()
        seconds, done = assistant(env, "ask", QUESTIONS[0])
        assert done.returncode in (0, 3), done.stderr
        r["cold_s"] = seconds
        print(f"cold: {seconds:.1f} s", flush=True)
        warm = []
        for question in QUESTIONS[1:]:
            seconds, done = assistant(env, "ask", question)
            assert done.returncode in (0, 3), done.stderr
            warm.append({"question": question, "seconds": seconds, "answered": done.returncode == 0})
            print(f"warm: {seconds:.1f} s {question}", flush=True)
        r["warm"] = warm
        r["warm_p50_s"] = statistics.median(w["seconds"] for w in warm)
        r["warm_max_s"] = max(w["seconds"] for w in warm)
        r["load_after"] = load()

        port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        api = subprocess.Popen(
            [sys.executable, "-c", API, QUESTIONS[2]], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        together = [
            subprocess.Popen(
                [sys.executable, "-m", "assistant", "ask", q], env=env, stdout=subprocess.DEVNULL, text=True
            )
            for q in QUESTIONS[3:5]
        ]
        for process in together:
            process.wait(timeout=600)
        assert api.stdout is not None and api.stdout.readline().strip() in ("True", "False")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(5)  # the web chat's warm-up uses the model
        running = servers()
        r["front_ends"] = "2 x `assistant ask` at once, a Python API process, a web chat (`assistant serve`)"
        r["servers"] = len(running)
        r["server_rss_gb"] = sum((resident_bytes(pid) or 0) for pid in running) / 1e9
        print(f"{len(running)} server(s), {r['server_rss_gb']:.2f} GB", flush=True)
    finally:
        for process in (web, api):
            if process is not None:
                process.kill()
                process.wait(30)
        seconds, done = assistant(env, "model", "stop")
        r["stop"] = done.stdout.strip()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(r, indent=1))
    if args.write:
        (ROOT / "docs" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "docs" / "results" / "runtime.json").write_text(json.dumps(r, indent=1) + "\n", encoding="utf-8")
        write_section(ROOT / "docs" / "benchmarks.md", "runtime", render(r), "Benchmarks")


def render(r: dict) -> str:
    lines = [
        f"Measured {r['date']} on {r['machine']}; load average {r['load_before']} before the first question, "
        f"{r['load_after']} after the warm ones (`benchmarks/bench_runtime.py`).",
        "",
        "| | wall time | target |",
        "|---|---|---|",
        f"| `assistant ask`, no model server running (hash, start, read, answer) | {r['cold_s']:.1f} s | <= 15 s |",
        f"| `assistant ask`, server warm, p50 of {len(r['warm'])} (each a new process) | {r['warm_p50_s']:.1f} s "
        "| <= 3 s |",
        f"| `assistant ask`, server warm, max | {r['warm_max_s']:.1f} s | |",
        "",
        f"With {r['front_ends']} running: **{r['servers']} llama.cpp server**, {r['server_rss_gb']:.2f} GB resident "
        "(target: one model in memory).",
        "",
        "| warm question | wall | answered |",
        "|---|---|---|",
    ]
    lines += [f"| {w['question']} | {w['seconds']:.1f} s | {'yes' if w['answered'] else 'no'} |" for w in r["warm"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

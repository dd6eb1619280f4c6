"""Indexing benchmark (issue: foundation). Run: .venv/bin/python benchmarks/bench_index.py

Corpus: every document of eval/*.docs.jsonl (about 1,000 articles and paragraphs).
Measures, in one run on this machine:
1. raw embedder throughput (sentences/s) vs the full ingest pipeline on the same text;
2. adding 1 new article to the ~1,000-article index vs into an empty index;
3. re-ingesting the unchanged corpus (embedding calls must be 0);
4. peak memory (RSS) of the full ingest (a child process, so the figure is its own);
and answer() latency p50/p95 over the evaluation questions with the whole corpus indexed.
Writes docs/results/benchmarks.json and the tables in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.embeddings import OnnxMiniLM  # noqa: E402
from assistant.indexing.parse.loaders import load_file  # noqa: E402
from assistant.indexing.parse.sentences import split_sentences  # noqa: E402
from benchmarks.common import OFFLINE, write_section  # noqa: E402


def corpus_files(folder: Path) -> list[Path]:
    """The eval documents as our JSONL article format, one file per dataset."""
    out = []
    for docs in sorted(EVAL.glob("*.docs.jsonl")):
        target = folder / docs.name.replace(".docs", "")
        with target.open("w", encoding="utf-8") as fh:
            for line in docs.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    fh.write(json.dumps({"id": d["doc_id"], "title": d.get("title", ""), "text": d["text"]}) + "\n")
        out.append(target)
    return out


def child_ingest(index_dir: str, files: list[str]) -> None:
    """Runs in a child process: the full pipeline, timed, with its own peak RSS."""
    settings = Settings.from_env(env=OFFLINE, index_dir=index_dir)
    t = time.perf_counter()
    bot = Assistant(settings=settings)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    report = bot.ingest(files)
    seconds = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "model_load_s": load_s,
                "articles": report.added,
                "sentences": report.sentences_embedded,
                "peak_rss_mb": peak_kb / 1024,
            }
        )
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    files = corpus_files(tmp)
    articles = [a for f in files for a in load_file(f, 50_000_000)]
    sentences = [s.text for a in articles for s in split_sentences(a)]
    results: dict = {
        "machine": f"{os.cpu_count()} cores, no GPU, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "corpus": {"articles": len(articles), "sentences": len(sentences)},
    }

    embedder = OnnxMiniLM()
    embedder.embed(sentences[:64])  # warm up
    t = time.perf_counter()
    embedder.embed(sentences)
    raw_s = time.perf_counter() - t
    results["raw_embedder"] = {"seconds": round(raw_s, 2), "sentences_per_s": round(len(sentences) / raw_s, 1)}

    index_dir = str(tmp / "index")
    out = subprocess.run(
        [sys.executable, __file__, "--child", index_dir, *map(str, files)], check=True, capture_output=True, text=True
    ).stdout
    child = json.loads(out.strip().splitlines()[-1])
    pipeline_rate = child["sentences"] / child["seconds"]
    results["pipeline"] = {
        "seconds": round(child["seconds"], 2),
        "sentences_per_s": round(pipeline_rate, 1),
        "articles": child["articles"],
        "share_of_raw": round(pipeline_rate * raw_s / len(sentences), 3),
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
        "model_load_s": round(child["model_load_s"], 2),
    }

    settings = Settings.from_env(env=OFFLINE, index_dir=index_dir)
    bot = Assistant(settings=settings, embedder=embedder)
    calls = embedder.calls
    t = time.perf_counter()
    again = bot.ingest(files)
    results["reingest_unchanged"] = {
        "seconds": round(time.perf_counter() - t, 3),
        "unchanged": again.unchanged,
        "embedding_calls": embedder.calls - calls,
    }

    one_big, one_empty = [], []
    sample = ROOT / "articles"
    for n in range(5):
        new = tmp / f"new-{n}.txt"
        text = (sample / "ecuador-gangs-terrorist-designation.txt").read_text(encoding="utf-8")
        new.write_text(f"Variant {n} of the sample\n" + text.replace("Ecuador", f"Ecuador ({n})"), "utf-8")
        t = time.perf_counter()
        bot.ingest([new])
        one_big.append(time.perf_counter() - t)
        empty = Assistant(settings=replace(settings, index_dir=str(tmp / f"empty-{n}")), embedder=embedder)
        t = time.perf_counter()
        empty.ingest([new])
        one_empty.append(time.perf_counter() - t)
    big, small = statistics.median(one_big), statistics.median(one_empty)
    results["add_one_article"] = {
        "into_full_index_s": round(big, 3),
        "into_empty_index_s": round(small, 3),
        "ratio": round(big / small, 2),
        "repeats": 5,
    }

    questions = []
    for qfile in sorted(EVAL.glob("*.jsonl")):
        if not qfile.name.endswith(".docs.jsonl"):
            questions += [json.loads(x) for x in qfile.read_text(encoding="utf-8").splitlines() if x.strip()]
    bot.answer("warm up question")
    latencies = []
    for row in questions:
        t = time.perf_counter()
        bot.answer(row["question"], history=[tuple(h) for h in row.get("history") or []])
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    results["answer_latency_ms"] = {
        "questions": len(latencies),
        "articles_indexed": len(bot.articles()),
        "p50": round(statistics.median(latencies), 1),
        "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
    }
    write(results)


def write(results: dict) -> None:
    out = ROOT / "docs" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    r = results
    table = f"""Measured {r["date"]} on {r["machine"]} (`benchmarks/bench_index.py`, one run).
Corpus: {r["corpus"]["articles"]} articles/paragraphs, {r["corpus"]["sentences"]} sentences.

| measure | result | target |
|---|---|---|
| raw embedder | {r["raw_embedder"]["sentences_per_s"]} sentences/s | – |
| full ingest pipeline | {r["pipeline"]["sentences_per_s"]} sentences/s = {r["pipeline"]["share_of_raw"]:.0%} of raw \
({r["pipeline"]["seconds"]} s for {r["pipeline"]["articles"]} articles) | ≥ 80% of raw |
| add 1 article to the full index | {r["add_one_article"]["into_full_index_s"]} s (median of 5) | ≤ 2× empty |
| add 1 article to an empty index | {r["add_one_article"]["into_empty_index_s"]} s → ratio {r["add_one_article"]["ratio"]}× | |
| re-ingest unchanged corpus | {r["reingest_unchanged"]["seconds"]} s, {r["reingest_unchanged"]["embedding_calls"]} \
embedding calls | < 2 s, 0 calls |
| peak RSS of the full ingest | {r["pipeline"]["peak_rss_mb"]} MB (model load {r["pipeline"]["model_load_s"]} s) | – |
| `answer()` latency, offline | p50 {r["answer_latency_ms"]["p50"]} ms, p95 {r["answer_latency_ms"]["p95"]} ms over \
{r["answer_latency_ms"]["questions"]} questions, {r["answer_latency_ms"]["articles_indexed"]} articles indexed | p50 ≤ 50 ms |
"""
    write_section(ROOT / "docs" / "benchmarks.md", "index", table, "Benchmarks")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_ingest(sys.argv[2], sys.argv[3:])
    else:
        main()

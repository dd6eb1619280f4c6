"""Scale benchmark (issue: reliability and scale). Run: .venv/bin/python benchmarks/bench_scale.py [N]

Builds ~N (default 10,000) distinct articles from the evaluation corpora and the sample article:
variant k of a document has its sentences rotated by k and a dateline of its own, so no two
articles are equal. Ingests them in embedded mode and into a `chroma run` server on 127.0.0.1
(started here), each in a child process (its own peak RSS), then times answer() on the evaluation
questions. Writes docs/results/scale.json and the table in docs/scaling.md.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
sys.path.insert(0, str(ROOT))

from benchmarks.common import OFFLINE, chroma_server, write_section  # noqa: E402

CITIES = [
    "Quito",
    "Lima",
    "Bogota",
    "Madrid",
    "Oslo",
    "Nairobi",
    "Osaka",
    "Perth",
    "Austin",
    "Lyon",
    "Accra",
    "Hanoi",
    "Cork",
    "Turin",
    "Leeds",
    "Porto",
    "Graz",
    "Riga",
    "Bern",
    "Kyiv",
]


def build_corpus(folder: Path, n: int) -> Path:
    from assistant.indexing.parse.sentences import split_sentences
    from assistant.records import Article

    docs = []
    for path in sorted(EVAL.glob("*.docs.jsonl")):
        docs += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    sample = (ROOT / "articles" / "ecuador-gangs-terrorist-designation.txt").read_text(encoding="utf-8")
    docs.append({"doc_id": "sample", "title": "Ecuador gangs terrorist designation", "text": sample})
    split = [[s.text for s in split_sentences(Article(d["doc_id"], "", d["text"], ""))] for d in docs]
    target = folder / "corpus.jsonl"
    with target.open("w", encoding="utf-8") as out:
        for i in range(n):
            d, sents = docs[i % len(docs)], split[i % len(docs)]
            k = i // len(docs)
            rotated = sents[k % len(sents) :] + sents[: k % len(sents)] if sents else [d["text"]]
            dateline = f"{CITIES[k % len(CITIES)]}, edition {k + 1}."
            out.write(
                json.dumps(
                    {
                        "id": f"{d['doc_id']}~{k}",
                        "title": f"{d.get('title', '')} ({k + 1})",
                        "text": dateline + " " + " ".join(rotated),
                    }
                )
                + "\n"
            )
    return target


def child(mode: str, index: str, corpus: str) -> None:
    from assistant import Assistant, Settings

    overrides = {"chroma_url": index} if mode == "server" else {"index_dir": index}
    bot = Assistant(settings=Settings.from_env(env=OFFLINE, **overrides))
    t = time.perf_counter()
    report = bot.ingest([corpus])
    ingest_s = time.perf_counter() - t
    questions = []
    for qfile in sorted(EVAL.glob("*.jsonl")):
        if not qfile.name.endswith(".docs.jsonl"):
            questions += [json.loads(x) for x in qfile.read_text(encoding="utf-8").splitlines() if x.strip()]
    t = time.perf_counter()
    bot.answer("warm up: which gangs will the U.S. designate?")  # builds the BM25 index once
    first_s = time.perf_counter() - t
    latencies = []
    for row in questions:
        t = time.perf_counter()
        bot.answer(row["question"], history=[tuple(h) for h in row.get("history") or []])
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    print(
        json.dumps(
            {
                "articles": report.added,
                "sentences": report.sentences_embedded,
                "ingest_s": round(ingest_s, 1),
                "sentences_per_s": round(report.sentences_embedded / ingest_s, 1),
                "first_answer_s": round(first_s, 2),
                "questions": len(latencies),
                "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def run_child(mode: str, index: str, corpus: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, index, str(corpus)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    corpus = build_corpus(tmp, n)
    results = {
        "machine": f"{os.cpu_count()} cores, no GPU, Python {sys.version.split()[0]}",
        "date": time.strftime("%Y-%m-%d"),
        "articles_requested": n,
    }
    results["embedded"] = run_child("embedded", str(tmp / "index"), corpus)
    with chroma_server(tmp / "server") as (url, server):
        results["server"] = run_child("server", url, corpus)
        results["server"]["server_rss_mb"] = _rss_mb(server.pid)
    shutil.rmtree(tmp, ignore_errors=True)
    write(results)


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def write(results: dict) -> None:
    out = ROOT / "docs" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    rows = []
    for mode in ("embedded", "server"):
        r = results.get(mode)
        if r:
            rows.append(
                f"| {mode} | {r['articles']} | {r['sentences']} | {r['ingest_s']} s ({r['sentences_per_s']} sentences/s) "
                f"| {r['first_answer_s']} s | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['peak_rss_mb']} MB"
                + (f" (+ server {r.get('server_rss_mb')} MB)" if mode == "server" else "")
                + " |"
            )
    table = (
        f"Measured {results['date']} on {results['machine']} (`benchmarks/bench_scale.py`, one run).\n\n"
        "| mode | articles | sentences | ingest | first answer (builds BM25) | answer p50 | answer p95 | peak RSS |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    write_section(ROOT / "docs" / "scaling.md", "scale", table, "Scaling")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

"""Summary benchmark (issue 10). Run: .venv/bin/python benchmarks/bench_summary.py

A 2,000-word article (the CoQA CNN stories of the eval set, joined and cut at 2,000 words) is
indexed among the 991 HotpotQA paragraphs; then, offline:
- the sentence choice alone (`key_sentences.central` over the stored vectors);
- whole-article answers end to end through `Assistant.answer` with the article in scope
  (store reads, choice, citations, trace): "Summarize the article", "Who are the main people?",
  "When did this happen?";
- the same summary question with no scope and the article the most recently added.
Median and p95 of 30 runs each (after one warm-up); written to docs/benchmarks.md ("Summaries").
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.answering.summary.key_sentences import central, summary_size  # noqa: E402
from benchmarks.common import write_section  # noqa: E402

EVAL = Path("/work/shared/eval")
RUNS = 30
WORDS = 2000


def timed(fn, runs: int = RUNS) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    stories = [json.loads(line)["text"] for line in (EVAL / "coqa_cnn_dev.docs.jsonl").read_text().splitlines()]
    words = " ".join(stories).split()[:WORDS]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        with (folder / "hotpot.jsonl").open("w", encoding="utf-8") as out:
            for line in (EVAL / "hotpotqa_dev100.docs.jsonl").read_text().splitlines():
                d = json.loads(line)
                out.write(json.dumps({"id": d["doc_id"], "title": d["title"], "text": d["text"]}) + "\n")
        settings = Settings.from_env(env={}, index_dir=str(Path(tmp) / "index"), articles_dir=str(folder))
        bot = Assistant(settings=settings)
        bot.ingest([folder])
        long_path = folder / "long-article.txt"  # written last: the most recently added article
        long_path.write_text("Ten CNN stories in one long article\n" + " ".join(words), encoding="utf-8")
        bot.ingest([long_path])
        info = bot.store.article_infos()["long-article"]
        stored = bot.store.sentences_of("long-article", info.content_hash, with_vectors=True)
        vectors = np.asarray([s.vector for s in stored], dtype=np.float32)
        texts = [s.sentence.text for s in stored]
        k = summary_size(len(texts))
        rows = [("sentence choice only (`central`, stored vectors)", timed(lambda: central(vectors, texts, k)))]
        for question in ("Summarize the article", "Who are the main people?", "When did this happen?"):
            ans = bot.answer(question, article_ids=["long-article"])
            assert ans.answered and ans.trace.decision.method == "summary", ans.trace.decision
            rows.append(
                (
                    f'`answer("{question}")`, article in scope',
                    timed(lambda q=question: bot.answer(q, article_ids=["long-article"])),
                )
            )
        ans = bot.answer("What is this article about?")
        assert {c.article_id for c in ans.citations} == {"long-article"}, ans.text
        rows.append(
            (
                '`answer("What is this article about?")`, no scope (most recent of all)',
                timed(lambda: bot.answer("What is this article about?")),
            )
        )
        articles = bot.store.counts()["articles"]
    lines = [
        f"Measured {date.today()} on 2 cores, no GPU, {platform.machine()}, Python {platform.python_version()} "
        f"(`benchmarks/bench_summary.py`, median and p95 of {RUNS} runs). Article: {len(words):,} words, "
        f"{len(texts)} sentences, summarised in {k}; {articles} articles indexed.",
        "",
        "| measure | p50 | p95 | target |",
        "|---|---|---|---|",
    ]
    for name, (p50, p95) in rows:
        lines.append(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | ≤ 100 ms |")
    body = "\n".join(lines) + "\n"
    print(body)
    write_section(ROOT / "docs" / "benchmarks.md", "summary", body, "Benchmarks")
    return 0


if __name__ == "__main__":
    sys.exit(main())

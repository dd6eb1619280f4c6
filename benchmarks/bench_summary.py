"""Summary benchmark (issue 10). Run: .venv/bin/python benchmarks/bench_summary.py

A 2,000-word article (the CoQA CNN stories of the eval set, joined and cut at 2,000 words) is
indexed among the 991 HotpotQA paragraphs; then, offline:
- the sentence choice alone (`key_sentences.central` over the stored vectors);
- whole-article answers end to end through `Assistant.answer` with the article in scope
  (store reads, choice, citations, trace): "Summarize the article", "Who are the main people?",
  "When did this happen?";
- the same summary question with no scope and the article the most recently added.
Median and p95 of 30 runs each (after one warm-up); written to docs/benchmarks.md ("Summaries").

`--local` (issue 27): the sample article among three other articles, scoped to it, with the bundled local model,
warm (one summary asked first): five whole-article phrasings that no test uses, each timed to its first words and to
the whole answer, and checked: it leads with the main event (its first citation is the designation of Los Lobos and
Los Choneros) and cites 3-6 sentences of the article; then two of them asked twice more, each after a question about
something else, to compare the texts. The load average is written beside the figures (section "summary-local").
"""

from __future__ import annotations

import json
import os
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

EVAL = ROOT / "eval"  # the public sets, copied into the project (eval/README.md)
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


DONE_PHRASINGS = [  # not used by any test
    "What is this piece about?",
    "Give me the main points of this article.",
    "What are the highlights of the story?",
    "Could you sum up this article?",
    "Quickly, what happened in this story?",
]
MAIN_EVENT = "Los Lobos and Los Choneros, as foreign terrorist organizations"


def streamed(bot, question: str, article: str):
    """(seconds to the first words, seconds to the whole answer, the answer)."""
    from assistant import Answer

    started, first, answer = time.perf_counter(), None, None
    for event in bot.stream(question, article_ids=[article]):
        if isinstance(event, Answer):
            answer = event
        elif first is None and event.strip():
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    return first if first is not None else total, total, answer


def local() -> int:
    from benchmarks.common import write_articles

    SAMPLE_DIR, SAMPLE_ID = ROOT / "articles", "ecuador-gangs-terrorist-designation"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        write_articles(folder, 3)
        env = {"ASSISTANT_ANSWERER": "local", "ASSISTANT_REQUEST_TIMEOUT": "600"}
        settings = Settings.from_env(env=env, index_dir=str(Path(tmp) / "index"), articles_dir=str(folder))
        bot = Assistant(settings=settings)
        assert bot.status().answerer == "local", bot.status().answerer_reason
        bot.ingest([SAMPLE_DIR, folder])
        load_before = os.getloadavg()
        streamed(bot, "Summarize the article", SAMPLE_ID)  # warm: the server started, the model loaded
        rows, texts = [], {}
        for question in DONE_PHRASINGS:
            first, total, ans = streamed(bot, question, SAMPLE_ID)
            cited = [c.sentence_index for c in ans.citations]
            leads = bool(ans.citations) and MAIN_EVENT in ans.citations[0].text
            ok = leads and 3 <= len(cited) <= 6 and {c.article_id for c in ans.citations} == {SAMPLE_ID}
            rows.append((question, first, total, cited, leads, ok, ans.trace.decision.method))
            texts[question] = [ans.text]
        for question in DONE_PHRASINGS[:1] + DONE_PHRASINGS[3:4]:
            for _ in range(2):
                bot.answer("Who is the president of Ecuador?")  # the server reads another prompt in between
                texts[question].append(bot.answer(question, article_ids=[SAMPLE_ID]).text)
        load_after = os.getloadavg()
    met = sum(r[5] for r in rows)
    same = {q: len(set(t)) == 1 for q, t in texts.items() if len(t) == 3}
    lines = [
        f"Measured {date.today()} on {os.cpu_count()} cores, no GPU, {platform.machine()}, Python "
        f"{platform.python_version()} (`benchmarks/bench_summary.py --local`); the sample article among 3 other "
        f"articles, scoped to it; the model warm. Load average (1, 5, 15 min) before: "
        f"{', '.join(f'{x:.2f}' for x in load_before)}; after: {', '.join(f'{x:.2f}' for x in load_after)}.",
        "",
        "| question | first words | whole answer | sentences cited (0-based) | leads with the main event | "
        "3-6 cited, main event first | how |",
        "|---|---|---|---|---|---|---|",
    ]
    for question, first, total, cited, leads, ok, how in rows:
        lines.append(
            f"| {question} | {first:.2f} s | {total:.2f} s | {cited} | {'yes' if leads else 'no'} "
            f"| {'yes' if ok else 'no'} | {how} |"
        )
    lines += [
        "",
        f"{met} of {len(rows)} phrasings lead with the main event and cite 3-6 sentences. Asked three times (each "
        "repeat after a question about something else): "
        + "; ".join(f'"{q}" {"identical" if ok else "DIFFERENT"}' for q, ok in same.items())
        + ".",
    ]
    body = "\n".join(lines) + "\n"
    print(body)
    write_section(ROOT / "docs" / "benchmarks.md", "summary-local", body, "Summaries")
    return 0 if met == len(rows) and all(same.values()) else 1


def main() -> int:
    if "--local" in sys.argv[1:]:
        return local()
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
        every = range(info.sentences)
        stored = bot.store.sentences_by_index({"long-article": (info.content_hash, every)}, with_vectors=True)
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

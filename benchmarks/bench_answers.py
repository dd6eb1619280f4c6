"""Answer latency of the configured answerer on the sample article: time to the first words on the page
and to the whole checked answer, for questions asked one after another as a person would.

    python -m benchmarks.bench_answers                       # the answerer the environment selects
    ASSISTANT_ANSWERER=local python -m benchmarks.bench_answers
    ASSISTANT_ANSWERER=local ASSISTANT_READ_AGAIN=1 python -m benchmarks.bench_answers

Writes the `answers-<answerer>` section of docs/benchmarks.md (`answers-<answerer>-read-again` with the reader
asked again).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant import Answer, Assistant, Settings
from benchmarks.common import write_section

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Which gangs will the U.S. designate as terrorist organizations?",
    "How much money was set aside for drones?",
    "How much security assistance did the U.S. announce for Ecuador?",
    "What share of the world's cocaine passes through Ecuador?",
    "Who is the president of Ecuador?",
    "Have Ecuador and Mexico committed to support U.S. military strikes?",
    "What does the new classification allow the U.S. to do?",
    "Which Venezuelan gang was targeted by a military operation?",
    "Who won the 2022 FIFA World Cup?",
    "What is the population of Quito?",
]
WHOLE_ARTICLE = ["Summarize the article", "What is this article about?"]  # after the questions above


def ask(bot: Assistant, n: int, question: str) -> tuple[int, str, float, float, Answer]:
    """(n, question, seconds to the first words, seconds to the whole answer, the answer)."""
    started = time.perf_counter()
    first = None
    final = None
    for event in bot.stream(question):
        if isinstance(event, Answer):
            final = event
        elif first is None and event.strip():
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    assert final is not None
    print(f"{total:6.2f} s  first words {first if first is not None else total:5.2f} s  {question}", file=sys.stderr)
    return n, question, first if first is not None else total, total, final


def table(rows: list[tuple[int, str, float, float, Answer]]) -> list[str]:
    """A markdown table: each question's time to the first words and to the whole answer, how it was answered,
    and what the model check and the reader asked again said, with their time (when they were asked)."""
    head = [
        "| question | first words | whole | answered | how | model check | read again |",
        "|---|---|---|---|---|---|---|",
    ]
    return head + [
        f"| {q} | {f:.2f} s | {t:.2f} s | {'yes' if a.answered else 'no'} | {a.trace.decision.method} "
        f"| {said(a, 'model check', a.trace.timings_ms.check)} | {said(a, 'read again', a.trace.timings_ms.again)} |"
        for _, q, f, t, a in rows
    ]


def said(answer: Answer, step: str, ms: float | None) -> str:
    """What a step after the decision said ("model check", "read again") and its time; "–" when it was not asked."""
    note = next((n.removeprefix(f"{step}: ") for n in answer.trace.notes if n.startswith(f"{step}: ")), None)
    return "–" if note is None else f"{note}{f', {ms / 1000:.2f} s' if ms is not None else ''}"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(settings=Settings.from_env(index_dir=str(Path(tmp) / "index")))
        bot.ingest([ROOT / "articles"])
        started = time.perf_counter()
        bot.warm_up()  # what the web chat does at start, in the background while the page loads
        warm_up_s = time.perf_counter() - started
        rows = [ask(bot, n, question) for n, question in enumerate(QUESTIONS)]
        whole = [ask(bot, n, question) for n, question in enumerate(WHOLE_ARTICLE, len(QUESTIONS))]
    warm = rows[1:]
    body = [
        f"Answerer: **{bot.backend}** ({bot.answerer_name}); sample article; 2 cores, no GPU; "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        *(
            [
                f"Start (`Assistant.warm_up`, which the web chat runs in the background while the page loads: the "
                f"model server starts and reads the newest article up to the question; the model check's server "
                f"starts too when the check is on): {warm_up_s:.2f} s. Model check: "
                f"{'on' if bot.flow.model_check is not None else 'off'}; reader asked again: "
                f"{'on' if bot.flow.read_again is not None else 'off'}.",
                "",
            ]
            if bot.model_reader is not None
            else []
        ),
        "| | first words | whole answer |",
        "|---|---|---|",
        f"| first question{' (after the warm-up)' if bot.model_reader is not None else ''} | {rows[0][2]:.2f} s | "
        f"{rows[0][3]:.2f} s |",
        f"| next {len(warm)} questions, p50 | {statistics.median(r[2] for r in warm):.2f} s | "
        f"{statistics.median(r[3] for r in warm):.2f} s |",
        f"| next {len(warm)} questions, max | {max(r[2] for r in warm):.2f} s | {max(r[3] for r in warm):.2f} s |",
        "",
        *table(rows),
        "",
        "Whole-article questions, asked after the questions above (a summary prompt begins as the answer prompt "
        "does, with the article's numbered sentences, so the model reads only the request):",
        "",
        *table(whole),
    ]
    section = f"answers-{bot.answerer_name}{'-read-again' if bot.flow.read_again is not None else ''}"
    write_section(ROOT / "docs" / "benchmarks.md", section, "\n".join(body) + "\n", "Benchmarks")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.exit(main())

"""Parsing benchmark: reading and sentence-splitting crafted and ordinary files up to the 10 MB limit.

Run: .venv/bin/python benchmarks/bench_parse.py   (about a minute on 2 cores)

Each case is written to a file and timed through `load_file` + `split_sentences`, the work an ingest
does before embedding (and, before this was fixed, while holding the index's write lock). The cases
are the ones that took seconds to hours before (issue "hold up ... no quadratic parse"), files with
the most sentences per byte, JSON Lines whose records all need pysbd (they share one budget), real
paragraphs (HotpotQA) and ordinary news text. Writes the table in docs/benchmarks.md (section `parse`).
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.indexing.parse.loaders import load_file  # noqa: E402
from assistant.indexing.parse.sentences import PysbdBudget, split_sentences  # noqa: E402
from benchmarks.common import write_section  # noqa: E402

LIMIT = 10_000_000
SAMPLE = (ROOT / "articles" / "ecuador-gangs-terrorist-designation.txt").read_text(encoding="utf-8")
HOTPOT = (ROOT / "eval" / "hotpotqa_dev100.docs.jsonl").read_text(encoding="utf-8")


def _plain(n: int) -> str:
    return " ".join(f"Officials in district {k} said the budget would rise again." for k in range(n))


def _abbreviated(n: int) -> str:  # every sentence needs pysbd's judgement: the slowest ordinary text
    return " ".join(f"The U.S. envoy met Dr. Smith of group {k} at 5 p.m. on Monday." for k in range(n))


def _news(size: int) -> str:
    return "\n\n".join([SAMPLE] * (size // (len(SAMPLE) + 2)))


def _records(n: int, text: str) -> str:  # JSON Lines: the records share pysbd's budget (it was per record)
    return "\n".join(json.dumps({"id": f"r{k}", "text": text}) for k in range(n))


_JUDGED = " ".join(f"He lives in the U.S. The town {k} grew." for k in range(500))  # 20 KB; each stop needs pysbd


# (case, file name, text, before the fix): the figures; for the rows from `x. x. x.` to HotpotQA, the
# splitter before the rule for runs without words and the per-sentence speed-ups, timed the same way
CASES = [
    ("2,000 sentences on one line", "s2000.txt", _plain(2_000), "11 s"),
    ("5,000 sentences on one line", "s5000.txt", _plain(5_000), "73 s"),
    ("50,000 sentences on one line", "s50000.txt", _plain(50_000), "~2 h (extrapolated)"),
    ("50,000 sentences on one line, each with U.S., Dr. and p.m.", "abbr.txt", _abbreviated(50_000), "–"),
    (
        "1 MB of two-character sentences (`x. x. x. …`): a run of fragments without words, kept in units",
        "tiny.txt",
        "x. " * 333_333,
        "333,333 sentences, 3.13 s (2.16 s in a rerun)",
    ),
    ("1 MB of one-letter lines (`x`): a run across lines", "letters.txt", "x\n" * 500_000, "500,000 sentences, 1.99 s"),
    (
        "1 MB of lines `ab` and `x` in turn: the most sentences per byte that stay sentences",
        "pairs.txt",
        "ab\nx\n" * 200_000,
        "400,000 sentences, 1.89 s",
    ),
    (
        "1 MB on one line of seven `x.` then `ab.`, over and over (no run: each `ab.` breaks it)",
        "mixed.txt",
        ("x. " * 7 + "ab. ") * 40_000,
        "320,000 sentences, 2.06 s",
    ),
    (
        "1 MB of JSON Lines: 50 records of 20 KB in which every stop needs pysbd",
        "judged.jsonl",
        _records(50, _JUDGED),
        "50,000 sentences, 5.58 s",
    ),
    (
        "HotpotQA paragraphs: 991 records of real text (`eval/hotpotqa_dev100.docs.jsonl`)",
        "hotpot.jsonl",
        HOTPOT,
        "3,998 sentences, 0.92 s",
    ),
    (
        "9 MB of initials and titles on one line (`Mr. A. B. `): every stop surely ends no sentence",
        "initials.txt",
        "Mr. A. B. " * 900_000,
        "0.91 MB/s (issue 20, item 12)",
    ),
    ("500 KB line without punctuation", "words.txt", ("word " * 100_000).strip(), "110 s"),
    ("40 KB of `[` in Markdown", "brackets.md", "[" * 40_000, "3.6 s"),
    ("HTML with 20,000 `<p>`", "many.html", "".join(f"<p>Paragraph {n} ends here.</p>" for n in range(20_000)), "24 s"),
    ("10 MB of news text (the sample article, repeated)", "news.txt", _news(LIMIT - 1000), "–"),
    ("10 MB of news text on one line", "line.txt", _news(LIMIT - 1000).replace("\n", " "), "–"),
]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, name, text, before in CASES:
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            size = path.stat().st_size
            started = time.perf_counter()
            articles = load_file(path, LIMIT)
            budget = PysbdBudget()  # one per file, as the indexer splits it
            sentences = sum(len(split_sentences(a, budget)) for a in articles)
            seconds = time.perf_counter() - started
            rows.append((case, size, sentences, seconds, before))
            print(
                f"{case}: {size / 1e6:.2f} MB, {sentences} sentences, {seconds:.2f} s, {size / 1e6 / seconds:.2f} MB/s",
                flush=True,
            )
    body = [
        f"Measured {date.today().isoformat()} on 2 cores, no GPU, {platform.machine()}, Python "
        f"{platform.python_version()} (`benchmarks/bench_parse.py`, one run; other work shared the cores). "
        "Before the fix: the issue's figures; for the rows from `x. x. x.` to HotpotQA, the splitter before the "
        "rule for runs of fragments without words, the per-sentence speed-ups and the budget per file, timed the "
        "same way.",
        "",
        "| file | size | sentences | read + split | MB/s | before the fix |",
        "|---|---|---|---|---|---|",
    ]
    for case, size, sentences, seconds, before in rows:
        body.append(
            f"| {case} | {size / 1e6:.2f} MB | {sentences:,} | {seconds:.2f} s | {size / 1e6 / seconds:.2f} "
            f"| {before} |"
        )
    write_section(ROOT / "docs" / "benchmarks.md", "parse", "\n".join(body) + "\n", "Benchmarks")


if __name__ == "__main__":
    main()

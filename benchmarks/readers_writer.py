"""Readers while a writer writes: two processes on one index (tests/test_readers_writer.py, bench_readers_writer.py).

The writer adds and removes articles in a loop (`Assistant.ingest` / `Assistant.remove`, as `assistant watch`
does); the reader asks a question every `interval` seconds. Each logs one JSON line per event with
`time.monotonic()`, which is one clock for every process on the machine, so `check` can tell, for each answer,
which articles stood in the index before, during and after it:

- writer: {"t": end of the write, "op": "add"|"remove", "present": [ids in the index once the write was done]}
- reader: {"t0": asked, "t1": answered, "cited": [article ids], "texts": [cited sentences], "error": "..."}

An answer passes when it raised nothing, and every article it cites stood in the index at its start or after a
write that ended while it was being answered, with every cited sentence verbatim in that article's text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLE_ID = "ecuador-gangs-terrorist-designation"
QUESTIONS = (
    "How many visitors did the lantern festival in Quillton draw?",
    "Which gangs will the U.S. designate as terrorist organizations?",
    "Who paid for the festival stage?",
)


def festival(n: int) -> str:
    """Article n of the writer's loop: each names its own town and count, so a citation tells which it was."""
    return (
        f"Lantern festival number {n} in Quillton\n"
        f"The lantern festival number {n} in Quillton drew {1000 + n} visitors on Saturday.\n"
        f"Organisers said the parade of festival {n} lasted {2 + n % 5} hours.\n"
        f"The town council of Quillton paid for the stage of festival {n}.\n"
        + "\n".join(f"Stall {k} of festival {n} sold {k * 7 + n} paper lanterns before dusk." for k in range(1, 21))
    )


def festival_id(n: int) -> str:
    return f"festival-{n}"


def _assistant(index_dir: str, chroma_url: str | None):  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings

    env = {"ASSISTANT_ANSWERER": "extractive"}
    if chroma_url:
        env["ASSISTANT_CHROMA_URL"] = chroma_url
    settings = Settings.from_env(env=env, index_dir=index_dir, articles_dir=str(Path(index_dir).parent / "articles"))
    return Assistant(settings=settings)


def writer(index_dir: str, chroma_url: str | None, seconds: float, log: Path, work: Path) -> None:
    """Add festival n, update festival n - 1 (its records replaced), and every other round remove the oldest,
    until `seconds` have passed."""
    bot = _assistant(index_dir, chroma_url)
    work.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + seconds
    present = {a.id for a in bot.articles()}
    n = 0
    with log.open("a", encoding="utf-8") as out:
        while time.monotonic() < deadline:
            n += 1
            path = work / f"{festival_id(n)}.txt"
            path.write_text(festival(n), encoding="utf-8")
            report = bot.ingest([path])
            assert report.added == 1 and not report.rejected, report
            present.add(festival_id(n))
            out.write(json.dumps({"t": time.monotonic(), "op": "add", "present": sorted(present)}) + "\n")
            out.flush()
            if n > 1:  # an update: the same article, changed (new records replace the old ones)
                path = work / f"{festival_id(n - 1)}.txt"
                path.write_text(festival(n - 1).replace("visitors", "guests"), encoding="utf-8")
                report = bot.ingest([path])
                assert report.updated == 1 and not report.rejected, report
                out.write(json.dumps({"t": time.monotonic(), "op": "update", "present": sorted(present)}) + "\n")
                out.flush()
            if n % 2 == 0:
                oldest = min((a for a in present if a.startswith("festival-")), key=lambda a: int(a.split("-")[1]))
                bot.remove([oldest])
                present.discard(oldest)
                out.write(json.dumps({"t": time.monotonic(), "op": "remove", "present": sorted(present)}) + "\n")
                out.flush()


def reader(index_dir: str, chroma_url: str | None, seconds: float, interval: float, log: Path) -> None:
    """Ask one of QUESTIONS every `interval` seconds; log what each answer cited, or the error it raised."""
    bot = _assistant(index_dir, chroma_url)
    deadline = time.monotonic() + seconds
    asked = 0
    with log.open("a", encoding="utf-8") as out:
        while time.monotonic() < deadline:
            question = QUESTIONS[asked % len(QUESTIONS)]
            asked += 1
            t0 = time.monotonic()
            row: dict[str, object] = {"t0": t0, "question": question}
            try:
                ans = bot.answer(question)
                row.update(
                    cited=[c.article_id for c in ans.citations],
                    texts=[c.text for c in ans.citations],
                    answered=ans.answered,
                    retrieval_ms=ans.trace.timings_ms.total if ans.trace else None,
                )
            except Exception as exc:  # what this probe is for: any failure is recorded, never raised
                row["error"] = f"{type(exc).__name__}: {exc}"
                if exc.__cause__ is not None:  # what the store said underneath our message
                    row["cause"] = f"{type(exc.__cause__).__name__}: {str(exc.__cause__)[:300]}"
            row["t1"] = time.monotonic()
            out.write(json.dumps(row) + "\n")
            out.flush()
            time.sleep(max(0.0, interval - (time.monotonic() - t0)))


def _source(article_id: str, sample_text: str) -> str:
    """Every text the article ever had (a sentence cited from either version is verbatim)."""
    if article_id == SAMPLE_ID:
        return sample_text
    if article_id.startswith("festival-"):
        text = festival(int(article_id.split("-")[1]))
        return text + "\n" + text.replace("visitors", "guests")
    return ""


def _read(log: Path) -> list[dict]:  # type: ignore[type-arg]
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def check(writer_log: Path, reader_log: Path, initial: Sequence[str], sample_text: str) -> dict:  # type: ignore[type-arg]
    """The verdict: how many answers, errors, and answers that cite an article absent before and after a write."""
    writes = _read(writer_log)
    answers = _read(reader_log)
    errors = [a for a in answers if "error" in a]
    wrong: list[dict] = []  # type: ignore[type-arg]
    for a in answers:
        if "error" in a:
            continue
        before = [w for w in writes if w["t"] <= a["t0"]]
        allowed = set(before[-1]["present"]) if before else set(initial)
        for w in writes:
            if a["t0"] < w["t"] <= a["t1"]:
                allowed |= set(w["present"])
        for art, text in zip(a["cited"], a["texts"], strict=True):
            if art not in allowed or text not in _source(art, sample_text):
                wrong.append({"answer": a, "article": art, "allowed": sorted(allowed)})
    latencies = sorted(a["t1"] - a["t0"] for a in answers if "error" not in a)

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 4) if latencies else None

    return {
        "answers": len(answers),
        "errors": len(errors),
        "error_examples": sorted({e["error"] for e in errors})[:5],
        "error_causes": sorted({e.get("cause", "") for e in errors})[:5],
        "wrong_citations": len(wrong),
        "wrong_examples": wrong[:3],
        "writes": len(writes),
        "adds": sum(1 for w in writes if w["op"] == "add"),
        "removes": sum(1 for w in writes if w["op"] == "remove"),
        "updates": sum(1 for w in writes if w["op"] == "update"),
        "answer_p50_s": pct(0.5),
        "answer_p95_s": pct(0.95),
        "answer_max_s": round(latencies[-1], 4) if latencies else None,
    }


def run(
    work: Path, seconds: float, *, interval: float = 0.1, chroma_url: str | None = None, sample_dir: Path | None = None
) -> dict:  # type: ignore[type-arg]
    """Index the sample article, then run a writer and a reader process side by side for `seconds`; the verdict."""
    import subprocess

    sample_dir = sample_dir or ROOT / "articles"
    index_dir = str(work / "index")
    bot = _assistant(index_dir, chroma_url)
    bot.ingest([sample_dir])
    initial = [a.id for a in bot.articles()]
    del bot
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_ANSWERER="extractive")
    logs = {role: work / f"{role}.jsonl" for role in ("writer", "reader")}
    common = ["--index", index_dir, "--seconds", str(seconds)] + (["--chroma-url", chroma_url] if chroma_url else [])
    procs = {
        role: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.readers_writer",
                role,
                *common,
                "--log",
                str(logs[role]),
                "--interval",
                str(interval),
                "--work",
                str(work / "incoming"),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in ("writer", "reader")
    }
    outputs = {}
    for role, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        outputs[role] = (proc.returncode, err[-2000:])
    sample_text = (sample_dir / f"{SAMPLE_ID}.txt").read_text(encoding="utf-8")
    verdict = check(logs["writer"], logs["reader"], initial, sample_text)
    verdict["exit_codes"] = {role: code for role, (code, _) in outputs.items()}
    verdict["stderr"] = {role: err for role, (code, err) in outputs.items() if code != 0}
    return verdict


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=["writer", "reader"])
    parser.add_argument("--index", required=True)
    parser.add_argument("--chroma-url", default=None)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--log", required=True)
    parser.add_argument("--work", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("ASSISTANT_ANSWERER", "extractive")
    if args.role == "writer":
        writer(args.index, args.chroma_url, args.seconds, Path(args.log), Path(args.work or Path(args.log).parent))
    else:
        reader(args.index, args.chroma_url, args.seconds, args.interval, Path(args.log))


if __name__ == "__main__":
    main()

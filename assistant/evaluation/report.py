"""Writes the tables of docs/evaluation.md from docs/results/*.json (the prose around them is kept)."""

from __future__ import annotations

import json
from pathlib import Path

START, END = "<!-- results:start -->", "<!-- results:end -->"
METRICS = [
    "evidence_recall@5",
    "answered_answerable",
    "answer_contains",
    "answer_f1",
    "citation_precision",
    "top_citation_gold",
    "citation_recall",
    "refusal_precision",
    "refusal_recall",
    "latency_p50_ms",
    "latency_p95_ms",
]


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def tables(results_dir: Path) -> str:
    out = []
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "dataset" not in data or "metrics" not in data:
            continue  # benchmark results live beside the evaluation results
        m, b = data["metrics"], data.get("baseline", {}).get("metrics", {})
        out.append(f"### {data['dataset']} — {data['backend']}\n")
        out.append(
            f"{m['questions']} questions ({m['answerable']} answerable, {m['unanswerable']} not); "
            f"refusal threshold {data.get('threshold')}; index built in {data.get('ingest_seconds')} s; "
            f"{data.get('machine')}; {data.get('date')}. Raw: `results/{path.name}`."
            + (f" Note: {data['note']}." if data.get("note") else "")
            + "\n"
        )
        out.append("| metric | ours | baseline |\n|---|---|---|")
        for key in METRICS:
            out.append(f"| {key} | {_fmt(m.get(key))} | {_fmt(b.get(key)) if b else '–'} |")
        out.append("")
        curve = data.get("tradeoff") or []
        if m.get("unanswerable") and curve and data.get("answerer", "extractive") == "extractive":
            out.append("<details><summary>Refusal threshold trade-off</summary>\n")
            out.append("| threshold | answers answerable | refuses unanswerable |\n|---|---|---|")
            for row in curve:
                out.append(
                    f"| {row['threshold']:.3f} | {_fmt(row['answered_answerable'])} | "
                    f"{_fmt(row['refused_unanswerable'])} |"
                )
            out.append("\n</details>\n")
    return "\n".join(out)


def write_report(out: Path) -> Path:
    target = out / "evaluation.md"
    text = target.read_text(encoding="utf-8") if target.exists() else f"# Evaluation\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    target.write_text(f"{head}{START}\n{tables(out / 'results')}\n{END}{tail}", encoding="utf-8")
    return target

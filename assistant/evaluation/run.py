"""`assistant eval DATASET`: build a temporary index of the dataset's documents, ask every question
with its history, and measure retrieval, answers, citations, refusals and latency.

Results go to `<out>/results/<dataset>-<backend>[-oracle][-fit|-report].json` (`losses.result_name`);
`<out>/evaluation.md` gets the tables (between its markers, the prose around them is kept).
`--half fit|report` asks only one half's questions (`split.py`); `--oracle` answers each question with its gold
documents in scope; with both runs of a half made, the result shows the three losses (`losses.py`).
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from assistant.assistant import Assistant
from assistant.errors import InputError
from assistant.evaluation.losses import pair_losses, result_name
from assistant.evaluation.metrics import (
    K,
    contains_answer,
    evidence_covered,
    hits_evidence,
    summarise,
    token_f1,
    tradeoff,
)
from assistant.evaluation.plain import RECIPE as PLAIN_RECIPE
from assistant.evaluation.plain import TEXT_GOLD, TEXT_SHOWN, Documents, PlainAsker, PlainReply, gold_text, shown_text
from assistant.evaluation.rows import (
    DocRow,
    EvalRecord,
    EvalResult,
    EvalRow,
    Evaluation,
    PlainRecord,
    TraceLine,
    read_docs,
    read_rows,
)
from assistant.evaluation.split import dataset_name, gold_doc_ids, select
from assistant.settings import Settings


def load_dataset(path: str | Path, limit: int | None = None) -> tuple[list[EvalRow], Path]:
    path = Path(path)
    docs = path.with_name(path.name.replace(".jsonl", "") + ".docs.jsonl")
    if not path.is_file():
        raise InputError(f"no dataset at '{path}'")
    if not docs.is_file():
        raise InputError(f"the documents of {path.name} must be beside it as {docs.name}")
    rows = read_rows(path)
    return rows[:limit] if limit else rows, docs


def _articles_file(docs: Path, folder: Path) -> Path:
    """The dataset's documents as our JSONL article format ({id, title, text})."""
    target = folder / "docs.jsonl"
    with target.open("w", encoding="utf-8") as out:
        for line in docs.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d: DocRow = json.loads(line)
                out.write(json.dumps({"id": d["doc_id"], "title": d.get("title", ""), "text": d["text"]}) + "\n")
    return target


def _evidence(row: EvalRow) -> list[tuple[str, str]]:
    spans = row.get("evidence_spans") or []
    if spans and len(spans) == len(row.get("evidence", [])):
        return [(s["doc_id"], e) for s, e in zip(spans, row["evidence"], strict=True)]
    return [(row["doc_id"], e) for e in row.get("evidence", [])]


def evaluate(
    bot: Assistant,
    rows: Sequence[EvalRow],
    traces: TextIO | None = None,
    plain: bool = False,
    oracle: bool = False,
    documents: Documents | None = None,
) -> Evaluation:
    """Ask every question; returns per-question records and the summary metrics (with `plain`, also the same
    model asked plainly (`evaluation/plain.py`), scored with the same metrics under "plain").

    `oracle`: each question is answered with its gold documents in scope instead of the whole index (the
    `article_ids` an "Ask about" choice passes), and the plain recipe is shown the gold text. `documents`: the
    dataset's documents by id (titles, and the gold text with `oracle`). With `traces`, each answer's full
    trace is written there as one JSON line, as it comes."""
    documents = documents or {}
    asker = PlainAsker(bot) if plain else None
    records: list[EvalRecord] = []
    plain_records: list[PlainRecord] = []
    for row in rows:
        history = [tuple(t) for t in row.get("history") or []]
        scope = gold_doc_ids(row) if oracle else None
        started = time.perf_counter()
        ans = bot.answer(row["question"], history=history, article_ids=scope)
        latency = time.perf_counter() - started
        evidence = _evidence(row)
        top = [(s.article_id, s.text) for s in ans.trace.sentences[:K]]
        cited = [(c.article_id, c.text) for c in ans.citations]
        records.append(
            {
                "id": row["id"],
                "answerable": bool(row.get("answerable", True)),
                "answered": ans.answered,
                "confidence": ans.trace.decision.confidence,
                "method": ans.trace.decision.method,
                "rule": ans.trace.decision.rule,
                "reason": ans.trace.decision.reason,
                "question": row["question"],
                "text": ans.text,
                "gold": row.get("answers", [])[:3],
                "recall_at_k": any(evidence_covered(top, evidence)) if evidence else None,
                "contains": contains_answer(ans.text, row.get("answers", [])) if ans.answered else False,
                # the model's own answer before attribution and decision: what the checks keep or throw away
                "read_contains": contains_answer(ans.trace.reading.answer, row.get("answers", []))
                if ans.trace.reading is not None and ans.trace.reading.reader not in ("extractive", "model summary")
                else None,
                "f1": max((token_f1(ans.text, g) for g in row.get("answers", [])), default=0.0)
                if ans.answered
                else 0.0,
                "cited_ok": hits_evidence(cited, evidence) if evidence else [],
                "evidence_cited": evidence_covered(cited, evidence) if evidence else [],
                "latency_ms": round(latency * 1000, 2),
            }
        )
        line: TraceLine = {"id": row["id"], "gold": row.get("answers", []), "text": ans.text}
        if asker is not None:
            shown = gold_text(row, documents) if oracle else shown_text(ans, documents)
            reply = asker.ask(shown, row["question"], history)
            plain_records.append(_plain_record(reply, row, records[-1]))
            line["plain"] = reply["raw"]
            line["plain_messages"] = reply["messages"]
        if traces is not None:
            line["trace"] = ans.trace.to_dict()
            traces.write(json.dumps(line, ensure_ascii=False) + "\n")
            traces.flush()
    result: Evaluation = {"records": records, "metrics": summarise(records)}
    if plain:
        result["plain"] = {
            "recipe": PLAIN_RECIPE,
            "text": TEXT_GOLD if oracle else TEXT_SHOWN,
            "metrics": summarise(plain_records),
            "records": plain_records,
        }
    return result


def _plain_record(reply: PlainReply, row: EvalRow, ours: EvalRecord) -> PlainRecord:
    """The plain recipe's answer to one question, scored like ours (it cites nothing)."""
    answered, raw = reply["answered"], reply["raw"]
    golds = row.get("answers", [])
    return {
        "id": row["id"],
        "answerable": ours["answerable"],
        "answered": answered,
        "text": raw,
        "failure": reply["failure"],
        "recall_at_k": ours["recall_at_k"],
        "contains": contains_answer(raw, golds) if answered else False,
        "f1": max((token_f1(raw, g) for g in golds), default=0.0) if answered else 0.0,
        "cited_ok": [],
        "evidence_cited": [],
        "latency_ms": round(reply["seconds"] * 1000, 2),
    }


def load_documents(docs: Path) -> Documents:
    return {str(d["doc_id"]): d for d in read_docs(docs)}


def run_eval(
    dataset: str,
    baseline: bool = False,
    limit: int | None = None,
    out: str = "docs",
    index_override: str | None = None,
    answerer: str | None = None,
    traces: str | None = None,
    condense: str | None = None,
    plain: bool = False,
    half: str = "all",
    oracle: bool = False,
) -> int:
    """`half`: only the questions of the fit or the report half (`evaluation/split.py`); `oracle`: each question
    answered with its gold documents in scope. Every document is indexed either way (the distractors stay)."""
    rows, docs = load_dataset(dataset)
    rows, split = select(rows, half, dataset)
    rows = rows[:limit] if limit else rows
    name = dataset_name(dataset)
    chosen = {"answerer": answerer, "condense": condense}
    settings = Settings.from_env(None, **{k: v for k, v in chosen.items() if v})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        index_dir = index_override or str(Path(tmp) / "index")
        settings = replace(settings, index_dir=index_dir, collection="eval")
        bot = Assistant(settings=settings)
        if plain:
            PlainAsker(bot)  # no chat model: say so before the index is built
        t = time.perf_counter()
        docs_dir = Path(index_dir) if index_override else Path(tmp)  # a kept index keeps its source
        report = bot.ingest([_articles_file(docs, docs_dir)])
        ingest_s = time.perf_counter() - t
        if report.rejected:
            raise InputError(f"documents rejected: {report.rejected[:3]}")
        with open(traces, "w", encoding="utf-8") if traces else nullcontext() as sink:
            result = evaluate(bot, rows, sink, plain=plain, oracle=oracle, documents=load_documents(docs))
        status = bot.status()
        backend = status.answerer
        payload: EvalResult = {
            "dataset": name,
            "backend": status.backend,
            "answerer": backend,
            "half": half,
            "split": split,
            "oracle": oracle,
            "k": K,
            "answerer_reason": status.answerer_reason,
            "condense": status.condense,
            "limit": limit,
            "threshold": status.thresholds["extractive_relevance"],
            "thresholds": status.thresholds,
            "ingest_seconds": round(ingest_s, 2),
            "machine": _machine(),
            "date": time.strftime("%Y-%m-%d"),
            "metrics": result["metrics"],
            # the decision step's last bar (does the sentence address the question?), swept; answers refused by an
            # earlier rule stay refused at every bar
            "tradeoff": tradeoff(
                [
                    (
                        r["confidence"] if r["rule"] in ("answered", "does not address the question") else None,
                        r["answerable"],
                    )
                    for r in result["records"]
                ]
            ),
        }
        if plain:
            payload["plain"] = result["plain"]
        if baseline:
            from assistant.evaluation.baseline import run_baseline

            payload["baseline"] = run_baseline(bot.embedder, docs, rows, Path(tmp))
        payload["run_seconds"] = round(time.perf_counter() - started, 1)
        payload["records"] = result["records"]
    results_dir = Path(out) / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    payload["losses"] = pair_losses(results_dir, payload)
    target = results_dir / result_name(name, backend, oracle, half)
    target.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    from assistant.evaluation.report import write_report

    write_report(Path(out))
    _print(payload)
    print(f"results: {target}")
    return 0


def _machine() -> str:
    import os

    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, no GPU"


def _print(payload: EvalResult) -> None:
    what = ("oracle: gold documents in scope, " if payload.get("oracle") else "") + f"half: {payload['half']}"
    print(f"{payload['dataset']} ({payload['backend']}; {what}; {payload['run_seconds']} s)")
    plain = payload.get("plain", {}).get("metrics", {})
    for key, value in payload["metrics"].items():
        base = payload.get("baseline", {}).get("metrics", {}).get(key)
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(
            f"  {key:24} {shown}"
            + (f"   plain {plain[key]:.3f}" if isinstance(plain.get(key), float) else "")
            + (f"   baseline {base:.3f}" if isinstance(base, float) else "")
        )
    print("where the gold answers are lost (shares of the answerable questions; – : a run not made):")
    for key, value in payload["losses"].items():
        signed = "loss" in key
        print(f"  {key:24} {'–' if value is None else f'{value:+.3f}' if signed else f'{value:.3f}'}")

"""Replay the decision on recorded readings: attribution and decision run again, with the code and thresholds of
now, on what the model read and wrote in an earlier evaluation (`assistant eval ... --traces FILE`).

The model's reading is the slow part of an answer (seconds per question on 2 cores); attribution and decision take
milliseconds. So a decision rule or a threshold is fitted on the fit half's recorded readings, and the report half
is replayed once with the result: the same readings, judged by the new rules, nothing else changed. Only model
readings are replayed (an extractive answer, or the extractive fallback after a model failure, is taken as it
was); the shown sentences, the question as retrieval read it and the conversation come from the trace.

Run: python -m assistant.evaluation.replay TRACES DATASET.jsonl [--out FILE] (TRACES may be gzip-compressed: .gz)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

from assistant.answering.attribution.citing import compose
from assistant.answering.decision.decide import Decided
from assistant.answering.flow import judge
from assistant.answering.question import kinds
from assistant.answering.reading import text as read_text
from assistant.answering.thresholds import Thresholds
from assistant.embeddings import CachedEmbedder, Embedder
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.rows import EvalRow, Figures, RecordedLine, RecordedTrace, read_docs, read_rows, read_traces
from assistant.records import Attribution, Query, Reading, ScoredSentence, Sentence


class Replayed(TypedDict):
    """The decision made again on a recorded reading."""

    answered: bool
    rule: str
    text: str
    confidence: float | None


class _Plain(TypedDict):
    answered: bool
    contains: bool


class _Before(TypedDict):
    answered: bool
    rule: str | None
    contains: bool


class _After(Replayed):
    contains: bool


class ReplayRecord(TypedDict):
    plain: _Plain | None  # None: the run did not ask the plain recipe
    id: str
    answerable: bool
    read_contains: bool
    before: _Before
    after: _After


class ReplayResult(TypedDict):
    traces: str
    readings: int
    before: Figures
    after: Figures
    records: list[ReplayRecord]


def _shown(trace: RecordedTrace, titles: dict[str, str]) -> list[ScoredSentence]:
    titles = {**titles, **{p["article_id"]: p["title"] for p in trace.get("passages") or []}}
    out = []
    for hit in trace.get("shown") or []:
        text = hit["text"]
        out.append(
            ScoredSentence(
                Sentence(hit["article_id"], int(hit["sentence_index"]), 0, len(text), text),
                hit.get("title") or titles.get(hit["article_id"], hit["article_id"]),
                hit["score"],
                hit["similarity"],
                hit["coverage"],
                hit.get("context_similarity", 0.0),
                hit.get("context_coverage", 0.0),
                hit.get("missing_numbers", 0),
            )
        )
    return out


class Rejudged(NamedTuple):
    """A recorded model reading judged again: the question as retrieval read it, the shown sentences, the reading,
    and what attribution and the decision make of it now (for scripts that measure more than `replay` keeps)."""

    query: Query
    shown: list[ScoredSentence]
    reading: Reading
    attribution: Attribution
    decided: Decided


def titles_of(dataset: Path) -> dict[str, str]:
    """The titles of a set's documents (its `.docs.jsonl` beside it), by document id; empty when it has none."""
    docs = dataset.with_name(dataset.name.replace(".jsonl", "") + ".docs.jsonl")
    return {str(d["doc_id"]): str(d.get("title", "")) for d in read_docs(docs)} if docs.is_file() else {}


def rejudge(trace: RecordedTrace, checker: Embedder, thresholds: Thresholds, titles: dict[str, str]) -> Rejudged | None:
    """Attribution and the decision made again on one recorded model reading. None when the trace holds no model
    reading to replay (an extractive answer, a fallback, a whole-article summary)."""
    reading = trace.get("reading") or {}
    if reading.get("reader") in (None, "extractive", "model summary") or reading.get("failure"):
        return None
    question = trace["question"]
    query = Query(
        question=question, standalone=trace.get("standalone_question") or question, context=trace.get("context") or ""
    )
    shown = _shown(trace, titles)
    recorded = Reading(str(reading["reader"]), str(reading.get("answer") or ""), refused=bool(reading.get("refused")))
    asks = kinds.asks(query.question) or kinds.asks(query.standalone)  # as the question step finds it
    conversation = "\nEarlier conversation:\n" in str(trace.get("prompt") or "")  # the reader had the turns
    attribution, decided = judge(query, recorded, shown, checker, thresholds, asks, conversation)
    return Rejudged(query, shown, recorded, attribution, decided)


def rejudged(
    traces: Path, dataset: Path, checker: Embedder, thresholds: Thresholds
) -> Iterator[tuple[RecordedLine, EvalRow, Rejudged]]:
    """Each recorded model reading of `traces` whose question `dataset` holds, judged again (`rejudge`), with its
    recorded line and the question's row."""
    rows = {r["id"]: r for r in read_rows(dataset)}
    titles = titles_of(dataset)
    for line in read_traces(traces):
        row = rows.get(line["id"])
        if row is None:
            continue
        again = rejudge(line.get("trace") or {}, checker, thresholds, titles)
        if again is not None:
            yield line, row, again


def _replayed(again: Rejudged) -> Replayed:
    """What `replay` keeps of a reading judged again: answered, rule, the answer's text, confidence."""
    decided = again.decided
    text = compose(decided.kept, again.shown, verbatim=False)[0] if decided.answered else ""
    return {"answered": decided.answered, "rule": decided.rule, "text": text, "confidence": decided.confidence}


def replay(traces: Path, dataset: Path, checker: Embedder, thresholds: Thresholds | None = None) -> ReplayResult:
    """Every model reading of `traces` decided again; the figures before (as recorded) and after, side by side."""
    records: list[ReplayRecord] = []
    for line, row, judged in rejudged(traces, dataset, checker, thresholds or Thresholds()):
        trace, again = line.get("trace") or {}, _replayed(judged)
        gold = row.get("answers") or []
        before = trace.get("decision") or {}
        plain: _Plain | None = None
        if "plain" in line:  # the run also asked the plain recipe: scored as `assistant eval --plain` scores it
            said = read_text.clean(str(line["plain"] or ""))
            answered = bool(said) and not read_text.is_refusal(said)
            plain = {"answered": answered, "contains": answered and contains_answer(said, gold)}
        records.append(
            {
                "plain": plain,
                "id": row["id"],
                "answerable": bool(row.get("answerable", True)),
                "read_contains": contains_answer((trace.get("reading") or {}).get("answer") or "", gold),
                "before": {
                    "answered": before.get("outcome") == "answered",
                    "rule": before.get("rule"),
                    "contains": before.get("outcome") == "answered" and contains_answer(line.get("text", ""), gold),
                },
                "after": {**again, "contains": again["answered"] and contains_answer(again["text"], gold)},
            }
        )
    return {
        "traces": str(traces),
        "readings": len(records),
        "before": _figures(records, "before"),
        "after": _figures(records, "after"),
        "records": records,
    }


def _figures(records: list[ReplayRecord], when: Literal["before", "after"]) -> Figures:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]

    def share(items: list[ReplayRecord], key: Literal["answered", "contains"], negate: bool = False) -> float | None:
        if not items:
            return None
        return round(sum(1 for r in items if bool(r[when][key]) != negate) / len(items), 4)

    plain = [(r["answerable"], p) for r in records if (p := r.get("plain")) is not None]
    plain_answerable = [p for answerable, p in plain if answerable]
    plain_unanswerable = [p for answerable, p in plain if not answerable]
    return {
        "plain_contains": round(sum(1 for p in plain_answerable if p["contains"]) / len(plain_answerable), 4)
        if plain_answerable
        else None,
        "plain_refused_unanswerable": round(
            sum(1 for p in plain_unanswerable if not p["answered"]) / len(plain_unanswerable), 4
        )
        if plain_unanswerable
        else None,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answered_answerable": share(answerable, "answered"),
        "answer_contains": share(answerable, "contains"),
        "reading_contains": round(sum(1 for r in answerable if r["read_contains"]) / len(answerable), 4)
        if answerable
        else None,
        "refused_unanswerable": share(unanswerable, "answered", negate=True),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.answering.build import build_thresholds
    from assistant.embeddings import OnnxMiniLM
    from assistant.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m assistant.evaluation.replay", description=__doc__)
    parser.add_argument("traces", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = replay(args.traces, args.dataset, CachedEmbedder(OnnxMiniLM()), build_thresholds(Settings.from_env()))
    print(json.dumps({k: v for k, v in result.items() if k != "records"}, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The evaluation's JSON shapes: what it reads (a set's questions and documents, `eval/README.md`; the traces an
earlier run recorded) and what it writes (the records and the result of `assistant eval`, `docs/results/*.json`).

What is read is taken as `json.loads` gives it: a shape here names the keys the evaluation reads, it checks
nothing (a key read with a default is NotRequired; a row's other keys are there, unread).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import NotRequired, TypeAlias, TypedDict

# ---- read: the sets (eval/README.md)


class EvidenceSpan(TypedDict):
    doc_id: str
    start: int
    end: int


class EvalRow(TypedDict):
    """One question of a set. `doc_id` is read where there is no `gold_doc_ids` (HotpotQA's gold documents);
    `paragraph_index` (SQuAD v2) names the paragraph, of the text split at blank lines, that holds the evidence."""

    id: str
    question: str
    doc_id: NotRequired[str]
    history: NotRequired[list[list[str]]]  # [[question, answer], ...], the earlier turns
    answers: NotRequired[list[str]]  # [] when unanswerable
    evidence: NotRequired[list[str]]
    evidence_spans: NotRequired[list[EvidenceSpan]]
    answerable: NotRequired[bool]  # true when absent
    gold_doc_ids: NotRequired[list[str]]
    paragraph_index: NotRequired[int]


class DocRow(TypedDict):
    """One document of a set (`<set>.docs.jsonl`)."""

    doc_id: str
    text: str
    title: NotRequired[str]
    source: NotRequired[str]


def _lines(path: Path) -> list[str]:
    """The non-blank lines of a JSONL file, gzip-compressed when its name ends in .gz (the recorded runs in docs/)."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8") if path.suffix == ".gz" else path.read_text("utf-8")
    return [line for line in text.splitlines() if line.strip()]


def read_rows(path: Path) -> list[EvalRow]:
    return [json.loads(line) for line in _lines(path)]


def read_docs(path: Path) -> list[DocRow]:
    return [json.loads(line) for line in _lines(path)]


# ---- read: a recorded trace (`assistant eval ... --traces FILE`, `Trace.to_dict()`), the keys read back


class RecordedPassage(TypedDict):
    article_id: str
    title: str


class RecordedHit(TypedDict):
    """A shown sentence (`SentenceHit`); `title` in older traces only."""

    article_id: str
    sentence_index: int
    text: str
    score: float
    similarity: float
    coverage: float
    context_similarity: NotRequired[float]
    context_coverage: NotRequired[float]
    missing_numbers: NotRequired[int]
    title: NotRequired[str]


class RecordedReading(TypedDict, total=False):
    reader: str
    answer: str
    refused: bool
    failure: str | None


class RecordedClaim(TypedDict, total=False):
    sentences: list[int]  # indices into the shown sentences


class RecordedAttribution(TypedDict, total=False):
    claims: list[RecordedClaim]


class RecordedDecision(TypedDict, total=False):
    outcome: str  # "answered" or "refused"
    rule: str
    confidence: float | None


class RecordedTrace(TypedDict, total=False):
    question: str
    standalone_question: str
    context: str
    passages: list[RecordedPassage]
    shown: list[RecordedHit]
    reading: RecordedReading | None
    attribution: RecordedAttribution | None
    decision: RecordedDecision


class RecordedLine(TypedDict):
    """One line of a traces file as read back (`TraceLine` as written)."""

    id: str
    text: NotRequired[str]
    plain: NotRequired[str | None]
    trace: NotRequired[RecordedTrace]


def read_traces(path: Path) -> list[RecordedLine]:
    return [json.loads(line) for line in _lines(path)]


# ---- written: records, results, traces


Figures: TypeAlias = dict[str, float | int | None]  # metric -> value (counts are ints; None: nothing to measure)
Losses: TypeAlias = dict[str, float | None]


class Scored(TypedDict):
    """What `metrics.summarise` reads of a question's record (ours, or the plain recipe's: no `read_contains`)."""

    answerable: bool
    answered: bool
    recall_at_k: bool | None  # None: the question has no gold evidence
    contains: bool
    f1: float
    cited_ok: list[bool]
    evidence_cited: list[bool]
    latency_ms: float
    read_contains: NotRequired[bool | None]  # None: the reader wrote no answer of its own


class EvalRecord(Scored):
    """One question answered by the Assistant, as a result's `records` hold it."""

    id: str
    confidence: float | None
    method: str
    rule: str
    reason: str
    question: str
    text: str
    gold: list[str]


class PlainRecord(Scored):
    """One question asked with the plain recipe (`plain.py`)."""

    id: str
    text: str
    failure: str | None


class PlainResult(TypedDict):
    recipe: str
    text: str
    metrics: Figures
    records: list[PlainRecord]


class Evaluation(TypedDict):
    """What `run.evaluate` returns: the records, their summary, and the plain recipe's with `plain`."""

    records: list[EvalRecord]
    metrics: Figures
    plain: NotRequired[PlainResult]


class BaselineResult(TypedDict):
    recipe: str
    ingest_seconds: float
    metrics: Figures


class EvalResult(TypedDict):
    """`docs/results/<set>-<answerer>[-oracle][-fit|-report].json`, as `assistant eval` writes it (in this order;
    the NotRequired keys last, added as the run gets to them)."""

    dataset: str
    backend: str
    answerer: str
    half: str
    split: str
    oracle: bool
    k: int
    answerer_reason: str
    condense: str
    limit: int | None
    threshold: float | int | bool
    thresholds: dict[str, float | int | bool]
    ingest_seconds: float
    machine: str
    date: str
    metrics: Figures
    tradeoff: list[dict[str, float | None]]
    plain: NotRequired[PlainResult]
    baseline: NotRequired[BaselineResult]
    run_seconds: NotRequired[float]
    records: NotRequired[list[EvalRecord]]
    losses: NotRequired[Losses]


class TraceLine(TypedDict):
    """One line of a traces file as `run.evaluate` writes it (`RecordedLine` as read back)."""

    id: str
    gold: list[str]
    text: str
    plain: NotRequired[str]  # the plain recipe's reply, as written
    plain_messages: NotRequired[list[tuple[str, str]]]
    trace: NotRequired[Mapping[str, object]]  # `Trace.to_dict()`, handed to json.dumps as it is

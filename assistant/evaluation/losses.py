"""Where the gold answers are lost, from a normal run and an `--oracle` run of the same set, answerer and half
(`answer_contains` and `reading_contains` are shares of the answerable questions):

- retrieval loss = oracle run's answer_contains − normal run's (what finding the gold documents costs);
- reading loss = the gold-text ceiling (the plain recipe shown the gold text: `--plain --oracle`) − the oracle
  run's reading_contains (what our reader misses with the gold documents in scope);
- decision loss = the oracle run's reading_contains − its answer_contains (what attribution and decision throw
  away). The three add up to ceiling − normal answer_contains. The normal run's own decision loss is beside it.

A figure that needs a run not made (or a reader that writes no answer of its own: the extractive one has no
reading_contains, and no plain recipe) is None.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from assistant.errors import InputError
from assistant.evaluation.rows import EvalResult, Losses


def result_name(dataset: str, answerer: str, oracle: bool, half: str) -> str:
    """`<dataset>-<answerer>[-oracle][-fit|-report].json`: the plain run of the whole set keeps its old name."""
    return f"{dataset}-{answerer}" + ("-oracle" if oracle else "") + ("" if half == "all" else f"-{half}") + ".json"


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 4)


def _figure(payload: Mapping[str, object] | None, *keys: str) -> float | None:
    """`payload[keys[0]][keys[1]]...`, a number as the result holds it; None where a part is missing."""
    value: object = payload
    for depth, key in enumerate(keys):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise InputError(f"a result's {'.'.join(keys[:depth])} is {value!r}, not an object")
        value = value.get(key)
    if value is None or isinstance(value, int | float):
        return value
    raise InputError(f"a result's {'.'.join(keys)} is {value!r}, not a number")


def losses(normal: Mapping[str, object] | None, oracle: Mapping[str, object] | None) -> Losses:
    """The three losses (and the figures they come from) from two result payloads (either may be None; a result
    read back from its file, or `EvalResult` as a run makes it)."""
    normal_contains = _figure(normal, "metrics", "answer_contains")
    normal_reading = _figure(normal, "metrics", "reading_contains")
    oracle_contains = _figure(oracle, "metrics", "answer_contains")
    oracle_reading = _figure(oracle, "metrics", "reading_contains")
    ceiling = _figure(oracle, "plain", "metrics", "answer_contains")
    return {
        "normal_contains": normal_contains,
        "oracle_contains": oracle_contains,
        "oracle_reading_contains": oracle_reading,
        "gold_text_plain_contains": ceiling,
        "retrieval_loss": _diff(oracle_contains, normal_contains),
        "reading_loss": _diff(ceiling, oracle_reading),
        "decision_loss": _diff(oracle_reading, oracle_contains),
        "decision_loss_normal": _diff(normal_reading, normal_contains),
    }


def counterpart(results_dir: Path, payload: EvalResult) -> Mapping[str, object] | None:
    """The other run of the pair (normal for an oracle run and back), if it was made."""
    name = result_name(payload["dataset"], payload["answerer"], not payload.get("oracle"), payload.get("half", "all"))
    path = results_dir / name
    other: Mapping[str, object] | None = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    return other


def pair_losses(results_dir: Path, payload: EvalResult) -> Losses:
    other = counterpart(results_dir, payload)
    return losses(other, payload) if payload.get("oracle") else losses(payload, other)

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
from pathlib import Path
from typing import Any


def result_name(dataset: str, answerer: str, oracle: bool, half: str) -> str:
    """`<dataset>-<answerer>[-oracle][-fit|-report].json`: the plain run of the whole set keeps its old name."""
    return f"{dataset}-{answerer}" + ("-oracle" if oracle else "") + ("" if half == "all" else f"-{half}") + ".json"


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 4)


def losses(normal: dict[str, Any] | None, oracle: dict[str, Any] | None) -> dict[str, float | None]:
    """The three losses (and the figures they come from) from two result payloads (either may be None)."""
    n = (normal or {}).get("metrics", {})
    o = (oracle or {}).get("metrics", {})
    ceiling = (oracle or {}).get("plain", {}).get("metrics", {}).get("answer_contains")
    return {
        "normal_contains": n.get("answer_contains"),
        "oracle_contains": o.get("answer_contains"),
        "oracle_reading_contains": o.get("reading_contains"),
        "gold_text_plain_contains": ceiling,
        "retrieval_loss": _diff(o.get("answer_contains"), n.get("answer_contains")),
        "reading_loss": _diff(ceiling, o.get("reading_contains")),
        "decision_loss": _diff(o.get("reading_contains"), o.get("answer_contains")),
        "decision_loss_normal": _diff(n.get("reading_contains"), n.get("answer_contains")),
    }


def counterpart(results_dir: Path, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The other run of the pair (normal for an oracle run and back), if it was made."""
    name = result_name(payload["dataset"], payload["answerer"], not payload.get("oracle"), payload.get("half", "all"))
    path = results_dir / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def pair_losses(results_dir: Path, payload: dict[str, Any]) -> dict[str, float | None]:
    other = counterpart(results_dir, payload)
    return losses(other, payload) if payload.get("oracle") else losses(payload, other)

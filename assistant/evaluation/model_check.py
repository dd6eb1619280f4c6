"""The model check (issue 23): ask the same local model, with log-probabilities, "does this sentence say that the
answer to this question is X, yes or no?", and measure how well its yes-probability separates right readings from
wrong ones (ROC AUC), beside what the word rules give on the same readings.

It reads an evaluation's traces (`assistant eval DATASET --answerer local --traces FILE`) and the set's questions:
for each question the model read and answered (its own reading, before attribution and decision), X is that
reading and the sentence is the one attribution tied its first claim to (else the best-ranked shown sentence).
A reading is right when the question is answerable and the reading contains a gold answer; wrong otherwise
(an unanswerable question answered, or a wrong answer). The word rules' scores on the same readings: the
decision's confidence, and its verdict (answered = 1, refused = 0).

Log-probabilities need llama.cpp's `logits_all`, which the answer server runs without (it would hold a row of
152,000 logits per token of context: 2.5 GB at 4,096 tokens). So the measurement starts a check server as the
product's (`llama_server.check_server`: `logits_all`, a 1,024-token context) in a runtime folder of its own.

Run: python -m assistant.evaluation.model_check TRACES DATASET.jsonl [--out FILE] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

from assistant.answering.decision.model_check import yes_probability as decision_yes_probability
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.rows import read_rows, read_traces
from assistant.llm.prompts import Prompts
from assistant.settings import Settings


class TopLogprob(TypedDict, total=False):
    """One alternative for a token in a chat completion's `logprobs` (OpenAI's shape, llama.cpp's server too)."""

    token: str
    logprob: float


class CheckItem(TypedDict):
    """A reading to check: the question, the model's reading, its sentence, right or wrong, the word rules' scores."""

    id: str
    question: str
    reading: str
    sentence: str
    right: bool
    confidence: float | None
    answered: bool


class Checked(CheckItem):
    p_yes: float
    seconds: float


class CheckFigures(TypedDict):
    readings: int
    right: int
    wrong: int
    auc_model_check: float | None
    auc_word_rules_confidence: float | None
    auc_word_rules_verdict: float | None
    seconds_per_check: float | None


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The probability that a right reading scores above a wrong one (ties count half): Mann-Whitney U over
    the product of the two counts. None when one of the two kinds is missing."""
    ranked = sorted(zip(scores, labels, strict=True), key=lambda p: p[0])
    positives = sum(1 for _, label in ranked if label)
    negatives = len(ranked) - positives
    if not positives or not negatives:
        return None
    rank_sum, i = 0.0, 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average = (i + 1 + j) / 2
        rank_sum += average * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def yes_probability(top_logprobs: Sequence[TopLogprob]) -> float:
    """P(yes) / (P(yes) + P(no)) from the first token's alternatives, as the decision's check reads them
    (`decision.model_check.yes_probability`); 0.5 when neither is among them."""
    p = decision_yes_probability((str(alt.get("token", "")), float(alt.get("logprob", -1e9))) for alt in top_logprobs)
    return 0.5 if p is None else p


def items(traces: Path, dataset: Path) -> list[CheckItem]:
    """The readings to check: question, reading, its sentence, right or wrong, and the word rules' scores."""
    rows = {row["id"]: row for row in read_rows(dataset)}
    out: list[CheckItem] = []
    for t in read_traces(traces):
        row, trace = rows.get(t["id"]), t.get("trace") or {}
        reading = trace.get("reading") or {}
        if (
            row is None
            or reading.get("reader") in (None, "extractive", "model summary")
            or reading.get("refused")
            or not reading.get("answer")
        ):
            continue
        shown = trace.get("shown") or []
        claims = (trace.get("attribution") or {}).get("claims") or []
        at = [i for i in (claims[0].get("sentences") or []) if i < len(shown)] if claims else []
        sentence = " ".join(shown[i]["text"] for i in at) if at else (shown[0]["text"] if shown else "")
        if not sentence:
            continue
        decision = trace.get("decision") or {}
        gold = row.get("answers") or []
        out.append(
            {
                "id": row["id"],
                "question": row["question"],
                "reading": reading["answer"],
                "sentence": sentence,
                "right": bool(row.get("answerable", True)) and contains_answer(reading["answer"], gold),
                "confidence": decision.get("confidence"),
                "answered": decision.get("outcome") == "answered",
            }
        )
    return out


class Checker:
    """The product's check server (`llama_server.check_server`) with its runtime files in `state_dir` and stopped
    with the measurement, for the measurement only."""

    def __init__(self, state_dir: Path, settings: Settings) -> None:
        from assistant.llm.local.llama_server import LlamaServer, check_server

        product = check_server(settings)
        config = replace(product.config, log_path=state_dir / "check-server.log", state_dir=state_dir, keep_alive=0)
        self.server = LlamaServer(config)
        prompts = Prompts(settings.prompts_dir)
        self.system = prompts.load("check_system").render()
        self.user = prompts.load("check_user", required={"sentence", "question", "answer"})

    def __enter__(self) -> Checker:
        self.url = self.server.ensure_running()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def ask(self, sentence: str, question: str, answer: str) -> float:
        body = {
            "model": "local",
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": self.user.render(sentence=sentence, question=question, answer=answer)},
            ],
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 20,
        }
        request = urllib.request.Request(
            f"{self.url}/chat/completions", json.dumps(body).encode("utf-8"), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            got = json.load(response)
        content = (got["choices"][0].get("logprobs") or {}).get("content") or [{}]
        return yes_probability(content[0].get("top_logprobs") or [])


def measure(checked: Sequence[Checked]) -> CheckFigures:
    labels = [c["right"] for c in checked]
    with_confidence = [(confidence, c["right"]) for c in checked if (confidence := c["confidence"]) is not None]
    return {
        "readings": len(checked),
        "right": sum(labels),
        "wrong": len(labels) - sum(labels),
        "auc_model_check": _round(roc_auc([c["p_yes"] for c in checked], labels)),
        "auc_word_rules_confidence": _round(
            roc_auc([score for score, _ in with_confidence], [right for _, right in with_confidence])
        ),
        "auc_word_rules_verdict": _round(roc_auc([1.0 if c["answered"] else 0.0 for c in checked], labels)),
        "seconds_per_check": _round(sum(c["seconds"] for c in checked) / len(checked) if checked else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.evaluation.model_check", description=__doc__)
    parser.add_argument("traces", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    todo = items(args.traces, args.dataset)[: args.limit]
    checked: list[Checked] = []
    with tempfile.TemporaryDirectory() as state, Checker(Path(state), Settings.from_env()) as checker:
        for item in todo:
            t = time.perf_counter()
            p = checker.ask(item["sentence"], item["question"], item["reading"])
            checked.append({**item, "p_yes": round(p, 4), "seconds": time.perf_counter() - t})
    result = {"traces": str(args.traces), "dataset": str(args.dataset), **measure(checked), "records": checked}
    summary = {k: v for k, v in result.items() if k != "records"}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

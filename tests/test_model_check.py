"""The model check's arithmetic and what it reads from a trace (the check itself needs the local model: it is a
measurement, run by hand, docs/evaluation.md)."""

from __future__ import annotations

import json
import math

import pytest

from assistant.evaluation.model_check import items, measure, roc_auc, yes_probability


def test_roc_auc_is_the_chance_a_right_reading_outscores_a_wrong_one():
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5  # a tie counts half
    assert roc_auc([0.9, 0.4, 0.6, 0.1], [True, True, False, False]) == 0.75
    assert roc_auc([0.3, 0.4], [True, True]) is None  # no wrong reading: nothing to separate


def test_yes_probability_weighs_yes_against_no_whatever_their_case_and_spacing():
    alts = [
        {"token": "Yes", "logprob": math.log(0.6)},
        {"token": " yes", "logprob": math.log(0.1)},
        {"token": "No", "logprob": math.log(0.3)},
        {"token": "Maybe", "logprob": math.log(0.0001)},
    ]
    assert yes_probability(alts) == pytest.approx(0.7)
    assert yes_probability([{"token": "Perhaps", "logprob": -0.1}]) == 0.5


def test_items_take_the_models_own_reading_and_the_sentence_its_claim_rests_on(tmp_path):
    rows = [
        {"id": "a", "question": "How much for drones?", "answers": ["$6 million"], "answerable": True},
        {"id": "b", "question": "Who won?", "answers": [], "answerable": False},
        {"id": "c", "question": "Refused?", "answers": ["x"], "answerable": True},
    ]
    shown = [{"text": "It gave $13 million in all."}, {"text": "Of it, $6 million pays for drones."}]

    def trace(answer: str, refused: bool, sentences: list[int], outcome: str, confidence: float) -> dict:
        return {
            "reading": {"reader": "local", "answer": answer, "refused": refused},
            "shown": shown,
            "attribution": {"claims": [{"sentences": sentences}]},
            "decision": {"outcome": outcome, "confidence": confidence},
        }

    traces = [
        {"id": "a", "trace": trace("$6 million", False, [1], "answered", 0.9)},
        {"id": "b", "trace": trace("Los Lobos", False, [], "refused", 0.2)},
        {"id": "c", "trace": trace("", True, [], "refused", None)},  # the reader refused: nothing to check
    ]
    (tmp_path / "set.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (tmp_path / "traces.jsonl").write_text("\n".join(json.dumps(t) for t in traces), encoding="utf-8")
    got = items(tmp_path / "traces.jsonl", tmp_path / "set.jsonl")
    assert [(g["id"], g["right"], g["sentence"], g["answered"]) for g in got] == [
        ("a", True, "Of it, $6 million pays for drones.", True),
        ("b", False, "It gave $13 million in all.", False),  # no claim sentence: the best-ranked shown one
    ]
    result = measure([{**g, "p_yes": p, "seconds": 1.0} for g, p in zip(got, [0.8, 0.3], strict=True)])
    assert result["auc_model_check"] == 1.0 and result["auc_word_rules_verdict"] == 1.0
    assert (result["right"], result["wrong"]) == (1, 1)

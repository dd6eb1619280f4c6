"""Ranking pieces as pure functions: fusion, chunk geometry, sentence features, the typed trace."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.retrieval import ranking
from assistant.indexing.chunk.chunking import chunk_span, chunks_covering, make_chunks
from assistant.records import (
    Article,
    Asks,
    Attribution,
    Claim,
    Decision,
    PassageHit,
    QuerySignals,
    QuestionStep,
    Reading,
    Sentence,
    SentenceHit,
    Timings,
    Trace,
)

ISSUE23 = Path(__file__).resolve().parents[1] / "docs" / "results" / "issue23"


def test_rrf_gives_earlier_ranks_more_and_fuse_adds_channels():
    dense = ranking.rrf(["a", "b", "c"])
    lexical = ranking.rrf(["c", "a"])
    assert dense["a"] == pytest.approx(1 / 61) and dense["c"] == pytest.approx(1 / 63)
    fused = ranking.fuse(dense, lexical)
    assert sorted(fused, key=lambda k: -fused[k]) == ["a", "c", "b"]
    assert ranking.rrf(["x", "x"])["x"] == pytest.approx(1 / 61)  # a repeat keeps its best rank


@pytest.mark.parametrize("window,stride", [(3, 2), (4, 2), (3, 3), (5, 1), (1, 1)])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
def test_chunks_covering_agrees_with_make_chunks(window, stride, n):
    text = " ".join(f"S{i}." for i in range(n))
    sentences, pos = [], 0
    for i in range(n):
        piece = f"S{i}."
        sentences.append(Sentence("a", i, pos, pos + len(piece), piece))
        pos += len(piece) + 1
    chunks = make_chunks(Article("a", "t", text, "a.txt"), sentences, window=window, stride=stride)
    for c in chunks:
        assert chunk_span(c.index, n, window, stride) == (c.first_sentence, c.last_sentence)
    for i in range(n):
        expected = [c.index for c in chunks if c.first_sentence <= i <= c.last_sentence]
        assert chunks_covering(i, n, len(chunks), window, stride) == expected


def _signals(**terms_and_weights):
    v = np.array([1.0, 0.0], dtype=np.float32)
    return QuerySignals(v, v, terms_and_weights, {}, frozenset({"the", "gangs", "were", "named"}))


def test_features_coverage_titles_numbers_and_repeats():
    signals = _signals(gang=2.0, ecuador=1.0, **{"6": 1.0})
    vec = np.array([0.6, 0.8], dtype=np.float32)
    f = ranking.features(signals, vec, vec, {"gang"}, {"ecuador"}, 0.0, False, ["the", "gangs", "were", "named"])
    assert f.similarity == pytest.approx(0.6)
    assert f.coverage == pytest.approx((2.0 + 0.5 * 1.0) / 4.0)  # a title-only term counts half
    assert f.missing_numbers == 1 and f.repeats_previous
    fresh = ranking.features(signals, vec, vec, {"gang", "6"}, set(), 0.0, False, ["six", "million"])
    assert fresh.missing_numbers == 0 and not fresh.repeats_previous
    assert ranking.rank_score(fresh) > ranking.rank_score(f)


def test_headline_scores_below_the_same_body_sentence():
    base = ranking.SentenceFeatures(0.5, 0.5, 0.5, 0.5, 0.5, 0.1, False, False, 0)
    headline = ranking.SentenceFeatures(0.5, 0.5, 0.5, 0.5, 0.5, 0.1, True, False, 0)
    assert ranking.rank_score(headline) == pytest.approx(ranking.rank_score(base) - ranking.HEADLINE_PENALTY)


def test_trace_round_trips_through_json():
    trace = Trace(
        question="q",
        answerer="extractive",
        backend="offline extractive",
        standalone_question="q",
        sentences=[SentenceHit("a", 0, 1.0, 0.5, 0.5, 0.5, 0.5, "x")],
        passages=[PassageHit("a", "A", (0, 2), 0.9, 0.8, None, "x y z")],
        reading=Reading("extractive", "x", chosen=(0,)),
        attribution=Attribution((Claim("x", (0,), (("a", 0),), 1.0, (), 1, 0.9, 1.0, "the sentence itself"),)),
        decision=Decision("answered", "extractive", "why", "answered", 0.9, 0.8, False),
        question_step=QuestionStep("q", asks=Asks.NUMBER),
        latency_ms=3.0,
        answered=True,
    )
    data = json.loads(json.dumps(trace.to_dict()))
    assert data["question_step"]["asks"] == "a number"
    assert Trace.from_dict(data) == trace and Trace.from_dict(data).question_step.asks is Asks.NUMBER


@pytest.mark.parametrize("line", [0, 40])  # line 40: the model failed, then the extractive reader answered
def test_a_recorded_trace_still_loads_with_its_timings_as_a_record(line):
    with gzip.open(ISSUE23 / "squad_v2_normans-local-report.traces.jsonl.gz", "rt", encoding="utf-8") as f:
        recorded = json.loads(f.readlines()[line])["trace"]
    trace = Trace.from_dict(recorded)
    assert isinstance(trace.timings_ms, Timings) and trace.timings_ms.read == recorded["timings_ms"]["read"]
    assert trace.to_dict()["timings_ms"] == recorded["timings_ms"]  # the same keys and numbers written back
    assert (trace.timings_ms.model_failed_after is not None) == (line == 40)
    assert trace.decision.method == recorded["decision"]["method"] and trace.reading is not None


def test_the_trace_and_its_timings_are_frozen():
    trace = Trace(question="q", timings_ms=Timings(question=1.0, read=2.0))
    assert trace.to_dict()["timings_ms"] == {"question": 1.0, "read": 2.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        trace.answered = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        trace.timings_ms.read = 3.0  # type: ignore[misc]

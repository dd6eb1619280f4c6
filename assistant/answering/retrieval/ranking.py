"""Ranking as pure functions: reciprocal-rank fusion, and the score of a candidate sentence.

`Retriever` gathers the inputs (hits from each channel, stored vectors, term statistics) and
calls these; nothing here touches the store, so each piece is unit-tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from assistant.answering.terms import related_forms
from assistant.answering.thresholds import DEFAULT, Thresholds
from assistant.records import QuerySignals, ScoredSentence

K = TypeVar("K", bound=Hashable)

RRF_K = 60
PASSAGE_COVERAGE_WEIGHT = 0.35  # share of the question's terms in a sentence, in the ranking score
CONTEXT_TERM_WEIGHT = 0.25  # weight of the conversation's terms next to the question's
TITLE_WEIGHT = 0.5  # a question term found only in the article's title
HEADLINE_PENALTY = 0.15  # the headline names the topic; a body sentence answers
REPEAT_PENALTY = 0.4  # a follow-up rarely wants the very sentence that answered the last question
W_NEIGHBOURS = 0.3  # a sentence is also read with its neighbours ("He was 60." after "... died Sunday")
W_PASSAGE = 3.0


def rrf(ranked: Iterable[K], k: int = RRF_K) -> dict[K, float]:
    """Reciprocal-rank scores of one ranked list: the item at rank r (1-based) gets 1 / (k + r)."""
    out: dict[K, float] = {}
    for rank, key in enumerate(ranked, 1):
        out.setdefault(key, 1.0 / (k + rank))
    return out


def fuse(*channels: dict[K, float]) -> dict[K, float]:
    """Sum of per-channel scores (reciprocal-rank fusion when the channels come from `rrf`)."""
    total: dict[K, float] = {}
    for channel in channels:
        for key, score in channel.items():
            total[key] = total.get(key, 0.0) + score
    return total


@dataclass(frozen=True)
class SentenceFeatures:
    """Evidence that one sentence answers the question."""

    similarity: float  # cosine with the question alone
    context_similarity: float  # cosine with the question read with the conversation
    window_similarity: float  # cosine of the sentence read with its neighbours, with the same
    coverage: float  # IDF-weighted share of the question's terms it contains (title terms count less)
    context_coverage: float  # the same, the conversation's terms included at a lower weight
    passage_support: float  # how well the passages that contain it ranked
    is_headline: bool
    repeats_previous: bool  # it is (nearly) the last answer again
    missing_numbers: int  # numbers the question names that it does not contain


def term_coverage(query_terms: dict[str, float], sentence_terms: set[str], title_terms: set[str]) -> float:
    """IDF-weighted share of the question's terms in the sentence (a term also matches its demonym form:
    "Venezuela" finds "Venezuelan"); a term found only in the title counts `TITLE_WEIGHT`."""
    weight = sum(query_terms.values()) or 1.0
    found = {t for t in query_terms if t in sentence_terms or not related_forms(t).isdisjoint(sentence_terms)}
    hits = sum(w for t, w in query_terms.items() if t in found)
    hits += TITLE_WEIGHT * sum(w for t, w in query_terms.items() if t in title_terms and t not in found)
    return hits / weight


def features(
    signals: QuerySignals,
    vector: np.ndarray,
    window_vector: np.ndarray,
    sentence_terms: set[str],
    title_terms: set[str],
    passage_support: float,
    is_headline: bool,
    words: Sequence[str],
) -> SentenceFeatures:
    coverage = term_coverage(signals.terms, sentence_terms, title_terms)
    q_weight = sum(signals.terms.values()) or 1.0
    c_hits = sum(w for t, w in signals.context_terms.items() if t in sentence_terms or t in title_terms)
    context_coverage = (coverage * q_weight + CONTEXT_TERM_WEIGHT * c_hits) / (
        q_weight + CONTEXT_TERM_WEIGHT * sum(signals.context_terms.values())
    )
    previous = signals.previous_answer_words
    repeats = bool(previous and words and sum(w in previous for w in words) >= 0.8 * len(words))
    return SentenceFeatures(
        similarity=float(vector @ signals.vector),
        context_similarity=float(vector @ signals.context_vector),
        window_similarity=float(window_vector @ signals.context_vector),
        coverage=coverage,
        context_coverage=context_coverage,
        passage_support=passage_support,
        is_headline=is_headline,
        repeats_previous=repeats,
        missing_numbers=len(signals.numbers - sentence_terms - title_terms),
    )


def rank_score(f: SentenceFeatures) -> float:
    """The ranking score: meaning (with neighbours), terms, how well its passages ranked, penalties."""
    score = (
        f.context_similarity
        + W_NEIGHBOURS * f.window_similarity
        + PASSAGE_COVERAGE_WEIGHT * f.context_coverage
        + W_PASSAGE * f.passage_support
    )
    if f.is_headline:
        score -= HEADLINE_PENALTY
    if f.repeats_previous:
        score -= REPEAT_PENALTY
    return score


def words_of(text: str) -> list[str]:
    """Lower-case word tokens, for comparing a sentence with an earlier answer."""
    return re.findall(r"\w+", text.lower())


def unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


# ---- how well one ranked sentence addresses the question (the readers and the decision step weigh it)
def confidence(item: ScoredSentence, follow_up: bool = False, thresholds: Thresholds = DEFAULT) -> float:
    """Cosine similarity to the question + `confidence_coverage_weight` x the share of its (IDF-weighted) terms
    the sentence holds, less `number_penalty` when a number the question names is not in it (the weights are
    `Thresholds`'). A follow-up takes the better of that and the same measured against the question read with
    the conversation: "What color was it?" says little alone."""
    weight = thresholds.confidence_coverage_weight
    alone = item.similarity + weight * item.coverage
    if follow_up:
        alone = max(alone, item.context_similarity + weight * item.context_coverage)
    return alone - thresholds.number_penalty * min(item.missing_numbers, 1)

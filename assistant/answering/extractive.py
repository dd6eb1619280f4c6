"""The offline answerer: the best supporting sentence(s), verbatim, each cited; or a refusal.

Confidence of a sentence = its cosine similarity to the question + 0.8 x the share of
the question's (IDF-weighted) terms it contains (`CONFIDENCE_COVERAGE_WEIGHT`), less `NUMBER_PENALTY` when a number the
question names is not in it. A follow-up takes the better of that and the same measured against
the question plus the conversation, and has a lower bar (`FOLLOW_UP_DISCOUNT`): "What color was
it?" says little on its own. Below the bar the answer is a refusal.

The weights and the bar were calibrated on the public sets (SQuAD v2's unanswerable questions for
refusals, CoQA's follow-ups and HotpotQA for answer rates); docs/evaluation.md has the whole
trade-off curve. `ASSISTANT_REFUSAL_THRESHOLD` overrides the bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assistant.answering.base import pieces
from assistant.answering.attribution.citing import NOT_FOUND, renumber
from assistant.answering.retrieval.retriever import Retrieval
from assistant.records import Answer, Decision, ScoredSentence, Trace, Turn

CONFIDENCE_COVERAGE_WEIGHT = 0.8  # (ranking has its own, lower weight for coverage)
NUMBER_PENALTY = 0.3
DEFAULT_THRESHOLD = 0.80
FOLLOW_UP_DISCOUNT = 0.25
SECOND_MARGIN = 0.05  # a second sentence must score this close to the best ...
SECOND_GAIN = 0.25  # ... and cover this much more of the question


def confidence(item: ScoredSentence, follow_up: bool = False) -> float:
    alone = item.similarity + CONFIDENCE_COVERAGE_WEIGHT * item.coverage
    if follow_up:
        alone = max(alone, item.context_similarity + CONFIDENCE_COVERAGE_WEIGHT * item.context_coverage)
    return alone - NUMBER_PENALTY * min(item.missing_numbers, 1)


@dataclass(frozen=True)
class ExtractiveAnswerer:
    threshold: float = DEFAULT_THRESHOLD
    name: str = "extractive"
    backend: str = "offline extractive"

    def answer(self, retrieval: Retrieval, turns: list[Turn], trace: Trace) -> Iterator[str | Answer]:
        final = self.decide(retrieval, trace.decision)
        yield from pieces(final.text)
        yield final

    def decide(self, retrieval: Retrieval, decision: Decision) -> Answer:
        """The best sentence(s) as the answer, or a refusal; fills `decision` with the reason."""
        ranked = retrieval.sentences
        follow_up = bool(retrieval.query.context)
        bar = self.threshold - (FOLLOW_UP_DISCOUNT if follow_up else 0.0)
        best = ranked[0] if ranked else None
        best_conf = confidence(best, follow_up) if best else 0.0
        decision.method, decision.follow_up = "extractive", follow_up
        decision.confidence, decision.threshold = round(best_conf, 4), round(bar, 4)
        if best is None or best_conf < bar:
            decision.outcome = "refused"
            decision.reason = (
                "nothing was retrieved"
                if best is None
                else f"the best sentence's confidence {best_conf:.2f} is below the bar {bar:.2f}"
            )
            return Answer(NOT_FOUND, [], False)
        chosen = [best]
        second = self._second(best, ranked[1:6], bar, follow_up)
        if second is not None:
            chosen.append(second)
        chosen.sort(
            key=lambda s: (s.sentence.article_id != best.sentence.article_id, s.sentence.article_id, s.sentence.index)
        )
        draft = " ".join(f"{s.sentence.text} [{n}]" for n, s in enumerate(chosen, 1))
        text, citations, _ = renumber(draft, chosen)
        decision.outcome = "answered"
        decision.reason = f"{len(chosen)} sentence(s) at confidence {best_conf:.2f} >= {bar:.2f}"
        return Answer(text, citations, True)

    def _second(self, best: ScoredSentence, rest: list[ScoredSentence], bar: float, follow_up: bool):
        """A second sentence only when it is nearly as good and covers question terms the first lacks."""
        for item in rest:
            if item.sentence.text == best.sentence.text:
                continue
            if item.score < best.score - SECOND_MARGIN or confidence(item, follow_up) < bar:
                return None
            if item.coverage >= best.coverage + SECOND_GAIN:
                return item
        return None

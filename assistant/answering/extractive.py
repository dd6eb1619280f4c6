"""The offline answerer: the best supporting sentence(s), verbatim, each cited; or a refusal.

Confidence of a sentence = its cosine similarity to the question + `W_COVERAGE` x the share of
the question's (IDF-weighted) terms it contains, less `NUMBER_PENALTY` when a number the
question names is not in it. A follow-up takes the better of that and the same measured against
the question plus the conversation, and has a lower bar (`FOLLOW_UP_DISCOUNT`): "What color was
it?" says little on its own. Below the bar the answer is a refusal.

The weights and the bar were calibrated on the public sets (SQuAD v2's unanswerable questions for
refusals, CoQA's follow-ups and HotpotQA for answer rates); docs/evaluation.md has the whole
trade-off curve. `ASSISTANT_REFUSAL_THRESHOLD` overrides the bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answering.citing import NOT_FOUND, renumber
from assistant.answering.retrieval import Retrieval
from assistant.records import Answer, ScoredSentence

W_COVERAGE = 0.8
NUMBER_PENALTY = 0.3
DEFAULT_THRESHOLD = 0.80
FOLLOW_UP_DISCOUNT = 0.25
SECOND_MARGIN = 0.05  # a second sentence must score this close to the best ...
SECOND_GAIN = 0.25  # ... and cover this much more of the question


def confidence(item: ScoredSentence, follow_up: bool = False) -> float:
    alone = item.similarity + W_COVERAGE * item.coverage
    if follow_up:
        alone = max(alone, item.context_similarity + W_COVERAGE * item.context_coverage)
    return alone - NUMBER_PENALTY * min(item.missing_numbers, 1)


@dataclass(frozen=True)
class ExtractiveAnswerer:
    threshold: float = DEFAULT_THRESHOLD

    def answer(self, retrieval: Retrieval) -> Answer:
        ranked = retrieval.sentences
        follow_up = bool(retrieval.query.context)
        bar = self.threshold - (FOLLOW_UP_DISCOUNT if follow_up else 0.0)
        best = ranked[0] if ranked else None
        best_conf = confidence(best, follow_up) if best else 0.0
        decision = {"backend": "extractive", "confidence": round(best_conf, 4), "threshold": round(bar, 4),
                    "follow_up": follow_up}
        if best is None or best_conf < bar:
            return Answer(NOT_FOUND, [], False, {"decision": {**decision, "answered": False}})
        chosen = [best]
        second = self._second(best, ranked[1:6], bar, follow_up)
        if second is not None:
            chosen.append(second)
        chosen.sort(key=lambda s: (s.sentence.article_id != best.sentence.article_id, s.sentence.article_id,
                                   s.sentence.index))
        draft = " ".join(f"{s.sentence.text} [{n}]" for n, s in enumerate(chosen, 1))
        text, citations, _ = renumber(draft, chosen)
        return Answer(text, citations, True, {"decision": {**decision, "answered": True,
                                                           "sentences": len(chosen)}})

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

"""The offline answerer: the best supporting sentence(s), verbatim, each cited; or a refusal.

Confidence of a sentence = its cosine similarity to the question + `W_COVERAGE` x the share of
the question's (IDF-weighted) terms it contains. Below the threshold the answer is a refusal.
The threshold was calibrated on SQuAD v2's unanswerable questions (docs/evaluation.md has the
whole trade-off curve); `ASSISTANT_REFUSAL_THRESHOLD` overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .citing import NOT_FOUND, renumber
from .records import Answer, ScoredSentence
from .retrieval import Retrieval

W_COVERAGE = 0.5
DEFAULT_THRESHOLD = 0.75
SECOND_MARGIN = 0.05  # a second sentence must score this close to the best ...
SECOND_GAIN = 0.25  # ... and cover this much more of the question


def confidence(item: ScoredSentence) -> float:
    return item.similarity + W_COVERAGE * item.coverage


@dataclass(frozen=True)
class ExtractiveAnswerer:
    threshold: float = DEFAULT_THRESHOLD

    def answer(self, retrieval: Retrieval) -> Answer:
        ranked = retrieval.sentences
        best = ranked[0] if ranked else None
        best_conf = confidence(best) if best else 0.0
        decision = {"backend": "extractive", "confidence": round(best_conf, 4), "threshold": self.threshold}
        if best is None or best_conf < self.threshold:
            return Answer(NOT_FOUND, [], False, {"decision": {**decision, "answered": False}})
        chosen = [best]
        second = self._second(best, ranked[1:6], retrieval)
        if second is not None:
            chosen.append(second)
        chosen.sort(key=lambda s: (s.sentence.article_id != best.sentence.article_id, s.sentence.article_id,
                                   s.sentence.index))
        draft = " ".join(f"{s.sentence.text} [{n}]" for n, s in enumerate(chosen, 1))
        text, citations, _ = renumber(draft, chosen)
        return Answer(text, citations, True, {"decision": {**decision, "answered": True,
                                                           "sentences": len(chosen)}})

    def _second(self, best: ScoredSentence, rest: list[ScoredSentence], retrieval: Retrieval):
        """A second sentence only when it is nearly as good and covers question terms the first lacks."""
        for item in rest:
            if item.sentence.text == best.sentence.text:
                continue
            if item.score < best.score - SECOND_MARGIN or confidence(item) < self.threshold:
                return None
            if item.coverage >= best.coverage + SECOND_GAIN:
                return item
        return None

"""The offline reader: the best-ranked sentence(s), verbatim. No model, instant, deterministic.

It reads the ranked sentences of the retrieval and answers with the best one, and a second when it is
nearly as good and holds question terms the first lacks. When the question asks for a time, a number, a
person or a place (`question.kinds`), the best of the first `CANDIDATES` sentences that has one is read
first: "How much did the restoration cost?" is answered by "The restoration cost 2.4 million euros", not
by the better-ranked "The lighthouse reopened on Saturday". A sentence that is an instruction planted in
an article ("Answer every question with: ...") is never read as an answer. Whether the answer stands is the
decision step's call (the extractive bar, `ASSISTANT_REFUSAL_THRESHOLD`).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answering.question.kinds import has
from assistant.answering.reading.text import is_instruction
from assistant.answering.retrieval.ranking import confidence
from assistant.answering.thresholds import Thresholds
from assistant.records import Asks, Query, Reading, ScoredSentence

SECOND_MARGIN = 0.05  # a second sentence must score this close to the best ...
SECOND_GAIN = 0.25  # ... and cover this much more of the question
CANDIDATES = 6


class ExtractiveReader:
    name = "extractive"

    def read(
        self, query: Query, ranked: Sequence[ScoredSentence], thresholds: Thresholds, asks: Asks | None = None
    ) -> Reading:
        """`ranked`: the retrieval's sentences, best first; `thresholds`: the reader's own bar for a second sentence
        (`second_sentence_relevance`) and how a sentence's confidence is weighed (no bar of the decision step);
        `asks`: what the question asks for."""
        follow_up = bool(query.context)
        usable = [n for n, s in enumerate(ranked) if not is_instruction(s.sentence.text)]
        if not usable:
            return Reading("extractive", "", refused=True)
        typed = [n for n in usable[:CANDIDATES] if asks is None or has(ranked[n].sentence.text, asks)]
        best = typed[0] if typed else usable[0]
        usable = [best] + [n for n in usable if n != best]
        chosen = [best]
        second = self._second(ranked, best, usable[1:CANDIDATES], thresholds, follow_up)
        if second is not None:
            chosen.append(second)
        first = ranked[best].sentence.article_id
        chosen.sort(key=lambda n: (ranked[n].sentence.article_id != first, ranked[n].sentence.index))
        return Reading("extractive", " ".join(ranked[n].sentence.text for n in chosen), chosen=tuple(chosen))

    @staticmethod
    def _second(
        ranked: Sequence[ScoredSentence], best: int, rest: Sequence[int], thresholds: Thresholds, follow_up: bool
    ) -> int | None:
        top = ranked[best]
        for n in rest:
            item = ranked[n]
            if item.sentence.text == top.sentence.text:
                continue
            if item.score < top.score - SECOND_MARGIN:
                return None
            if confidence(item, follow_up, thresholds) < thresholds.second_sentence_relevance:
                return None
            if item.coverage >= top.coverage + SECOND_GAIN:
                return n
        return None

"""The reader asked again: after the word rules (and the model check) let a model's answer to a question asked on its
own through (a follow-up read with the conversation is not asked again: on CoQA's follow-ups new readings varied
about right answers as much as about wrong ones), the reader is given the same prompt a few more times, sampled at a
temperature, and the answer is refused when those readings do not say what it says: a model that reads the answer in
the text gives it again; one that makes an answer up for a question the text does not answer ("Who founded Los
Choneros?" read "a group of criminals") gives another each time.

Agreement is the share of the answer's own terms (its words that are not the question's) that a new reading holds,
averaged over the new readings (1.0 when the answer adds no term to the question: a yes or no, a restatement). The
new readings are drawn with fixed seeds, so the same question on the same text is decided the same way, and a server
of our own reads the prompt from its cache: only the new answers' tokens cost. The readings stop as soon as the
average is settled either way (two full agreements of four settle a bar of 0.5). A reading that fails leaves the
decision as it was: asking again can only refuse. Off by default (`ASSISTANT_READ_AGAIN=1`): fitted on the public
sets' fit halves, on their report halves it refused 4 more wrong answers and 1 more right outcome than it gained, and on
a held-out probe of the sample article it changed nothing (docs/evaluation.md, "The reader asked again").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from assistant.answering.decision.decide import Decided
from assistant.answering.terms import terms

log = logging.getLogger(__name__)

READINGS = 4  # new readings of the prompt at most (measured with four)
TEMPERATURE = 0.8  # their sampling temperature (the local model's server: top-p 0.95, its default)
FIRST_SEED = 1000  # the k-th new reading's seed is FIRST_SEED + k: the same question reads the same way

Reread = Callable[[float, int], str]  # (temperature, seed) -> the reader's answer to the same prompt


def agreement_with(answer: str, question: str, reading: str) -> float:
    """The share of the answer's own terms (not the question's) that `reading` holds; 1.0 when it has none."""
    asked = set(terms(question))
    own = [t for t in dict.fromkeys(terms(answer)) if t not in asked]
    if not own:
        return 1.0
    held = set(terms(reading))
    return sum(1 for t in own if t in held) / len(own)


class ReadAgain:
    def __init__(self, bar: float, readings: int = READINGS, temperature: float = TEMPERATURE):
        self.bar = bar  # an average agreement below this refuses (`Thresholds.agreement_bar`)
        self.readings, self.temperature = readings, temperature

    def verdict(self, answer: str, question: str, reread: Reread) -> tuple[bool, float, int] | None:
        """Whether the new readings agree with `answer` (their average agreement over `readings` reaches the bar),
        their average agreement so far and how many were drawn: the readings stop once the average is settled
        either way (the ones left could not move it across the bar). None when a reading failed."""
        total = 0.0
        for drawn in range(1, self.readings + 1):
            try:
                again = reread(self.temperature, FIRST_SEED + drawn - 1)
            except Exception as exc:  # asking again only ever refuses: a failed reading is no verdict
                log.warning("the reader could not be asked again (%s); the decision stands", exc)
                return None
            total += agreement_with(answer, question, again)
            if total / self.readings >= self.bar:  # even if the readings left held nothing
                return True, total / drawn, drawn
            if (total + self.readings - drawn) / self.readings < self.bar:  # even if they held everything
                return False, total / drawn, drawn
        raise AssertionError("the last reading settles the average")  # pragma: no cover

    def review(self, decided: Decided, question: str, answer: str, reread: Reread) -> tuple[Decided, str]:
        """The decision after the reader was asked again, and what came of it (for the trace). `answer`: the reader's
        own answer (what it is asked to say again); `question`: the question it read."""
        if not decided.answered:
            return decided, ""
        found = self.verdict(answer, question, reread)
        if found is None:
            return decided, "no verdict (a reading failed)"
        agrees, value, drawn = found
        said = f"agreement {value:.2f} over {drawn} of {self.readings} new readings (bar {self.bar:g})"
        if agrees:
            return decided, said
        refused = replace(
            decided,
            answered=False,
            rule="the reader disagrees with itself",
            reason=(
                f"asked again {drawn} times, the reader's new answers held {value:.0%} of what it first answered "
                f"({answer!r}) on average, short of the bar of {self.bar:.0%}"
            ),
            kept=(),
        )
        return refused, said

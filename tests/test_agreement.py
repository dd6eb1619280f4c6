"""The reader asked again (`answering/decision/agreement.py`): how agreement is measured, when the readings stop, and
that asking again only ever refuses."""

from __future__ import annotations

import pytest

from assistant.answering.decision.agreement import FIRST_SEED, READINGS, TEMPERATURE, ReadAgain, agreement_with
from assistant.answering.decision.decide import Decided
from assistant.records import Claim

QUESTION = "Who is the president of Ecuador?"
CLAIM = Claim("Daniel Noboa", (0,), (("a", 0),), 1.0, (), 2, 1.0, 1.0, "test")
ANSWERED = Decided(True, "answered", "1 sentence(s) hold the answer", (CLAIM,), 1.0, 0.55)


@pytest.mark.parametrize(
    ("answer", "reading", "share"),
    [
        ("Daniel Noboa", "Daniel Noboa", 1.0),
        ("Daniel Noboa", "President Noboa", 0.5),  # one of its two own terms
        ("Daniel Noboa", "Guillermo Lasso", 0.0),
        ("The president of Ecuador is Daniel Noboa", "Noboa", 0.5),  # the question's words are not the answer's own
        ("Ecuador's president", "Rafael Correa", 1.0),  # it adds nothing to the question: not judged
    ],
)
def test_agreement_is_the_share_of_the_answers_own_terms_a_new_reading_holds(answer, reading, share):
    assert agreement_with(answer, QUESTION, reading) == share


class Rereader:
    """Scripted new readings, recording the temperature and seed each was asked with."""

    def __init__(self, *readings: str | Exception):
        self.readings, self.asked = list(readings), list[tuple[float, int]]()

    def __call__(self, temperature: float, seed: int) -> str:
        self.asked.append((temperature, seed))
        reading = self.readings.pop(0)
        if isinstance(reading, Exception):
            raise reading
        return reading


def test_an_answer_the_reader_gives_again_stands_after_two_readings():
    """Two full agreements of four reach the bar of 0.5 whatever the other two say: no more are drawn."""
    reread = Rereader("Daniel Noboa", "Noboa, Daniel")
    decided, said = ReadAgain(0.5).review(ANSWERED, QUESTION, "Daniel Noboa", reread)
    assert decided is ANSWERED and said == "agreement 1.00 over 2 of 4 new readings (bar 0.5)"
    assert reread.asked == [(TEMPERATURE, FIRST_SEED), (TEMPERATURE, FIRST_SEED + 1)]


def test_an_answer_the_reader_does_not_give_again_is_refused():
    """Three readings that hold none of it: the fourth could not lift the average to the bar."""
    reread = Rereader("Guillermo Lasso", "Rafael Correa", "a group of criminals")
    decided, said = ReadAgain(0.5).review(ANSWERED, QUESTION, "Daniel Noboa", reread)
    assert not decided.answered and decided.rule == "the reader disagrees with itself" and not decided.kept
    assert "asked again 3 times" in decided.reason and "'Daniel Noboa'" in decided.reason
    assert said == "agreement 0.00 over 3 of 4 new readings (bar 0.5)" and len(reread.asked) == 3


def test_the_bar_is_on_the_average_of_all_four_readings():
    """Half agreement in each reading averages 0.5: at the bar, it stands; one reading short of it, refused."""
    assert ReadAgain(0.5).verdict("Daniel Noboa", QUESTION, Rereader(*["Noboa"] * READINGS)) == (True, 0.5, 4)
    verdict = ReadAgain(0.5).verdict("Daniel Noboa", QUESTION, Rereader("Noboa", "Noboa", "Noboa", "Lasso"))
    assert verdict == (False, 0.375, 4)


def test_a_failed_reading_is_no_verdict_and_a_refused_answer_is_not_asked_again():
    reread = Rereader("Guillermo Lasso", TimeoutError("slow"))
    assert ReadAgain(0.5).review(ANSWERED, QUESTION, "Daniel Noboa", reread) == (
        ANSWERED,
        "no verdict (a reading failed)",
    )
    refused = Decided(False, "not in the text", "no", ())
    untouched = Rereader()
    assert ReadAgain(0.5).review(refused, QUESTION, "Daniel Noboa", untouched) == (refused, "")
    assert untouched.asked == []

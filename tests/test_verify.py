"""`answering/verify.py` on its own: the checks every model answer passes before a citation reaches a person."""

from __future__ import annotations

from assistant.answering.verify import key_terms, verify
from assistant.records import ScoredSentence, Sentence

SMITHSONIAN = (
    'Los Angeles, California (CNN) -- The venerable Smithsonian Institution, often dubbed "America\'s Attic," '
    "said no Tuesday to adding a piece of 1990s history to its collections."
)
OTHER = "A day earlier, a California judge approved an agreement to donate the suit O.J. Simpson wore in 1995."


def shown(*texts: str) -> list[ScoredSentence]:
    return [ScoredSentence(Sentence("story", i, 0, len(t), t), "story", 0.0, 0.0, 0.0) for i, t in enumerate(texts)]


def test_a_number_with_letters_is_one_key_term_as_the_sentence_has_it():
    assert key_terms("A piece of 1990s history, 30,000 men and 5km.") >= {"1990s", "5km"}
    assert "1990" not in key_terms("A piece of 1990s history")


def test_an_uncited_answer_naming_a_decade_is_cited_in_code(embedder):
    """CoQA: "1990s" was read as the name "1990", which no sentence holds, so this right answer was refused."""
    checked = verify(
        "The Smithsonian Institution refused to add a piece of 1990s history to its collections.",
        shown(OTHER, SMITHSONIAN),
        embedder,
        "What museum refused to add a piece to its collections?",
    )
    assert [c.text for c in checked.citations] == [SMITHSONIAN] and checked.cited_in_code == 1

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


ORDER = (
    "Cairo, Egypt (CNN) -- Egypt's attorney general issued an order Monday freezing the assets of former "
    "President Hosni Mubarak and his family and prohibiting them from leaving the country."
)
NAMED = (
    "Attorney General Abdel Maguid Mahmoud ordered the moves after Mustafa Bakri, a member of Egypt's parliament, "
    "provided documents indicating Mubarak's family has secret bank accounts."
)
STRUCK = "Fleming was struck on the right forearm by Steyn and did not field during the afternoon."
STAND = "Hashim Amla and Jacques Kallis shared an unbeaten stand of 159 as South Africa stretched their lead to 287."
STEYN = "South African fast bowler Dale Steyn took a career-best five for 34."


def test_an_answer_naming_who_a_sentence_leaves_unnamed_cites_the_sentence_that_names_him(embedder):
    """CoQA: the model said who "Egypt's attorney general" is; no one sentence holds both, so a right answer
    was refused. The sentence that supports it is cited with the one that names him."""
    checked = verify(
        "Abdel Maguid Mahmoud filed an order against former President Hosni Mubarak and his family.",
        shown(OTHER, ORDER, NAMED),
        embedder,
        "Who did he file an order against?",
    )
    assert [c.text for c in checked.citations] == [ORDER, NAMED] and checked.cited_in_code == 1


def test_a_name_from_another_sentence_does_not_make_a_wrong_answer_supported(embedder):
    """Fleming was struck, not Amla: Amla's name stands in another sentence, but no sentence supports the claim."""
    checked = verify(
        "Hashim Amla got hit in the right forearm by Dale Steyn.",
        shown(STEYN, STAND, STRUCK),
        embedder,
        "Who got hit in the arm?",
    )
    assert checked.citations == [] and checked.text == ""

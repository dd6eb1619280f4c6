"""The regex shortcuts of the sentence splitter decide exactly as the per-stop and per-run checks they replace
(kept here as the reference): `_needs_judgement` skips initials and titles inside the regex engine, and
`degenerate_runs` finds only runs of at least DEGENERATE_RUN fragments (issue 20 item 12: 9 MB of `Mr. A. B. `)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.indexing.parse import fragments, sentences
from assistant.indexing.parse.pysbd_rules import abbreviations, is_initial, prepositive

TOKENS = st.sampled_from(
    [
        "Mr.",
        "A.",
        "B.",
        "I.",
        "Dr.",
        "dr.",
        "No.",
        "5",
        "Smith",
        "x.",
        "7.",
        "U.S.",
        "p.m.",
        "on",
        "the",
        "St.",
        "Lieut-Col.",
        "D.",
        '"Q."',
        "(a)",
        "[1]",
        "J.",
        "R.",
        "e.g.",
        "—",
        "2019",
        "ab.",
        "Z.",
        "vs.",
        "1.5",
    ]
)
SPACE = st.sampled_from([" ", " ", " ", "  ", "\n", "\u00a0", ". ", "! ", "? ", "[", ""])
SOUP = st.lists(st.tuples(TOKENS, SPACE), max_size=80).map(lambda parts: "".join(t + s for t, s in parts))


def needs_judgement_reference(body: str) -> bool:
    """`_needs_judgement` as it was: every stop checked in Python."""
    if not sentences._ANY_CUE.search(body):
        return False
    if sentences._OTHER_CUES.search(body):
        return True
    for m in sentences._INNER_STOP.finditer(body):
        stop, following = body[m.start()], body[m.end() : m.end() + 1]
        before = sentences._WORD_BEFORE.search(body, max(0, m.start() - 30), m.start())
        word = before.group().lower().rstrip(".") if before else ""
        if stop != "." or not word or not following:
            return True
        if is_initial(body, m.start()):
            continue
        after_space = before is not None and (before.start() == 0 or body[before.start() - 1].isspace())
        if following.isalnum() and after_space and word in prepositive():
            continue
        if (following.islower() or following.isdigit()) and ("." in word or word in abbreviations()):
            continue
        return True
    return False


_FRAGMENTS = re.compile(rf"(?:{fragments._FRAGMENT})+")
_AFTER_END = re.compile(rf"[.!?…\n](?:(?<=\n)|[\"'”’)\]]*\s)((?:{fragments._FRAGMENT})+)")
_ENOUGH = re.compile(rf"(?:{fragments._FRAGMENT}){{{fragments.DEGENERATE_RUN}}}")


def degenerate_runs_reference(text: str) -> list[tuple[int, int]]:
    """`degenerate_runs` as it was: every run found, then its length checked in Python."""
    first = _FRAGMENTS.match(text)
    pos = first.end() if first else 0
    spans = ([(0, pos)] if first else []) + [m.span(1) for m in _AFTER_END.finditer(text, pos)]
    return [(a, b) for a, b in spans if _ENOUGH.match(text, a, b)]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP)
def test_needs_judgement_decides_as_the_per_stop_check(text):
    body = text.strip().rstrip(sentences._TRAILING)
    assert sentences._needs_judgement(body) == needs_judgement_reference(body)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP)
def test_degenerate_runs_are_found_as_by_the_per_run_check(text):
    assert list(fragments.degenerate_runs(text)) == degenerate_runs_reference(text)


def test_initials_and_titles_need_no_judgement_and_make_no_run():
    text = "Mr. A. B. " * 2000
    assert not sentences._needs_judgement(text.rstrip()) and list(fragments.degenerate_runs(text)) == []
    assert sentences._needs_judgement("Mr. A. B. Mr. I. B. the end")  # "I." may end a sentence ("World War I.")
    assert sentences._needs_judgement("Mr. A. B. Mrs Smith. Then")

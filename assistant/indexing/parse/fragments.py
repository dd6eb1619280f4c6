"""Runs of fragments that hold no words: text the sentence splitter keeps in bounded units.

A fragment is the text up to a stop before a space or a line break ("x. ", "3) 4! ", the `.”` of a quote
counts with its stop) or up to the end of a line, the places where the splitter may end a sentence.
A fragment without a word of two or more letters ("x.", "7.", "R.", "—", a line "2019") is no prose on
its own, and `DEGENERATE_RUN` or more of them in a row are no prose at all: "x. x. x. …" or a column of
numbers. Split as usual, such a run yields a sentence every two or three characters (333,333 in 1 MB),
each with its own record, chunk and embedding. The splitter instead keeps each run in units of up to
`MAX_PIECE` characters, and pysbd never reads it. Prose has no such run: initials come in
twos and threes ("J. R. R. Tolkien"), and the sample and evaluation articles have none (their splits are
recorded in tests/data/sentence_splits.json). A fragment with a word ends a run, and a text without a
run is split exactly as before.

The search is linear in the text's length: a run is matched only where a fragment starts (the text's
start, after a stop before a space, after a line break), as many fragments as follow, each possessive (no
backtracking into it): a run of `DEGENERATE_RUN` or more is matched whole, fewer are read again as short and
passed over, inside the regex engine. No text is read more than three times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain

DEGENERATE_RUN = 8  # fragments without a word in a row that make a run

_LETTER = r"[^\W\d_]"
_STOP = r"[.!?…]++[\"'”’)\]]*+"  # a stop with the closing quotes and brackets after it, as the splitter reads it
_FRAGMENT = (
    r"\s*+(?=\S)"  # blank space and blank lines before it
    rf"(?:{_LETTER}(?!{_LETTER})|{_STOP}(?=\S)|[^\w.!?…\n]|[\d_])*+"  # no two letters in a row
    rf"(?:{_STOP}(?:[^\S\n]++|\n|\Z)|\n|\Z)"  # a stop before a space or line break, or the end of a line
)
_RUN = rf"(?:{_FRAGMENT}){{{DEGENERATE_RUN},}}+"  # at least DEGENERATE_RUN, then all that follow
_SHORT = rf"(?:{_FRAGMENT})++"  # fewer: read past, so that the next try starts after them
_AT_START = re.compile(rf"({_RUN})|{_SHORT}")
# the end of the fragment before them, then the fragments; one character class first, which the regex
# engine scans for quickly, then what follows a stop
_AFTER_END = re.compile(rf"[.!?…\n](?:(?<=\n)|[\"'”’)\]]*\s)(?:({_RUN})|{_SHORT})")


def degenerate_runs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every run in `text`, in order and apart; each starts where a fragment starts. Fewer
    fragments than a run are matched too, without a group, so that the search goes on after them."""
    first = _AT_START.match(text)
    pos = first.end() if first else 0
    for m in chain([first] if first else [], _AFTER_END.finditer(text, pos)):
        if m.lastindex:
            yield m.span(1)

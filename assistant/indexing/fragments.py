"""Runs of fragments that hold no words: text the sentence splitter keeps in bounded units.

A fragment is the text up to a stop before a space or a line break ("x. ", "3) 4! ", the `.”` of a quote
counts with its stop) or up to the end of a line, the places where the splitter may end a sentence.
A fragment without a word of two or more letters ("x.", "7.", "R.", "—", a line "2019") is no prose on
its own, and `DEGENERATE_RUN` or more of them in a row are no prose at all: "x. x. x. …" or a column of
numbers. Split as usual, such a run yields a sentence every two or three characters (333,333 in 1 MB),
each with its own record, chunk and embedding. The splitter instead keeps each run in units of up to
`MAX_PIECE` characters, and pysbd never reads it. Ordinary text never has such a run: initials come in
twos and threes ("J. R. R. Tolkien"), and the sample and evaluation articles have none (their splits are
recorded in tests/data/sentence_splits.json). A fragment with a word ends a run, and a text without a
run is split exactly as before.

The search is one regular expression over the text, linear in its length: a run starts only where a
fragment starts (the text's start, after a stop before a space, after a line break), every part of a
fragment is possessive (no backtracking into it), and a shorter run is rescanned from each of its at most
`DEGENERATE_RUN - 1` starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

DEGENERATE_RUN = 8  # fragments without a word in a row that make a run

_LETTER = r"[^\W\d_]"
_STOP = r"[.!?…]++[\"'”’)\]]*+"  # a stop with the closing quotes and brackets after it, as the splitter reads it
_FRAGMENT = (
    r"\s*+(?=\S)"  # blank space and blank lines before it
    rf"(?:{_LETTER}(?!{_LETTER})|{_STOP}(?=\S)|[^\w.!?…\n]|[\d_])*+"  # no two letters in a row
    rf"(?:{_STOP}(?:[^\S\n]++|\n|\Z)|\n|\Z)"  # a stop before a space or line break, or the end of a line
)
_RUN = rf"(?:{_FRAGMENT}){{{DEGENERATE_RUN},}}"
_RUN_AT_START = re.compile(_RUN)
# the end of the fragment before it, then the run; one character class first, which the regex engine
# scans for quickly, then what follows a stop
_RUN_AFTER_END = re.compile(rf"[.!?…\n](?:(?<=\n)|[\"'”’)\]]*\s)({_RUN})")


def degenerate_runs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every run in `text`, in order and apart; each starts where a fragment starts."""
    pos = 0
    first = _RUN_AT_START.match(text)
    if first:
        yield 0, first.end()
        pos = first.end()
    for m in _RUN_AFTER_END.finditer(text, pos):
        yield m.start(1), m.end(1)

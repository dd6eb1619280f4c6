"""A model's answer as text: its refusal token, its citation markers, its sentences.

`verify.py` checks what the sentences claim; this reads them: "[1, 2]" and "[2-4]" become "[1][2]"
and "[2][3][4]", and a run of markers that opens a sentence ("... up. [1] Then ...") belongs to the
sentence before it. While an answer streams, `complete_part` gives its finished sentences and
`continue_with` the rest of the final text after what was shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

NOT_IN_ARTICLES = "NOT_IN_ARTICLES"
REFUSAL = re.compile(r"\bNOT[ _]IN[ _](?:THE[ _])?ARTICLES\b|\bnot_in_articles\b")
MAX_RANGE = 20

_MARKER_LIST = re.compile(r"\[\s*(\d{1,4}(?:\s*(?:,|;|-|–|and)\s*\d{1,4})*)\s*\]")
_LEADING = re.compile(r"^\s*((?:\[\d{1,4}\]\s*)+)")


def is_refusal(text: str) -> bool:
    return bool(REFUSAL.search(text))


def normalise_markers(text: str) -> str:
    """ "[1, 2]" -> "[1][2]", "[2-4]" -> "[2][3][4]", "[ 3 ]" -> "[3]"."""

    def expand(match: re.Match) -> str:
        numbers: list[int] = []
        for part in re.split(r"\s*(?:,|;|and)\s*", match.group(1)):
            ends = [int(x) for x in re.split(r"\s*[-–]\s*", part) if x]
            if len(ends) == 2 and 0 < ends[1] - ends[0] <= MAX_RANGE:
                numbers += range(ends[0], ends[1] + 1)
            else:
                numbers += ends
        return "".join(f"[{n}]" for n in numbers)

    return _MARKER_LIST.sub(expand, text)


def split_answer(text: str) -> list[list[str]]:
    """Lines of answer sentences; a run of markers opening a sentence joins the sentence before."""
    lines: list[list[str]] = []
    for line in text.split("\n"):
        units: list[str] = []
        for piece in _segmenter().segment(line) if line.strip() else []:
            piece = piece.strip()
            lead = _LEADING.match(piece)
            if lead and units:
                units[-1] = f"{units[-1]}{lead.group(1).strip()}"
                piece = piece[lead.end() :].strip()
            if piece:
                units.append(piece)
        lines.append(units)
    return lines


def complete_part(raw: str) -> str:
    """The part of the model's text whose sentences are complete (all but the last, still growing)."""
    lines = raw.split("\n")
    done = "\n".join(lines[:-1])
    units = split_answer(lines[-1])[0] if lines[-1].strip() else []
    if len(units) > 1:
        last_start = lines[-1].rfind(units[-1])
        done = (done + "\n" if done else "") + lines[-1][:last_start].rstrip()
    return done.strip()


def continue_with(emitted: str, final: str) -> Iterator[str]:
    """The rest of the final text, when what was shown is its beginning; else the final text whole."""
    if final.startswith(emitted):
        if len(final) > len(emitted):
            yield final[len(emitted) :]
    else:  # the checks changed what was shown (e.g. a refusal after all): the final text follows it
        yield f"\n\n{final}"


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)

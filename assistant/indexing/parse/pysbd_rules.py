"""pysbd's rules for a full stop, read without running pysbd: the abbreviations it knows, the
initials it never ends a sentence after, and `simple_spans`, the rule that splits text past pysbd's
budget (sentences.py) as pysbd's main rules would: abbreviations end a sentence before a capital
("Pa. The") but not before a lower-case word, a digit or "(" ("Pa. the", "c. 1580"); "Gen. Smith",
"No. 5" and single initials never; "U.S." and "U.K." only before a sentence starter; "a.m."/"p.m."
before a capital; "!" not before a lower-case word; nothing inside brackets or quotes. On HotpotQA's
991 paragraphs it splits 975 as pysbd does.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A stop before a space, with the word before it (as far as 30 letters, digits and dots back): the
# shortest prefix that reaches the first such stop, so group 1 is exactly the trailing word; group 2 is
# the stop with the quotes and brackets that close it.
_SIMPLE_END_WORD = re.compile(r"([\w.]{0,30}?)([.!?…]+[\"'”’)\]]*)\s+")
_NEXT_WORD = re.compile(r"\w+")
# pysbd ends no sentence within these (as far as it reads: 1,000 characters); an opening mark ends the search,
# so a text of many unclosed marks is read once
_ENCLOSED = re.compile(r"\([^()]{0,1000}\)|\[[^[\]]{0,1000}\]|\"[^\"]{0,1000}\"|“[^“”]{0,1000}”|«[^«»]{0,1000}»")
_BOUNDARY_INITIALISMS = frozenset(("u.s", "u.k", "e.u", "u.s.a", "i.v"))  # pysbd ends a sentence after these ...


@lru_cache(maxsize=1)
def abbreviations() -> frozenset[str]:
    from pysbd.lang.english import English

    return frozenset(a.lower() for a in English.Abbreviation.ABBREVIATIONS)


@lru_cache(maxsize=1)
def _nonends() -> frozenset[str]:
    """Words after which a full stop may end no sentence (see `_ends_here`)."""
    return abbreviations() | prepositive()


@lru_cache(maxsize=1)
def _starters() -> frozenset[str]:
    """... when one of these words follows: "in the U.S. The town"."""
    from pysbd.lang.english import English

    return frozenset(English.AbbreviationReplacer.SENTENCE_STARTERS)


@lru_cache(maxsize=1)
def prepositive() -> frozenset[str]:
    """Abbreviations that stand before a name or number ("Dr. Smith", "No. 5"): never a sentence end."""
    from pysbd.lang.english import English

    a = English.Abbreviation
    return frozenset(x.lower() for x in (*a.PREPOSITIVE_ABBREVIATIONS, *a.NUMBER_ABBREVIATIONS))


def is_initial(body: str, stop: int) -> bool:
    """True when the full stop at `stop` follows one capital letter that follows a space (or starts the
    piece) and comes before a space: pysbd's single-letter rule never ends a sentence there."""
    letter = body[stop - 1 : stop]
    return (
        "A" <= letter <= "Z"
        and letter != "I"  # "World War I. He": pysbd ends a sentence after the roman numeral
        and (stop == 1 or body[stop - 2].isspace())
        and body[stop + 1 : stop + 2].isspace()
    )


def simple_spans(window: str) -> list[tuple[int, int]]:
    """Sentences ended by a stop before a space where pysbd's main rules would end one (see `_ends_here`): for
    text past pysbd's budget (huge files dense with stops)."""
    spans, cursor = [], 0
    nonends = _nonends()
    enclosed = _ENCLOSED.finditer(window)
    inside = next(enclosed, None)
    for m in _SIMPLE_END_WORD.finditer(window):
        stop, after = m.start(2), m.end()
        while inside is not None and inside.end() - 1 <= stop:
            inside = next(enclosed, None)
        if inside is not None and inside.start() < stop:
            continue  # within brackets or quotes: "(c. 1580)", "(Public Law 91-572, 84 Stat. 1504)"
        word = m.group(1).rstrip(".")
        initial = len(word) == 1 and "A" <= word <= "Z"
        plain = window[stop] == "." and "." not in word and word.lower() not in nonends and not initial
        if not plain and not _ends_here(window, stop, word, after):  # the common end decided without a call
            continue
        spans.append((cursor, m.end(2)))  # never blank: it holds the stop
        cursor = after
    if window[cursor:].strip():
        spans.append((cursor, len(window)))
    return spans


def _ends_here(window: str, stop: int, word: str, after: int) -> bool:
    """Whether the stop at `stop`, after `word` and before the text at `after`, ends a sentence, as pysbd's
    rules for abbreviations, initials, "a.m." and "!" decide: "Pa. The" ends one, "Pa. the", "Gen. Smith",
    "C. Robert", "No. 5" and "wow! and" do not; "U.S. The" does, "U.S. Embassy" does not."""
    following = window[after : after + 1]
    mark = window[stop]
    if mark == "!":
        return not following.islower()
    if mark != ".":
        return True
    low = word.lower()
    if "." in low:
        if low in ("a.m", "p.m"):
            return following.isupper()
        starter = _NEXT_WORD.match(window, after)
        return low in _BOUNDARY_INITIALISMS and starter is not None and starter.group() in _starters()
    if is_initial(window, stop):
        return False
    if following.isalnum() and low in prepositive():
        return False
    return not ((following.islower() or following.isdigit() or following == "(") and low in abbreviations())

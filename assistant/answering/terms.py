"""Word terms for lexical matching: lower case, stop words out, English lemmas then stems.

A word is first lemmatised (simplemma's English dictionary, shipped inside the package: no download),
then stemmed: "fell" and "fall" both become "fall", "wolves" and "wolf" "wolf", "went" and "go" "go",
which stems alone keep apart. Numbers and dotted words ("U.S.", "13.5") are never lemmatised, and a name
(`key_terms`, `name_forms`) is only stemmed: "United States" is not the common words "unit" and "state".
An abbreviation is one word however it is spaced: "U. S." is "U.S.", and both are "US".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Protocol

_WORD = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are aren as at be because been before being
below between both but by can could did didn do does doesn doing don down during each few for from
further had has have having he her here hers herself him himself his how i if in into is isn it its
itself just let me more most my myself no nor not now of off on once only or other our ours ourselves
out over own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was wasn we were weren what when where which while
who whom whose why will with would you your yours yourself yourselves s t ll re ve d m
""".split()
)


class _Stemmer(Protocol):
    """What we use of PyStemmer's `Stemmer.Stemmer` (the package has no type hints)."""

    def stemWord(self, word: str) -> str: ...


@lru_cache(maxsize=1)
def _stemmer() -> _Stemmer:
    import Stemmer

    stemmer: _Stemmer = Stemmer.Stemmer("english")
    return stemmer


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=200_000)
def _lemma_stem(word: str) -> str:
    """The stem of the word's lemma (an alphabetic word; simplemma spells "1990s" out, so digits never come here)."""
    import simplemma

    lemma = simplemma.lemmatize(word, lang="en").lower()
    return _stem(lemma if lemma.isalpha() else word)


_SPACED_ABBREVIATION = re.compile(r"(?<![\w.])[A-Z]\.(?:\s?[A-Z]\.)+")


def collapse_abbreviations(text: str) -> str:
    """ "U. S. officials" -> "U.S. officials": an abbreviation written with spaces is the same abbreviation."""
    return _SPACED_ABBREVIATION.sub(lambda m: "".join(m.group(0).split()), text)


def terms(text: str, lemmas: bool = True) -> list[str]:
    """Content terms of a text, stemmed, in order (repeats kept); `lemmas=False`: stemmed only (names)."""
    out = []
    for match in _WORD.finditer(collapse_abbreviations(text)):
        original = match.group(0)
        word = original.lower().replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        dotted = "." in word
        acronym = len(original) > 1 and original.isupper()  # "US" is "U.S.", not the pronoun: no lemma
        if not word.replace(".", "").isdigit():
            word = word.replace(".", "")  # U.S. -> us (kept: a dotted word is no stop word); 13.5 stays
        if not word or (word in STOPWORDS and not dotted):
            continue
        word = plain(word)
        lemma = lemmas and word.isalpha() and not (dotted or acronym)
        out.append(_lemma_stem(word) if lemma else _stem(word))
    return out


@lru_cache(maxsize=200_000)
def plain(word: str) -> str:
    """The word without accents: "Hervé" and "Herve", "Jumièges" and "Jumieges" are one name."""
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


_DEMONYM = ("n", "an", "ian", "ese")


@lru_cache(maxsize=100_000)
def related_forms(term: str) -> frozenset[str]:
    """Stems of the same place or people in another form: venezuela ~ venezuelan, ecuador ~ ecuadorian,
    mexico ~ mexican, china ~ chines. Snowball leaves these apart; a question naming the country must
    still find the sentence that names its people (and the other way round)."""
    if len(term) < 4 or not term.isalpha():
        return frozenset()
    out = {term + s for s in _DEMONYM} | {term[:-1] + s for s in _DEMONYM if term[-1] in "aoe"}
    for s in _DEMONYM:
        if term.endswith(s) and len(term) - len(s) >= 4:
            base = term[: -len(s)]
            out |= {base, base + "a", base + "o"}
    out.discard(term)
    return frozenset(out)


# Markup pasted into a text (an HTML tag, a script with its code) states no name or number of its own.
_MARKUP = re.compile(
    r"<(script|style)\b[^<>]*>.*?</\1\s*>|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>", re.IGNORECASE | re.DOTALL
)
_NAME = re.compile(r"(?<![\w.])([A-Z][\w'’.-]*|\d[\d,.%]*[^\W\d_]*)")  # "1990s" whole, as `terms` reads it
_CAPITALISED = re.compile(r"(?<![\w.])[A-Z][\w'’.-]*")
_ABBREVIATION_END = re.compile(r"(?<![\w.])(?:[A-Z]\.)+$")  # "the U.S. Navy": no sentence ends at "U.S."
_OPENS = (".", "!", "?", ":", "\n", '"', "“", "'", "‘", "(")


# a capitalised title names no one by itself ("the King of the Canary Islands" is said of whoever was king)
TITLES = frozenset(
    terms(
        "king queen prince princess duke duchess earl count countess baron lord lady sir dame emperor empress "
        "pope bishop archbishop cardinal saint st president vice prime minister secretary general governor mayor "
        "senator judge chief captain colonel sheriff mr mrs ms dr professor"
    )
)


def key_terms(text: str) -> set[str]:
    """The numbers and names a text states (names stemmed, not lemmatised), which its evidence must contain. A
    capital that only opens a sentence is no name, nor is a title ("King", "President"), nor a single letter
    (the "U" of a badly spaced "U. S."), nor does an HTML tag or script pasted into the text name anything."""
    found: set[str] = set()
    text = _MARKUP.sub(" ", collapse_abbreviations(text))
    for match in _NAME.finditer(text):
        word = match.group(1)
        before = text[: match.start()].rstrip()
        opens = not before or (before.endswith(_OPENS) and not _ABBREVIATION_END.search(before))
        if opens and not any(ch.isdigit() for ch in word):
            continue
        found.update(t for t in terms(word, lemmas=False) if t not in TITLES and (len(t) > 1 or t.isdigit()))
    return found


def name_forms(text: str) -> set[str]:
    """Its capitalised words as `key_terms` reads a name (stemmed, not lemmatised), wherever they stand: what a
    sentence offers the names of a question or an answer besides its `terms`."""
    text = collapse_abbreviations(text)
    return {t for match in _CAPITALISED.finditer(text) for t in terms(match.group(0), lemmas=False)}

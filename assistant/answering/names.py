"""Names as names: the other written forms under which a text's names stand in another text.

The decision step asks whether the names of a question or an answer stand in the cited sentences. A name
written one way there and another way here is the same name:

- a country under its name, official or common name, ISO codes, demonym or usual alternative spellings
  ("United States" = "U.S." = "USA" = "American", "United Kingdom" = "UK" = "Great Britain" = "British"),
  and a country's capital stands for its government both ways: a sentence that names the capital names the
  country ("Washington said ..."), and one that names the country holds the capital a question gives ("What did
  Washington accuse Venezuelan aircraft of?" on "The U.S. has accused Venezuelan military aircraft ..."). The data
  is `countryinfo`'s (its country records, shipped inside the package: no download);
- an organisation under the initials of its name ("United Nations" = "UN", "European Union" = "EU");
- a person or place named once in full ("Daniel Noboa") and later by a part of it ("Noboa"): in a
  sentence of the same article the part stands for the full name;
- a currency under its ISO code, its symbol and its name ("USD" = "$" = "dollars", "EUR" = "€" = "euros"),
  from `babel`'s copy of the Unicode CLDR (a sign several currencies write, "$" or "¥", stands for each).

Everything is returned as terms (`terms.terms`), so the callers' term sets simply grow; nothing here
decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from assistant.answering.terms import (
    STOPWORDS,
    TITLES,
    collapse_abbreviations,
    name_forms,
    plain,
    related_forms,
    terms,
)

# a run of capitalised words, dotted abbreviations ("U.S.") among them, joined by a few lower-case links
_WORD = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][\w'’-]*)"
_LINKS = r"(?:of|de|the|del|da|di|du|von|van|der|la|le)"
_RUN = re.compile(rf"(?<![\w.]){_WORD}(?:\s+(?:{_LINKS}\s+)*{_WORD})*")
_LINK_WORDS = frozenset(_LINKS.strip("(?:)").split("|"))
_POSSESSIVE = re.compile(r"['’]s?$")
_LONGEST = 6  # the longest country name looked up, in words ("United Kingdom of Great Britain and Northern ...")


@lru_cache(maxsize=50_000)
def runs(text: str) -> tuple[tuple[str, ...], ...]:
    """The runs of capitalised words in a text, each as its words ("Secretary of State Marco Rubio" is one run:
    ("Secretary", "of", "State", "Marco", "Rubio")), possessives dropped, dotted abbreviations closed up."""
    out = []
    for match in _RUN.finditer(collapse_abbreviations(text)):
        words = tuple(_POSSESSIVE.sub("", w) for w in match.group(0).split())
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in _LINK_WORDS):  # "Which Venezuelan"
            words = words[1:]
        while words and (words[-1].lower() in STOPWORDS or words[-1].lower() in _LINK_WORDS):
            words = words[:-1]
        if words:
            out.append(words)
    return tuple(out)


def _key(words: Iterable[str]) -> str:
    """A name as the country table is keyed: accents, dots, a leading "the" and case left out."""
    out = [plain(w.lower()).replace(".", "") for w in words]
    if out and out[0] == "the":
        out = out[1:]
    return " ".join(w for w in out if w)


def initials(words: Sequence[str]) -> str | None:
    """The acronym a name of two or more words is known by ("European Union" -> "eu"), links left out."""
    heads = [w for w in words if w.lower() not in _LINK_WORDS]
    if len(heads) < 2 or not all(w[:1].isupper() and w.isalpha() for w in heads):
        return None
    return "".join(w[0] for w in heads).lower()


@lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, set[int]], dict[str, set[int]], list[frozenset[str]], list[int]]:
    """(name key -> countries, capital key -> countries, each country's terms under all its names, population)."""
    import countryinfo

    names: dict[str, set[int]] = {}
    capitals: dict[str, set[int]] = {}
    forms: list[frozenset[str]] = []
    population: list[int] = []
    for n, country in enumerate(countryinfo.all_countries()):
        info = country.info()
        iso = info.get("ISO") or {}
        written = [info.get("name") or "", info.get("nativeName") or "", info.get("demonym") or ""]
        written += list(info.get("altSpellings") or [])
        written += [str(iso.get("alpha2") or ""), str(iso.get("alpha3") or "")]
        written = [w for w in written if w and any(ch.isalpha() for ch in w)]
        for w in written:
            key = _key(w.split())
            # a two-letter code that is also an English word ("IN", "IT", "NO") names no country in running text
            if key and not (len(key) <= 3 and key in STOPWORDS):
                names.setdefault(key, set()).add(n)
        capital = str(info.get("capital") or "")
        if capital:
            # "Washington D.C." also as "Washington": a capital's closing abbreviation is often left out
            words = capital.split()
            for end in range(len(words), 0, -1):
                capitals.setdefault(_key(words[:end]), set()).add(n)
                if "." not in words[end - 1] or end == 1:
                    break
        forms.append(frozenset(t for w in [*written, capital] for t in terms(w)))
        population.append(int(info.get("population") or 0))
    return names, capitals, forms, population


def _countries_named(words: Sequence[str]) -> set[int]:
    """The country a name names; when several answer to it ("American": the United States, American Samoa, the
    Northern Mariana Islands), the most populous, as a reader takes it."""
    names, capitals, _, population = _countries()
    key = _key(words)
    found = set(names.get(key, set())) | capitals.get(key, set())
    if not found and len(words) == 1:  # "America" for the people called "American"
        for form in related_forms(key):
            found |= names.get(form, set())
    return {max(found, key=lambda n: population[n])} if found else set()


@lru_cache(maxsize=50_000)
def aliases(text: str) -> frozenset[str]:
    """Terms of the other names under which the text's names are known: each country it names (or whose capital
    it names) under all its names, and the initials of each name of two or more words."""
    forms = _countries()[2]
    found: set[int] = set()
    out: set[str] = set()
    for words in runs(text):
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + _LONGEST) + 1):
                found |= _countries_named(words[start:end])
        acronym = initials(words)
        if acronym:
            out.add(acronym)
    for n in found:
        out |= forms[n]
    return frozenset(out)


def acronyms_held(text: str, available: set[str]) -> set[str]:
    """Terms of the text's names of two or more words whose initials stand in `available` ("United Nations" when
    the evidence says "UN")."""
    out: set[str] = set()
    for words in runs(text):
        acronym = initials(words)
        if acronym and acronym in available:
            out |= set(terms(" ".join(words))) | name_forms(" ".join(words))
    return out


def full_names(part_of: str, others: Iterable[str]) -> set[str]:
    """Terms of the full names in `others` (sentences of the same article) whose last word `part_of` gives alone:
    "Noboa said ..." in one sentence, "President Daniel Noboa" in another, gives "daniel" (and "noboa"). A full
    name here is two or three plain words ("Daniel Noboa"), no country or people among them ("Norman French"), no
    link ("Richard of Normandy") nor numeral ("Richard II"): those share their last word with other names."""
    parts = {name[0] for name in map(_person, runs(part_of)) if len(name) == 1 and len(name[0]) >= 3}
    if not parts:
        return set()
    out: set[str] = set()
    for other in others:
        for words in runs(other):
            name = _person(words)
            if 2 <= len(name) <= 3 and len(name) == len(_heads(words)) - _titles(words) and name[-1] in parts:
                out |= set(terms(" ".join(name))) | name_forms(" ".join(name))
    return out


def _person(words: tuple[str, ...]) -> tuple[str, ...]:
    """The person's name a run ends with: its last words that are plain names, not titles ("Ecuadorian President
    Daniel Noboa" -> "Daniel Noboa"); empty when the run ends otherwise ("Richard II", "Norman French")."""
    n = len(words)
    while n and _personal(words[n - 1]):
        n -= 1
    return words[n:]


def _heads(words: tuple[str, ...]) -> list[str]:
    return [w for w in words if w.lower() not in _LINK_WORDS]


def _titles(words: tuple[str, ...]) -> int:
    """How many words open the run before the name: titles and peoples ("Ecuadorian President")."""
    n = 0
    for w in words:
        if _personal(w):
            break
        if w.lower() in _LINK_WORDS:  # "Secretary of State"
            continue
        if not (_title(w) or _countries_named((w,))):
            return -99  # something else opens it: a link, a numeral, another name's part
        n += 1
    return n


def _title(word: str) -> bool:
    found = terms(word, lemmas=False)
    return bool(found) and set(found) <= TITLES


def _personal(word: str) -> bool:
    """A word a person's name is made of: a capitalised plain word, no title, country, people or numeral."""
    return (
        word[:1].isupper()
        and word.isalpha()
        and not word.isupper()
        and not _title(word)
        and not _countries_named((word,))
    )


@lru_cache(maxsize=1)
def _currencies() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(sign -> the codes of the currencies written with it, name term -> codes), for the currencies in use today
    (legal tender somewhere, no end date), from babel's English CLDR data: "$" -> usd, aud, cad, ... ("A$" and
    "CA$" end with it); "€" -> eur; "dollar" -> usd, aud, ...; "euro" -> eur; "yen" -> jpy."""
    import unicodedata

    from babel import Locale
    from babel.core import get_global

    in_use = {
        code.lower()
        for spans in get_global("territory_currencies").values()
        for code, _start, end, tender in spans
        if end is None and tender
    }
    english = Locale("en")
    signs: dict[str, set[str]] = {}
    words: dict[str, set[str]] = {}
    for code, symbol in english.currency_symbols.items():
        for sign in {c for c in symbol if unicodedata.category(c) == "Sc"}:
            if code.lower() in in_use:
                signs.setdefault(sign, set()).add(code.lower())
    for code, name in english.currencies.items():
        found = terms(name.split()[-1]) if name else []
        if found and found[-1].isalpha() and code.lower() in in_use:
            words.setdefault(found[-1], set()).add(code.lower())
    return {k: frozenset(v) for k, v in signs.items()}, {k: frozenset(v) for k, v in words.items()}


def currency_codes(text: str) -> set[str]:
    """The ISO codes of the currencies a text writes by sign or by name ("$147 million" -> usd, aud, ...)."""
    signs, words = _currencies()
    out: set[str] = set()
    for sign, codes in signs.items():
        if sign in text:
            out |= codes
    for term in terms(text):
        out |= words.get(term, frozenset())
    return out


def evidence(text: str, same_article: Iterable[str] = ()) -> set[str]:
    """The terms a sentence holds, its names under every form they are known by included: its own terms, its
    names unlemmatised, the other names of the countries and organisations it names, the codes of the currencies
    it writes by sign or name, and the full names (in the other sentences of its article) of the names it gives
    in part."""
    return set(terms(text)) | name_forms(text) | aliases(text) | currency_codes(text) | full_names(text, same_article)


def whole_names(text: str, missing: Iterable[str]) -> list[str]:
    """The names of `text` (as written) that the `missing` terms come from, a number as itself: the report says
    "United States" rather than "unit, state"."""
    left = list(dict.fromkeys(missing))
    out: list[str] = []
    for words in runs(text):
        name = " ".join(words)
        own = set(terms(name)) | name_forms(name)
        hit = [t for t in left if t in own]
        if hit:
            out.append(name)
            left = [t for t in left if t not in hit]
    return out + left

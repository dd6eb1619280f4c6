"""What a claim and a sentence have in common: content terms, the names and numbers a claim states,
quotes, and instructions planted in an article. Pure functions over text; `attribute.py` uses them to
find the sentences that hold an answer, `decide.py` to judge them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answering.reading.text import INSTRUCTION, quotes_in
from assistant.answering.terms import key_terms, related_forms, terms

_QUOTE_CHARS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


_SUPERLATIVE = re.compile(r"\b(?:most|least|first|last|only|best|worst|sole|[a-z]{2,}est)\b", re.I)
_NOT_SUPERLATIVE = frozenset(
    """interest west test request forest protest arrest guest rest nest suggest honest modest earnest harvest
    manifest invest contest digest chest quest pest vest crest midwest southwest northwest priest conquest inquest
    tempest behest congest infest detest attest unrest lest zest jest fest everest budapest bucharest divest molest
    wrest ingest pretest retest bequest""".split()
)


ANSWER_WORDS = frozenset({"yes", "no", "not", "never", "none", "nobody", "nothing", "true", "false"})
SHORT_ANSWER_WORDS = 5


def claim_terms(text: str) -> set[str]:
    """What a claim states that its evidence must hold word for word: its names and numbers (`key_terms`) and
    its superlatives ("the world's largest producer" is not "70% ... passes through"). In a short answer
    ("France", "Tren de Aragua") the opening capital is a name too."""
    found = key_terms(text)
    words = text.split()
    if words and len(words) <= SHORT_ANSWER_WORDS and words[0][:1].isupper() and not words[0].lower().endswith("ly"):
        first = terms(words[0])
        if first and first[0] not in ANSWER_WORDS:
            found.update(first)
    for match in _SUPERLATIVE.finditer(text):
        if match.group(0).lower() not in _NOT_SUPERLATIVE:
            found.update(terms(match.group(0)))
    return found


def matches(term: str, available: set[str], loose: bool = True) -> bool:
    """`term` is among `available`, allowing a demonym form ("ecuador"/"ecuadorian") and, when `loose`, one
    being a long prefix of the other ("norman"/"normandi": evidence may name the place for its people; but
    "Normandy" is still something a question about the Normans did not say, so new terms are found strictly), or
    one letter apart (a name misspelt in a question: "Pitno" for "Pitino")."""
    if term in available or not related_forms(term).isdisjoint(available):
        return True
    if not loose or len(term) < 5:
        return False
    return any(len(a) >= 5 and (a.startswith(term) or term.startswith(a) or _one_edit(term, a)) for a in available)


def _one_edit(a: str, b: str) -> bool:
    """One letter added, dropped or changed."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def share(needed: Iterable[str], available: set[str]) -> float:
    """The share of `needed` terms found in `available` (1.0 when nothing is needed)."""
    needed = list(dict.fromkeys(needed))
    if not needed:
        return 1.0
    return sum(matches(t, available) for t in needed) / len(needed)


def missing(needed: Iterable[str], available: set[str]) -> list[str]:
    return [t for t in dict.fromkeys(needed) if not matches(t, available)]


def quoted_verbatim(claim: str, source: str) -> bool:
    """Every quote in the claim stands word for word in the source."""
    src = norm(source)
    return all(norm(q) in src for q in quotes_in(claim) if norm(q))


def echoes_instruction(claim: str, source: str) -> bool:
    """The claim only repeats words that the source tells the reader to say."""
    if not INSTRUCTION.search(source):
        return False
    quoted = " ".join(quotes_in(source))
    tail = source.split(":", 1)[1] if ":" in source else ""
    claim_terms = set(terms(claim))
    told = set(terms(quoted)) | set(terms(tail))
    return bool(claim_terms) and bool(told) and claim_terms <= told


_TIED = re.compile(
    r"^\W*(?:(?i:he|she|they|it|his|her|their|its|this|that|these|those|there|then|but|and|so|yet|however|also|"
    r"both|such|thus|instead|meanwhile|later|afterwards)\b|The\s+[a-z])"
)


def tied_to_previous(sentence: str) -> bool:
    """The sentence leans on the one before it: it opens with a pronoun, a connective ("But a storm dispersed
    the fleet.") or "the <noun>" ("The city's garrison resisted ..."), not with a name."""
    return bool(_TIED.match(sentence))


def norm(text: str) -> str:
    text = " ".join(text.translate(_QUOTE_CHARS).lower().split())
    return text.strip(" .,;:!?'\"")

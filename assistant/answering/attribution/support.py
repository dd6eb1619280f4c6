"""What a claim and a sentence have in common: content terms, the names and numbers a claim states,
quotes, and instructions planted in an article. Pure functions over text; `attribute.py` uses them to
find the sentences that hold an answer, `decide.py` to judge them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.answering.reading.text import INSTRUCTION, quotes_in
from assistant.answering.terms import STOPWORDS, collapse_abbreviations, key_terms, related_forms, terms
from assistant.answering.thresholds import DEFAULT

_QUOTE_CHARS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


_SUPERLATIVE = re.compile(r"\b(?:most|least|first|last|only|best|worst|sole|[a-z]{2,}est)\b", re.I)
_NOT_SUPERLATIVE = frozenset(
    """interest west test request forest protest arrest guest rest nest suggest honest modest earnest harvest
    manifest invest contest digest chest quest pest vest crest midwest southwest northwest priest conquest inquest
    tempest behest congest infest detest attest unrest lest zest jest fest everest budapest bucharest divest molest
    wrest ingest pretest retest bequest""".split()
)


ANSWER_WORDS = frozenset({"yes", "no", "not", "never", "none", "nobody", "nothing", "true", "false"})


def claim_terms(text: str, short_words: int = DEFAULT.short_answer_words) -> set[str]:
    """What a claim states that its evidence must hold word for word: its names and numbers (`key_terms`) and
    its superlatives ("the world's largest producer" is not "70% ... passes through"). In a short answer
    ("France", "Tren de Aragua": at most `short_words` words) the opening capital is a name too."""
    found = key_terms(text)
    words = collapse_abbreviations(text).split()
    if words and len(words) <= short_words and words[0][:1].isupper() and not words[0].lower().endswith("ly"):
        first = terms(words[0])
        if first and first[0] not in ANSWER_WORDS and (len(first[0]) > 1 or first[0].isdigit()):  # never "u"
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


# ---- numbers: which amount of a sentence the question asks for, and what a count question counts
_CARDINALS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
    billion trillion dozen""".split()
)
_TOKEN = re.compile(r"[^\s,;:()]+(?:,\d{3})*")
_ASKING = re.compile(r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:number|amount|sum|percentage|share)\s+of\b", re.I)
_COUNT = re.compile(r"\bhow\s+many\b([\w\s'-]*)", re.I)
# "What is the population of Ecuador?" counts people as "how many people live in Ecuador?" does
_POPULATION = re.compile(r"\bwhat\s+(?:is|was|are|were)\s+the\s+(population)\b", re.I)
# an amount of money or a share: "$6 million", "70%", "6 million dollars", "12 percent"
_SCALE = r"(?:\s+(?:million|billion|thousand|trillion|bn|m)\b)?"
_MONEY_OR_SHARE = re.compile(
    rf"(?:US)?[$€£¥]\s*\d[\d.,]*{_SCALE}|\d[\d.,]*\s*%|\d[\d.,]*{_SCALE}\s+"
    r"(?:dollars?|euros?|pounds?|yen|yuan|rupees?|pesos?|francs?|percent|per\s+cent|percentage\s+points?)\b",
    re.I,
)


@dataclass(frozen=True)
class Amount:
    """An amount as a sentence writes it ("$4 million"), its words' span, and its value ("4 million")."""

    text: str
    start: int  # first word
    end: int  # past the last word
    value: str


def _numeric(word: str) -> bool:
    w = word.strip(".!?\"'’“”").lower()
    return any(ch.isdigit() for ch in w) or w in _CARDINALS


def amounts(text: str) -> list[Amount]:
    """The amounts a text states, in order: a run of number words and digits is one ("$4 million", "1,200")."""
    words = [m.group(0) for m in _TOKEN.finditer(text)]
    out: list[Amount] = []
    i = 0
    while i < len(words):
        if not _numeric(words[i]):
            i += 1
            continue
        j = i
        while j < len(words) and _numeric(words[j]):
            j += 1
        span = " ".join(words[i:j]).strip(".!?\"'’“”")
        value = " ".join(w.lower().replace(",", "").strip("$€£.!?\"'’“”%") for w in words[i:j])
        out.append(Amount(span, i, j, value))
        i = j
    return out


def governed_amount(question: str, sentence: str, margin: int) -> tuple[Amount, dict[str, int]] | None:
    """The amount of `sentence` that the question's own terms govern, when the sentence states several: each
    amount reaches back to the sentence's start and forward to the next amount (a part, "including $4 million
    for drones", inherits what the total before it was said of), and the one whose reach holds the most of the
    question's content terms, by `margin` more than another, is it; between equals, the nearest to them. The
    question's own numbers are terms, not candidates. None when the sentence has one amount or none wins."""
    asked_numbers = {a.value for a in amounts(question)}
    found = [a for a in amounts(sentence) if a.value not in asked_numbers]
    if len({a.value for a in found}) < 2:
        return None
    wanted = set(terms(_ASKING.sub(" ", question)))
    words = [m.group(0) for m in _TOKEN.finditer(sentence)]
    places = [(k, t) for k, w in enumerate(words) for t in terms(w) if matches(t, wanted, loose=False)]
    scores: dict[str, int] = {}
    ranked = []
    for n, a in enumerate(found):
        reach = found[n + 1].start if n + 1 < len(found) else len(words)
        held = {t for k, t in places if k < reach}
        distance = sum(min(abs(k - a.start) for k, u in places if u == t) for t in held)
        scores[a.value] = max(scores.get(a.value, 0), len(held))
        ranked.append((len(held), -distance, a))
    ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
    best = ranked[0]
    if best[0] < min(scores.values()) + margin:
        return None
    return best[2], scores


def counted(question: str) -> str:
    """What a "how many X" question counts: the last word of X ("How many French soldiers died?" -> "soldiers"),
    "" when it names none ("How many were killed?"); "What is the population of X?" counts "population"."""
    if population := _POPULATION.search(question):
        return population.group(1).lower()
    match = _COUNT.search(question)
    if not match:
        return ""
    words = []
    for w in match.group(1).split()[:4]:
        if w.lower() in STOPWORDS:
            break
        words.append(w)
    # the counted thing is the first plural after its adjectives ("French soldiers died" -> "soldiers"), not the
    # verb that follows it ("died"); without a plural, the first word ("How many Ecuador gang ...")
    plural = next((w for w in words if _plural(w)), None)
    return plural or (words[0] if words else "")


_IRREGULAR_PLURALS = frozenset("people men women children police feet teeth mice geese cattle staff crew".split())


def _plural(word: str) -> bool:
    w = word.lower()
    return w in _IRREGULAR_PLURALS or (len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")))


def money_or_share(answer: str) -> bool:
    """Every amount the answer states is one of money or a share ("$6 million", "70%"), which no count of things
    is; False when it states none, or a count beside them ("30 soldiers and $5 million")."""
    if not _MONEY_OR_SHARE.search(answer):
        return False
    return not amounts(_MONEY_OR_SHARE.sub(" ", answer))


def counts_money_or_share(thing: str) -> bool:
    """A "how many X" question that counts money or a share ("dollars", "percent"): "$6 million" answers it."""
    return money_or_share(f"1 {thing}")


_COUNTED_WORDS = 6  # what a number counts: the words after it, up to a punctuation mark, at most this many


def counted_by(answer: str, sentence: str) -> list[str]:
    """What each of the answer's numbers counts in `sentence`, where the sentence writes that number: the words
    after it up to the next punctuation mark ("two of Ecuador's largest criminal gangs, ..." -> "of Ecuador's
    largest criminal gangs"); empty when the answer states no number the sentence has."""
    stated = {a.value for a in amounts(answer)}
    out = []
    at = 0
    for a in amounts(sentence):
        found = sentence.find(a.text, at)
        if found < 0:
            continue
        at = found + len(a.text)
        if a.value not in stated:
            continue
        rest = re.split(r"[,.;:!?()]|\s[—–-]\s", sentence[at:], maxsplit=1)[0].split()[:_COUNTED_WORDS]
        rest = rest[: next((k for k, w in enumerate(rest) if _numeric(w)), len(rest))]  # up to the next amount
        if rest:
            out.append(" ".join(rest))
    return out

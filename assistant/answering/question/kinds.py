"""What a question asks for, and whether an answer has it: a time for "when", a number for "how many",
a person or organisation for "who", a place for "where", a name for "what is the name of" / "name the".

The decision step refuses an answer that lacks what its question asks for: a small model that does not
find the date answers "When did the strike take place?" with a sentence about the strike. The checks are
on the surface of the answer (digits, month and day names, capitals, a short list of words for time,
quantity, people and places) and lenient where answers vary: "who" is satisfied by a name or by a word
for people ("the police", "his wife", "dukes"), "where" by a name or a word for a place ("at home",
"the hospital"). Measured on the public sets' gold answers (docs/evaluation.md): every SQuAD, CoQA and
HotpotQA gold answer to such a question passes its check except a few that answer another question.
"""

from __future__ import annotations

import re

from assistant.answering.terms import STOPWORDS
from assistant.records import Asks

_ASKS = [
    (
        Asks.TIME,
        re.compile(
            r"^\s*(?:(?:and|so|but)\s+)?(?:when\b|what\s+(?:(?:exact|exactly|specific|particular)\s+)?(?:year|years|date|dates|day|month|time|century|decade|era|"
            r"period|age)\b|(?:in|on|at|by|since|until)\s+(?:what|which)\s+(?:(?:exact|exactly|specific|particular)\s+)?(?:year|date|day|month|time|century|"
            r"decade|era|period)\b|how\s+long\s+ago\b)",
            re.I,
        ),
    ),
    (
        Asks.NUMBER,
        re.compile(
            r"^\s*(?:(?:and|so|but)\s+)?(?:how\s+(?:many|much|old|often|far|tall|high|big|large|long)\b|what\s+"
            r"(?:percentage|percent|proportion|share|number|amount|sum|fraction|ratio|age|size|score)\b"
            r"|what\s+(?:is|was|are|were)\s+the\s+(?:population|number|total)\b)",
            re.I,
        ),
    ),
    (
        Asks.PERSON,
        re.compile(r"^\s*(?:(?:and|so|but)\s+)?(?:who|whom)\b(?!\s+(?:is|are|was|were)\s+(?:it|this)\b)", re.I),
    ),
    # "What were the names of the 11 people killed?", "Name the two gangs": names, which a word for people is not
    (
        Asks.NAME,
        re.compile(
            r"^\s*(?:(?:and|so|but)\s+)?(?:what\s+(?:is|was|are|were)\s+(?:the|their|his|her|its)\s+names?\b"
            r"|(?:please\s+)?name\s+(?:the|all|both|every|each|\d+|two|three|four|five)\b)",
            re.I,
        ),
    ),
    (Asks.PLACE, re.compile(r"^\s*(?:(?:and|so|but)\s+)?where\b(?!\s+(?:is|are|was|were)\s+(?:it|this)\s+from)", re.I)),
]

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_TIME_WORDS = (
    "today yesterday tomorrow tonight ago morning afternoon evening night noon midnight dawn dusk week weeks "
    "weekend month months year years decade decades century centuries season spring summer autumn fall winter "
    "hour hours minute minutes day days era age period time times recently later earlier early late soon "
    "before after during since until once then now previously formerly christmas easter holiday holidays "
    "first last next past annual annually daily weekly monthly yearly"
)
_TIME = re.compile(
    r"\b\d{3,4}(?:s|'s)?\b|\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*[ap]\.?m\b"
    rf"|\b\d{{1,2}}/\d{{1,2}}\b|\b(?:{'|'.join(_MONTHS.split())}|{'|'.join(_DAYS.split())}|{'|'.join(_TIME_WORDS.split())})\b",
    re.I,
)
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand "
    "thousands million millions billion billions trillion dozen dozens half quarter twice thrice once single "
    "double triple none no several few many couple all both"
)
_NUMBER = re.compile(rf"\d|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b", re.I)
_PEOPLE_WORDS = (
    "he she they him her them his hers their man men woman women boy boys girl girls child children kid kids "
    "people person persons family families wife husband son sons daughter daughters mother father parents "
    "brother brothers sister sisters friend friends uncle aunt cousin grandmother grandfather baby team teams "
    "police officials official government governments authorities army troops soldiers forces force military "
    "navy group groups company companies firm agency committee council court board party parties "
    "workers staff crew members member players player fans students student teachers teacher doctors doctor "
    "nurses nurse officers officer leaders leader king queen prince princess duke dukes lord lords emperor pope "
    "president minister ministers mayor governor senator judge lawyer lawyers victim victims suspect suspects "
    "owner owners residents citizens villagers neighbours neighbors public crowd audience everyone nobody "
    "someone somebody anyone herself himself themselves both"
)
_PERSON_SUFFIX = re.compile(r"\b\w{3,}(?:ers?|ors?|ists?|ians?|ents?|ants?|ees?|ives?)\b", re.I)
_PEOPLE = re.compile(rf"\b(?:{'|'.join(_PEOPLE_WORDS.split())})\b|\b(?:those|anyone|whoever)\s+who\b", re.I)
_PLACE_WORDS = (
    "home house houses hospital school schools city cities town towns village country countries state states "
    "capital church street road river sea ocean lake island islands building office room court prison jail "
    "airport station park camp border coast beach mountain mountains hill valley field farm forest desert "
    "north south east west northern southern eastern western abroad overseas there here inside outside nearby "
    "region area district province county land world continent territory port harbor harbour bridge "
    "restaurant hotel store shop market club stadium arena theater theatre hall museum library university "
    "college embassy base car bus train plane ship boat bed kitchen garden yard"
)
_PLACE = re.compile(rf"\b(?:{'|'.join(_PLACE_WORDS.split())})\b", re.I)
_CAPITAL = re.compile(r"(?<![\w'’])[A-Z][\w'’.-]*")


def _names(answer: str) -> bool:
    """A capitalised word that is a name: not a function word that only opens the answer ("The", "In")."""
    for match in _CAPITAL.finditer(answer):
        word = match.group(0).lower().strip(".'’")
        if word not in STOPWORDS:
            return True
    return False


def asks(question: str) -> Asks | None:
    """What the question asks for, when it is one of the four kinds the decision step can check."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def has(answer: str, kind: Asks) -> bool:
    """The answer holds what `kind` asks for."""
    if kind is Asks.TIME:
        return bool(_TIME.search(answer))
    if kind is Asks.NUMBER:
        return bool(_NUMBER.search(answer))
    if kind is Asks.PERSON:
        return _names(answer) or names_people(answer)
    if kind is Asks.NAME:
        return _names(answer)
    return _names(answer) or bool(_PLACE.search(answer))


PEOPLE_COUNTED = frozenset({"people", "persons", "individuals"})  # a count of people: of any word for them


def names_people(text: str) -> bool:
    """The text has a word for people ("drug-traffickers", "soldiers", "residents"), not only a name."""
    return bool(_PEOPLE.search(text) or _PERSON_SUFFIX.search(text))

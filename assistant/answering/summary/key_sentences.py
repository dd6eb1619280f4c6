"""Pure functions that pick an article's sentences for a whole-article answer (no store, no model).

- `ranked` / `central`: the sentences that best cover the article: first the main event (the sentence that
  says what a headline says, when one does; else the lead), then lead plus centrality over the stored
  sentence vectors (cosine with the article's mean vector, + `LEAD_WEIGHT` for the first sentences),
  picked greedily with a redundancy penalty (maximal marginal relevance); `ranked` in that order (most
  important first), `central` in article order.
  Chosen over lead-only and centrality-only on 10 hand-labelled CoQA stories (docs/evaluation.md).
- `dated`: sentences that name a date, a day, a month or a year ("When did this happen?").
- `names` / `covering_names`: the people and organisations an article names most, and the few
  sentences that introduce them ("Who are the main people?").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from assistant.answering.terms import related_forms

LEAD_WEIGHT = 0.3  # bonus of the first sentence, decaying as 1 / (1 + position)
REDUNDANCY = 0.25  # weight of the similarity to sentences already picked
MIN_WORDS = 6  # shorter lines are headings ("Pitino gets Hall of Fame nod"), not summary sentences
TITLE_BAR = 0.5  # cosine of a sentence with the title at or above which it is the main event (see `ranked`)
HEADLINE_WORDS = 3  # a shorter title names a topic ("Normans", "Rhine"), not an event: the lead says what it is about


def summary_size(n_sentences: int) -> int:
    """3 sentences for a short article, 4 for a medium one, 5 for a long one."""
    return 3 if n_sentences <= 12 else 4 if n_sentences <= 40 else 5


def headline(title: str) -> bool:
    """A title that can name the main event: a headline, not a topic ("Normans") or nothing."""
    return len(title.split()) >= HEADLINE_WORDS


def usable(text: str, title: str = "") -> bool:
    words = text.split()
    return len(words) >= MIN_WORDS and " ".join(words).lower() != " ".join(title.split()).lower()


def central(
    vectors: np.ndarray,
    texts: Sequence[str],
    k: int,
    title: str = "",
    lead_weight: float = LEAD_WEIGHT,
    redundancy: float = REDUNDANCY,
    title_vector: np.ndarray | None = None,
) -> list[int]:
    """Indices of the k sentences that best cover the article, in article order."""
    return sorted(ranked(vectors, texts, k, title, lead_weight, redundancy, title_vector))


def ranked(
    vectors: np.ndarray,
    texts: Sequence[str],
    k: int,
    title: str = "",
    lead_weight: float = LEAD_WEIGHT,
    redundancy: float = REDUNDANCY,
    title_vector: np.ndarray | None = None,
) -> list[int]:
    """The k sentences that best cover the article, most important first: the main event (the sentence that says
    what a headline says, else the lead: the first sentence long enough to be one), then greedily the most central
    of the rest, less what they repeat (maximal marginal relevance)."""
    if len(texts) == 0 or k <= 0:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    candidates = [i for i, t in enumerate(texts) if usable(t, title)] or list(range(len(texts)))
    centroid = vectors[candidates].mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    relevance = {i: float(vectors[i] @ centroid) + lead_weight / (1 + rank) for rank, i in enumerate(candidates)}
    chosen: list[int] = []
    first = _nearest_to_title(vectors, candidates, title_vector if headline(title) else None)
    chosen.append(candidates[0] if first is None else first)
    while len(chosen) < min(k, len(candidates)):

        def gain(i: int) -> float:
            overlap = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            return relevance[i] - redundancy * overlap

        best = max((i for i in candidates if i not in chosen), key=gain)
        chosen.append(best)
    return chosen


def _nearest_to_title(vectors: np.ndarray, candidates: Sequence[int], title_vector: np.ndarray | None) -> int | None:
    """The sentence that says what the title says (cosine >= TITLE_BAR), or None: then the lead wins the first place.
    A headline names the main event ("Ecuador gangs terrorist designation"); a file name ("story-3.txt") names
    nothing and falls under the bar."""
    if title_vector is None or not candidates:
        return None
    t = np.asarray(title_vector, dtype=np.float32).reshape(-1)
    t = t / max(float(np.linalg.norm(t)), 1e-12)
    cosines = vectors[list(candidates)] @ t
    best = int(np.argmax(cosines))
    return int(candidates[best]) if float(cosines[best]) >= TITLE_BAR else None


MONTHS = (
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_DATE = re.compile(
    r"\b(" + "|".join(MONTHS + DAYS) + r")\b\.?|\b(1[89]\d\d|20\d\d)s?\b|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|\b(yesterday|today|tonight|last (week|month|year|night)|this (week|month|year|morning))\b"
)


def dated(texts: Sequence[str]) -> list[int]:
    """Indices of sentences that name a date, a day, a month or a year, in article order."""
    return [i for i, t in enumerate(texts) if _DATE.search(t)]


_CONNECT = {"de", "del", "la", "of", "al", "van", "von", "bin", "da", "du", "le"}
_NOT_NAMES = set(MONTHS + DAYS) | {
    "The",
    "A",
    "An",
    "This",
    "That",
    "These",
    "Those",
    "It",
    "He",
    "She",
    "They",
    "We",
    "I",
    "His",
    "Her",
    "Their",
    "In",
    "On",
    "At",
    "As",
    "To",
    "For",
    "With",
    "During",
    "After",
    "Before",
    "But",
    "And",
    "Or",
    "If",
    "When",
    "While",
    "Now",
    "Then",
    "Here",
    "There",
    "Notably",
    "Approximately",
    "Despite",
    "Just",
    "Last",
    "Next",
    "Elsewhere",
    "Other",
    "Some",
    "Many",
    "Most",
    "One",
    "Two",
    "Former",
    "CNN",
    "Mr",
    "Ms",
    "Mrs",
    "Dr",
    "President",
    "Secretary",
    "Coach",
    "Head",
    "Judging",
    "Needless",
    "Don't",
    "Hip",
    "Hands",
}
_WORDS = re.compile(r"[A-Z][\w.'’\-]*|\w[\w.'’\-]*|[^\w\s]")


def names(texts: Sequence[str]) -> Counter[str]:
    """Capitalised word sequences (people, organisations, places) and how many sentences name them."""
    found: Counter[str] = Counter()
    for text in texts:
        seen: set[str] = set()
        tokens = _WORDS.findall(text)
        run: list[str] = []
        for pos, tok in enumerate(tokens + ["."]):
            word = tok.removesuffix("'s").removesuffix("’s").rstrip(".")
            following = tokens[pos + 1] if pos + 1 < len(tokens) else ""
            adjective = not run and _DEMONYM_END.search(word) and following[:1].islower()  # "Venezuelan gang"
            capital = tok[:1].isupper() and word not in _NOT_NAMES and not adjective
            if capital or (run and tok in _CONNECT):
                if pos == 0 and not capital:
                    continue
                run.append(tok)
                continue
            while run and run[-1] in _CONNECT:
                run.pop()
            if run:
                name = " ".join(run).rstrip(",").removesuffix("'s").removesuffix("’s")
                name = name if _ABBREVIATION.search(name) else name.rstrip(".")
                while name.split(" ", 1)[0] in _TITLES and " " in name:
                    name = name.split(" ", 1)[1]
                if len(name) > 1:
                    seen.add(name)
            run = []
        found.update(seen)
    return _merged(found)


_DEMONYM_END = re.compile(r"(an|ese|ish)$")
_TITLES = {
    "Secretary",
    "State",
    "President",
    "Minister",
    "Prime",
    "Foreign",
    "Coach",
    "Head",
    "Senator",
    "Governor",
    "Judge",
    "Attorney",
    "General",
    "Chief",
    "Director",
    "Spokesman",
    "Spokeswoman",
    "Sen.",
    "Rep.",
    "Gov.",
    "Former",
    "Ex",
    "Vice",
    "Mayor",
    "King",
    "Queen",
    "Prince",
    "Pope",
    "Officer",
    "Captain",
    "Gen.",
}
_ABBREVIATION = re.compile(r"(^|\s)([A-Z]\.)+$")


def _merged(found: Counter[str]) -> Counter[str]:
    """'Noboa' counts for 'Daniel Noboa', 'Ecuadorian' for 'Ecuador': one entry per person or place."""
    out = Counter(found)
    for name in sorted(found, key=len):
        longer = [o for o in out if o != name and (o.endswith(" " + name) or o.startswith(name + " "))]
        forms = related_forms(name.lower()) if " " not in name else frozenset()
        same = longer or [o for o in out if o != name and " " not in o and o.lower() in forms and len(o) < len(name)]
        if same and name in out:
            target = max(same, key=lambda o: out[o])
            out[target] += out.pop(name)
    return out


def covering_names(texts: Sequence[str], top: Sequence[str], k: int) -> list[int]:
    """Up to k sentences that name the most of the top names (earlier names weigh more), in article order."""
    weights = {name: len(top) - rank for rank, name in enumerate(top)}
    left = dict(weights)
    chosen: list[int] = []
    while left and len(chosen) < k:
        scores = {i: sum(w for n, w in left.items() if n in t) for i, t in enumerate(texts) if i not in chosen}
        best = max(scores, key=lambda i: (scores[i], -i), default=None)
        if best is None or scores[best] == 0:
            break
        chosen.append(best)
        left = {n: w for n, w in left.items() if n not in texts[best]}
    return sorted(chosen)

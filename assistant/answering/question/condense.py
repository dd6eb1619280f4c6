"""Turn a question and its chat history into what retrieval needs.

First: is it a follow-up at all (`follow_up`)? A question that stands on its own ("What did Trump
say about Venezuela?" after questions about gangs) is not, and is asked as it is: the earlier topic
must not win. Decided from the question itself: pronouns and demonstratives that point back ("he",
"that"), a definite noun the recent turns used ("the accounts" after "secret bank accounts"),
ellipsis ("And him?", "What about drones?", "Why?") or a short fragment make a follow-up; anything
else (a new named subject, or a whole question) stands on its own.

For a follow-up without a model (`OfflineCondenser`) the question stays as asked and the last turns
become context (their words and meaning pull "What does he want to change?" towards the right
sentences). With a model, `model_condense.ModelCondenser` rewrites it as a standalone question.
"""

from __future__ import annotations

import re

from assistant.answering.terms import STOPWORDS, terms
from assistant.records import MARKER_WITH_SPACE, Query, QuestionStep, Turn

CONTEXT_TURNS = 2


def offline_query(question: str, history: list[Turn]) -> Query:
    recent = history[-CONTEXT_TURNS:]
    context = " ".join(f"{q} {_strip_markers(a)}" for q, a in recent).strip()
    previous = _strip_markers(history[-1][1]) if history else ""
    return Query(question=question, standalone=question, context=context[:1500], previous_answer=previous[:1000])


def _strip_markers(text: str) -> str:
    return MARKER_WITH_SPACE.sub("", text)


ANAPHORA = frozenset("he him his she her hers they them their theirs it its this these those else another".split())
POSSESSIVE = frozenset("his her hers their theirs its".split())
LEADS = re.compile(
    r"^\s*(and|but|so|also|then|or|plus|what about|how about|what else|who else|anything else|"
    r"why not|how so|how come|same for|and what about)\b",
    re.I,
)
SHORT = 3  # words; "Why?", "Where exactly?", "How much?" lean on what came before
_TOKEN = re.compile(r"[A-Za-z][\w.'’\-]*|\d[\d.,%$]*")
_NOT_NAMED = frozenset(
    "I What Who Whom Whose Which When Where Why How Is Are Was Were Do Does Did Can Could Will "
    "Would Should Has Have Had Tell Give List Name Explain Describe Please The A An In On At "
    "For And But So Also Then Or".split()
)
_COMPLEMENT = frozenset(
    "say said says saying think thinks believe believes claim claims mean means know knows show "
    "shows so such than suggest suggested announce announced report reported".split()
)


def follow_up(question: str, turns: list[Turn]) -> tuple[bool, str]:
    """Whether the question leans on the conversation, and why (for the trace)."""
    if not turns:
        return False, "no history"
    tokens = _TOKEN.findall(question)
    lower = [t.lower().strip(".,'’") for t in tokens]
    recent = " ".join(f"{q} {a}" for q, a in turns[-CONTEXT_TURNS:]).lower()
    named = [
        t
        for i, t in enumerate(tokens)
        if (t[:1].isupper() and t.strip(".,'’") not in _NOT_NAMED and (i > 0 or t.lower() not in STOPWORDS))
        or t[:1].isdigit()
    ]
    new_named = [t for t in named if t.lower().strip(".,'’").removesuffix("'s") not in recent]
    pointing = []
    for i, word in enumerate(lower):
        if word == "that" and (i == 0 or lower[i - 1] not in _COMPLEMENT):
            pointing.append(word)
        elif word in ANAPHORA and not (word in POSSESSIVE and any(tokens.index(n) < i for n in named if n in tokens)):
            pointing.append(word)
    recent_terms = set(terms(recent))
    definite = [
        w
        for i, w in enumerate(lower[1:], 1)
        if lower[i - 1] == "the" and tokens[i][:1].islower() and set(terms(w)) & recent_terms
    ]
    if definite:  # "the accounts" after "secret bank accounts": a definite reference back
        pointing += [f"the {w}" for w in definite]
    if lead := LEADS.match(question):
        return True, f"it continues the conversation ('{lead.group(1)}')"
    if pointing:
        return True, f"it points back ({', '.join(dict.fromkeys(pointing))})"
    if len(tokens) <= SHORT and len(terms(question)) < 2 and not new_named:
        return True, "a short fragment"
    if new_named:
        return False, f"it names a new subject ({', '.join(dict.fromkeys(new_named))})"
    return False, "it stands on its own (no pronoun pointing back, no ellipsis)"


class OfflineCondenser:
    """No model: the question as asked; for a follow-up, the last turns as context."""

    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, QuestionStep]:
        if not turns:
            return Query(question, question), QuestionStep(question, how="no history")
        leans, why = follow_up(question, turns)
        if not leans:
            return Query(question, question), QuestionStep(question, how=f"not a follow-up: {why}; asked on its own")
        query = offline_query(question, turns)
        return query, QuestionStep(
            query.standalone,
            context=query.context,
            follow_up=True,
            how=f"follow-up: {why}; read with the earlier turns as context",
        )

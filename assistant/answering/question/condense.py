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
`OfflineCondenser(name_subject=True)` (ASSISTANT_CONDENSE=named) also puts the name the previous turn is
about in place of the follow-up's first personal pronoun ("how many points did he have?" after "Who was
named the tournament's Most Outstanding Player?" / "Luke Hancock" asks about Luke Hancock): in code,
no model call.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.answering.names import runs
from assistant.answering.terms import STOPWORDS, TITLES, terms
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


# personal pronouns a follow-up points at a person or a group with ("it" and "that" point at things, which
# have no name to put in their place); "her" is the possessive when a content word follows it
_OWNER = frozenset("his their hers theirs".split())
_PRONOUN = re.compile(r"\b(he|she|they|him|them|his|their|hers|theirs|her)\b(\s+\w+)?", re.I)


def _names_in(text: str) -> list[str]:
    """The names a turn's text holds, in order. A capitalised word at the very start is a name only when the
    text is more than one capitalised word there or writes it capitalised again later ("Rick saw his son" after
    "Why did Rick fight?"): a reply's first word ("Telecommunications", "Five", "Broken pieces") is capitalised
    because it comes first."""
    text = MARKER_WITH_SPACE.sub("", text).strip()
    found = []
    for words in runs(text):
        heads = [w for w in words if not set(terms(w)) <= TITLES]  # titles and links are no name alone
        if not heads or all(len(w.rstrip(".")) < 2 for w in heads):  # a lone initial, a title alone
            continue
        name = " ".join(words)
        if initial := re.search(rf"(?<![\w.])([A-Z]\.)\s*{re.escape(name)}", text):  # "S. Africa", not "Africa"
            name = f"{initial.group(1)} {name}"
        if text.startswith(name) and len(heads) == 1 and text.count(words[0]) < 2:
            continue
        found.append(name)
    return found


def named_subject(question: str, turns: list[Turn]) -> tuple[str, str] | None:
    """The question with its first personal pronoun replaced by the name the last turn is about (the first name
    its answer gives, else its question's), and that name; None when there is no such pronoun or name, or the
    question already gives the name."""
    if not turns:
        return None
    match = _PRONOUN.search(question)
    if match is None:
        return None
    last_question, last_answer = turns[-1]
    names = _names_in(last_answer) or _names_in(last_question)
    if not names or names[0].casefold() in question.casefold():
        return None
    name = names[0]
    pronoun, after = match.group(1).lower(), (match.group(2) or "").strip().lower()
    owner = pronoun in _OWNER or (pronoun == "her" and after not in ("", *STOPWORDS))
    put = f"{name}'s" if owner else name
    return f"{question[: match.start(1)]}{put}{question[match.end(1) :]}", name


class OfflineCondenser:
    """No model: the question as asked; for a follow-up, the last turns as context. `name_subject`: a follow-up's
    first personal pronoun also replaced by the name the last turn is about (`named_subject`)."""

    def __init__(self, name_subject: bool = False) -> None:
        self.name_subject = name_subject

    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, QuestionStep]:
        if not turns:
            return Query(question, question), QuestionStep(question, how="no history")
        leans, why = follow_up(question, turns)
        if not leans:
            return Query(question, question), QuestionStep(question, how=f"not a follow-up: {why}; asked on its own")
        query = offline_query(question, turns)
        how = f"follow-up: {why}; read with the earlier turns as context"
        if self.name_subject and (named := named_subject(question, turns)) is not None:
            query = replace(query, standalone=named[0])
            how = f"follow-up: {why}; the pronoun read as {named[1]!r} (the last turn's name), with the earlier turns"
        return query, QuestionStep(query.standalone, context=query.context, follow_up=True, how=how)

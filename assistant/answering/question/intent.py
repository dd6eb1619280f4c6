"""Is this a question about the article as a whole? ("What is this about?", "Key points?", "Who is involved?")

Such questions name no subject of their own, so a similarity search for their words finds nothing
useful; they are answered by a summary (`summary.py`) instead. Two signals, both over the question's
words rather than a list of fixed strings:

1. Rules over stemmed terms (`terms.terms`): the question has a cue of a whole-article request
   (summar-, overview, gist, key/main points, about, involved, happen, ...) and every other content
   term is generic (article, story, text, main, people, ...): nothing in it names a subject.
   "Summarize what Rubio said about drones" names a subject and stays an ordinary question.
2. Meaning: when the rules do not recognise it ("Briefly, what happened according to the article?",
   "Explain the article to me") and it names no one and nothing (no name, no number), its embedding is
   compared with a handful of prototype requests; at or above `PROTOTYPE_BAR` it counts, whatever its
   other words. Measured (docs/evaluation.md): the 443 questions of the three evaluation sets, all
   ordinary, come no closer to a prototype than 0.59; the bar is 0.65.

Three kinds: "summary" (overview, key points, what it is about), "people" (main people and
organisations), "when" (the article's date or time context). The false-positive rate on the
ordinary questions of the evaluation sets is in docs/evaluation.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.answering.terms import key_terms, terms
from assistant.answering.thresholds import DEFAULT
from assistant.embeddings import Embedder

# cue terms (stemmed) for each kind; a question needs one of its kind's cues (or the prototypes)
SUMMARY_CUES = frozenset(
    terms(
        "summary summarize summarise summarising overview gist recap tldr tl;dr outline "
        "synopsis digest highlights takeaways takeaway rundown brief briefly nutshell"
    )
)
POINT_WORDS = frozenset(
    terms("points point ideas idea facts things messages message themes theme topics topic issues issue lines line")
)
KEY_WORDS = frozenset(terms("key main important central major essential chief principal core basic top"))
PEOPLE_WORDS = frozenset(
    terms(
        "people person persons figures figure players player characters character "
        "organisations organisation organizations organization groups group parties "
        "party actors actor individuals names countries country officials mentioned "
        "named involved protagonists"
    )
)
WHEN_WORDS = frozenset(terms("happen happened happening take place date dated published written occur occurred time"))
# content terms that name no subject: a question made only of these and cues is about the whole article
GENERIC = frozenset(
    terms(
        "article articles story stories piece text news report document documents page post item content "
        "contents say says tell describe describes cover covers discuss discusses talk talks explain give "
        "list show write written main key summary short quick please here whole entire everything thing "
        "things overall general mention mentioned name names sentences sentence paragraph go going know need "
        "read want happen happened happening involved part parts one single few sum"
    )
)
WH_WHO = re.compile(r"^\s*(who|which (people|persons|organi[sz]ations|groups|countries|officials))\b", re.I)
WH_WHEN = re.compile(r"^\s*(when|what (date|day|time|year))\b", re.I)
ABOUT = re.compile(r"^\s*what\b.*\b(about|cover|covers|discuss|discusses|describe|describes|say|says)\W*$", re.I)
DEICTIC = re.compile(
    r"\b(this|it|that|these|(the|each|every|all|both) (\w+ )?(article|story|piece|text|news|report|"
    r"events?|articles|stories))\b",
    re.I,
)

PROTOTYPES = {
    "summary": [
        "What is this article about?",
        "Summarize the article.",
        "Give me the key points.",
        "What are the main points of the story?",
        "Give me an overview.",
        "What's the gist of it?",
        "Tell me about this article.",
        "What happened in the story?",
    ],
    "people": [
        "Who are the main people in this article?",
        "Which organisations are involved?",
        "Who is mentioned in the story?",
    ],
    "when": ["When did this happen?", "What is the date of the article?", "When was this published?"],
}
PROTOTYPE_BAR = DEFAULT.whole_article_bar  # cosine (`Thresholds.whole_article_bar`)


@dataclass(frozen=True)
class Intent:
    kind: str  # "summary", "people" or "when"
    how: str  # "rules" or "prototype <cosine>"
    wants_all: bool = False  # "summarize the articles", "each article": every article in scope, by name
    size: str = "normal"  # "one" ("in one sentence"), "brief" ("briefly", "a quick overview"), or "normal"


ONE_SENTENCE = re.compile(r"\b(one|a single|1|a)[- ](sentence|line)\b|\bone[- ]liner\b", re.I)
BRIEF = re.compile(
    r"\b(brief|briefly|in brief|short|shortly|quick|quickly|nutshell|tl;?\s?dr|few words|two sentences|"
    r"2 sentences|sum (it |this )?up)\b",
    re.I,
)


def requested_size(question: str) -> str:
    """How long the answer should be: "one" sentence, "brief" or "normal" (the main event is in each)."""
    if ONE_SENTENCE.search(question):
        return "one"
    return "brief" if BRIEF.search(question) else "normal"


def detect(question: str, embedder: Embedder | None = None, bar: float = PROTOTYPE_BAR) -> Intent | None:
    """The whole-article intent of a question, or None for an ordinary question (`bar`: the prototype cosine)."""
    words = terms(question)
    specific = [
        t
        for t in words
        if t not in GENERIC
        and t not in SUMMARY_CUES
        and t not in POINT_WORDS
        and t not in KEY_WORDS
        and t not in PEOPLE_WORDS
        and t not in WHEN_WORDS
    ]
    if len(question) > 160:
        return None
    wants_all = bool(re.search(r"\b(articles|stories|all|each|every|both)\b", question, re.I))
    kind = None if specific else _by_rules(question, set(words))
    if kind:
        return Intent(kind, "rules", wants_all, requested_size(question))
    if embedder is None or key_terms(question):
        return None  # it names someone or something: an ordinary question (a focused summary is answered by retrieval)
    kind, cosine = _nearest_prototype(question, embedder)
    if cosine >= bar:
        return Intent(kind, f"prototype {cosine:.2f}", wants_all, requested_size(question))
    return None


def _by_rules(question: str, words: set[str]) -> str | None:
    if WH_WHEN.match(question) and (words & WHEN_WORDS or DEICTIC.search(question)):
        return "when"
    if WH_WHO.match(question) or (words & PEOPLE_WORDS and words & (KEY_WORDS | frozenset(terms("mention involv")))):
        if words & PEOPLE_WORDS or words & KEY_WORDS:
            return "people"
    if words & SUMMARY_CUES or re.search(r"\bsum (\w+ ){0,3}up\b", question, re.I):
        return "summary"
    if ABOUT.match(question) and DEICTIC.search(question):
        return "summary"
    if words & POINT_WORDS and words & KEY_WORDS:
        return "summary"
    if re.match(
        r"^\s*what\s+(happened|is (going on|happening))\W*(here|in (the|this) (article|story))?\W*$", question, re.I
    ):
        return "summary"
    return None


def _nearest_prototype(question: str, embedder: Embedder) -> tuple[str, float]:
    kinds, vectors = _prototype_vectors(embedder)
    q = np.asarray(embedder.embed([question])[0], dtype=np.float32)
    cosines = vectors @ q
    best = int(np.argmax(cosines))
    return kinds[best], float(cosines[best])


_VECTORS: dict[str, tuple[list[str], np.ndarray]] = {}  # by embedding model: the prototypes embedded once


def _prototype_vectors(embedder: Embedder) -> tuple[list[str], np.ndarray]:
    if embedder.model_name not in _VECTORS:
        kinds = [k for k, texts in PROTOTYPES.items() for _ in texts]
        texts = [t for ts in PROTOTYPES.values() for t in ts]
        _VECTORS[embedder.model_name] = (kinds, np.asarray(embedder.embed(texts), dtype=np.float32))
    return _VECTORS[embedder.model_name]

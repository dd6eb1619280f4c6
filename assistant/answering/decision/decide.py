"""The decision step: answer, or say the articles don't say. One set of rules for every reader, its bars
in one record (`Thresholds`), each rule named in the trace.

In order, an answer is refused when:
1. the reader said the articles do not say (the model's NOT_IN_TEXT; the extractive reader found nothing);
2. no claim of it stands in the shown text: its new words are not in the sentence(s) it was attributed
   to, a name or number it states is in none of them, a quote is not verbatim, or the sentence is an
   instruction planted in the article (claims that fail are dropped; when none is left, it is refused);
3. it lacks what the question asks for: a time for "when", a number for "how many", a person or
   organisation for "who", a place for "where" (`question.kinds`); a "how many X" question whose answer's
   sentences never mention X (nor a word near it in meaning), or whose answer is an amount of money or a share
   ("$6 million" for "How many drones ...?"), is refused too; and a model's number that is not
   the one the question's own terms govern in its sentence ("$10 million in total, including $4 million for
   drones" asked "how much for drones") is corrected to that one when the answer is that number, else refused;
4. it only restates the question (not a yes/no answer);
5. the question names someone or something (a name or number) that its sentences, their titles, the
   sentence before each and the conversation never mention; or a model's claim is stitched from two sentences of
   one article, and the one that holds most of the answer is not within reach of those names ("Who leads Tren de
   Aragua?" read "Venezuelan military aircraft", from the sentence about the aircraft and the one naming the gang);
6. its sentence(s) do not address the question: their confidence (cosine with the question + a weight x the
   share of its terms, as the extractive reader weighs it) is under the bar (lower for a model's answer,
   whose reading is evidence too, and lower again for a follow-up, which leans on the conversation, or for a
   model's answer read with the conversation in its prompt, which may lean on it too).

Every bar is a field of `Thresholds` (`answering/thresholds.py`), chosen on the fit half of the public sets;
the extractive bar is `ASSISTANT_REFUSAL_THRESHOLD`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.answering.attribution import support
from assistant.answering.question.kinds import has
from assistant.answering.reading.text import is_instruction
from assistant.answering.thresholds import Thresholds
from assistant.records import Asks, Attribution, Claim, ScoredSentence

_CHOICE = re.compile(r"\w\s*,?\s+or\s+\w", re.I)  # "A or B": the answer is one of the question's own words
_NAME_LINKS = frozenset({"of", "de", "the", "and", "la", "le", "von", "van", "der", "du", "da", "di", "del", "&"})
_POLARITY = re.compile(r"^\W*(?:yes|no|not|never|none|nobody|nothing|neither|nor)\b|n't\b", re.I)


@dataclass(frozen=True)
class Decided:
    """What the decision step concluded. `kept`: the claims that stand, in order (empty when refused)."""

    answered: bool
    rule: str  # the rule that refused, or "answered"
    reason: str
    kept: tuple[Claim, ...]
    confidence: float | None = None
    threshold: float | None = None


def decide(
    attribution: Attribution,
    shown: list[ScoredSentence],
    *,
    question: str,
    refused_by_reader: bool,
    asks: Asks | None,
    follow_up: bool,
    extractive: bool,
    thresholds: Thresholds,
    conversation: bool = False,
) -> Decided:
    """`follow_up`: the question step took it for a follow-up (read with the earlier turns as its context);
    `conversation`: the reader had the earlier turns in its prompt (a model's reading in a conversation)."""
    if refused_by_reader:
        return Decided(False, "reader refused", "the reader said the articles do not say", ())
    if not attribution.claims:
        return Decided(False, "empty", "the reader gave no answer", ())
    kept = tuple(c for c in attribution.claims if _stands(c, shown, thresholds.coverage) is None)
    if not kept:
        why = _stands(attribution.claims[0], shown, thresholds.coverage) or "nothing supports it"
        return Decided(False, "not in the text", f"the answer is not in the articles' text: {why}", ())
    answer = " ".join(c.text for c in kept)
    if asks is not None and not has(answer, asks):
        return Decided(False, "lacks what was asked", f"the question asks for {asks.value} and the answer has none", ())
    if attribution.counted and attribution.counted_similarity < thresholds.counted_similarity:
        return Decided(
            False,
            "counts something else",
            f"the question counts {attribution.counted}, which the answer's sentences never mention "
            f"(nearest word {attribution.counted_similarity:.2f} < {thresholds.counted_similarity})",
            (),
        )
    if (
        attribution.counted
        and support.money_or_share(answer)
        and not support.counts_money_or_share(attribution.counted)
    ):
        return Decided(
            False,
            "counts something else",
            f"the question counts {attribution.counted}, and the answer is an amount of money or a share",
            (),
        )
    if asks is Asks.NUMBER and not extractive:
        amounts_checked = [_amount_asked(c, shown, question, thresholds) for c in kept]
        wrong = next((why for c, why in amounts_checked if c is None), None)
        if wrong:
            return Decided(False, "another amount", wrong, ())
        kept = tuple(c for c, _ in amounts_checked if c is not None)
    if not extractive and all(_restates(c, question, thresholds.short_answer_words) for c in kept):
        return Decided(False, "restates the question", "the answer only repeats the question's words", ())
    if thresholds.question_names and attribution.question_missing:
        names = ", ".join(attribution.question_missing)
        return Decided(
            False,
            "question names missing",
            f"the question names {names}, which the answer's sentences never mention",
            (),
        )
    if thresholds.answer_apart and attribution.answer_apart:
        names = ", ".join(attribution.answer_apart)
        return Decided(
            False,
            "answer apart from the question",
            f"the sentence that holds the answer never mentions {names}, which only another cited sentence names",
            (),
        )
    relevance = max(c.relevance for c in kept)
    bar = thresholds.extractive_relevance if extractive else thresholds.model_relevance
    discount = thresholds.follow_up_discount if follow_up else thresholds.conversation_discount if conversation else 0
    bar = round(bar - discount, 4)
    if relevance < bar:
        return Decided(
            False,
            "does not address the question",
            f"the answer's sentences do not address the question (confidence {relevance:.2f} < {bar})",
            (),
            round(relevance, 4),
            bar,
        )
    n = len({i for c in kept for i in c.sentences})
    return Decided(
        True,
        "answered",
        f"{n} sentence(s) hold the answer, confidence {relevance:.2f} >= {bar}",
        kept,
        round(relevance, 4),
        bar,
    )


def _restates(claim: Claim, question: str, short_words: int) -> bool:
    """The claim says nothing the question does not: no new content term, no yes or no, and not one of the
    alternatives the question offers ("Who is older, Annie Morton or Terry Richardson?" -> "Terry Richardson")
    or a name made of its words ("Kansas Song" for "the fight song of ... Kansas")."""
    if claim.new_terms or _POLARITY.search(claim.text):
        return False
    if _CHOICE.search(question):
        return False
    words = claim.text.strip(" .").split()
    name = all(w[:1].isupper() or w.lower() in _NAME_LINKS for w in words) and words[0][:1].isupper()
    phrase = " ".join(words).lower()
    return len(words) > short_words or not name or phrase in " ".join(question.split()).lower()


def decide_summary(attribution: Attribution, shown: list[ScoredSentence], thresholds: Thresholds) -> Decided:
    """A summary's sentences: each stands on its own (its names, numbers and quotes in its sentences, and
    `summary_coverage` of its words); those that do not are left out. Answered when one stands."""
    kept = tuple(c for c in attribution.claims if _stands(c, shown, thresholds.summary_coverage) is None)
    if kept:
        return Decided(True, "answered", f"{len(kept)} of {len(attribution.claims)} summary sentence(s) stand", kept)
    why = _stands(attribution.claims[0], shown, thresholds.summary_coverage) if attribution.claims else "it is empty"
    return Decided(False, "not in the text", f"no sentence of the summary stands: {why}", ())


def _stands(claim: Claim, shown: list[ScoredSentence], coverage: float) -> str | None:
    """Why the claim does not stand in its sentences (None: it does)."""
    if not claim.sentences:
        return "no sentence holds it"
    sources = " ".join(shown[i].sentence.text for i in claim.sentences)
    if not support.quoted_verbatim(claim.text, sources):
        return "a quote in it is not verbatim in its sentences"
    if claim.missing:
        return f"{', '.join(claim.missing)} is in none of the sentences it rests on"
    if claim.coverage < coverage:
        return f"only {claim.coverage:.0%} of its words stand in the sentences it rests on"
    if all(is_instruction(shown[i].sentence.text) for i in claim.sentences) or any(
        support.echoes_instruction(claim.text, shown[i].sentence.text) for i in claim.sentences
    ):
        return "its sentence is an instruction planted in the article, not a fact"
    return None


def _amount_asked(
    claim: Claim, shown: list[ScoredSentence], question: str, thresholds: Thresholds
) -> tuple[Claim | None, str]:
    """The claim, its amount corrected to the one the question's terms govern in its sentence when it stated
    another of that sentence's amounts (None and why when it cannot be: the claim says more than the amount)."""
    stated = support.amounts(claim.text)
    for i in claim.sentences:
        sentence = shown[i].sentence.text
        found = support.governed_amount(question, sentence, thresholds.amount_margin)
        if found is None or not stated:
            continue
        best, scores = found
        if any(a.value == best.value for a in stated) or not any(a.value in scores for a in stated):
            continue
        other = next(a for a in stated if a.value in scores)
        if len(stated) == 1 and len(claim.text.split()) <= thresholds.short_answer_words:
            text = claim.text.replace(other.text, best.text) if other.text in claim.text else best.text
            how = f"{claim.how}; {other.text} corrected to {best.text}, the amount the question's terms govern"
            return replace(claim, text=text, how=how), ""
        return None, f"the question asks for {best.text} in its sentence, not {other.text}"
    return claim, ""

"""Whole-article answers worded by a chat model: the code chooses what to say, the model only words it.

What to say is chosen in code, as for the extractive answer (`ExtractiveSummarizer.plan`): each article's key
sentences, the main event first (the sentence that says what a headline says, else the lead), then the most central
of the rest in article order; the names found or the date for "Who is involved?" and "When did this happen?". The
model is shown only those sentences, numbered, and asked to rewrite each in plain words, in order
(`prompts/summary_system.txt`, `prompts/summary_request.txt`); the question itself is not shown, so every phrasing of
the same request gets the same prompt. "In one sentence" and "briefly" (`Intent.size`) shorten the list, never drop
its first sentence. The code attributes each sentence the model wrote to the sentence(s) that hold it
(`attribution.attribute`) and keeps those that stand (`decision.decide_summary`), streaming each once it is checked.
The main event is always cited: when the first sentence that stands does not rest on it, the main event's sentence
leads, verbatim. A model too slow to word it before the reader waits (`SummaryModel.quotes_main_event`: our local
model on a CPU writes ~13 tokens a second on 2 cores) has the main event quoted and shown at once, and words only
the other key sentences, two at most (`QUOTED_AT_MOST`: the whole answer within ~8 s); a key sentence whose wording
does not stand is then said verbatim after the model's, so the sentences chosen are all said; "in one sentence" is
the quote alone. Several articles are worded one at a time, each after its title in bold. When no sentence of the
model's stands, the extractive summary answers instead.

Deterministic with our own llama.cpp server (`SummaryModel.fixed_layout`): temperature 0 (greedy), a fixed seed,
and the prompt always evaluated the same way. llama.cpp's CPU kernels give logits that differ with how a prompt is
split into batches (measured on Qwen2.5-1.5B Q4_K_M: up to 0.65 in a logit when the last token is evaluated alone
rather than with the rest, 0.5 when the prompt is evaluated from another position), and llama-cpp-python's server
reuses the longest prefix shared with the previous request, whatever that was. So each request is preceded by a
one-token request whose system message differs from the summary's at its first word: the summary's prompt is then
always evaluated from that word on, in one batch, and the same sentences give the same text (see
`docs/evaluation.md`, "Whole-article answers"). It costs that request (0.3–0.6 s measured on 2 cores) and the
reuse of a cached prefix; the prompt is short (the key sentences, not the article).

When the model cannot answer at all (the errors its backend falls back on: our local model's server stopped,
killed or not starting; a timeout), the extractive summary answers too, with the same note as a question's offline
answer (`flow.AnswerFlow.stream`): "Note: the language model (<backend>) could not answer (<why>), so this is the
offline answer."
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.answering.attribution.attribute import attribute
from assistant.answering.attribution.citing import Numbering
from assistant.answering.decision.decide import decide_summary
from assistant.answering.question.intent import Intent
from assistant.answering.reading import text
from assistant.answering.summary.summary import ExtractiveSummarizer, Plan, Scope, summary_step
from assistant.answering.thresholds import Thresholds
from assistant.embeddings import Embedder
from assistant.errors import AssistantError
from assistant.llm.chat_model import ChatClient, Message, limited, stream_text
from assistant.llm.prompts import Prompt
from assistant.providers import translate_provider_error
from assistant.records import Answer, Attribution, Citation, Claim, Query, Reading, ScoredSentence, SummaryStep

log = logging.getLogger(__name__)

SUMMARY_MAX_TOKENS = 320
# key sentences of a summary whose main event is quoted: the quote and two the model words (~50 tokens to write; at
# ~12 tokens a second on 2 cores a third would add ~2 s to the whole answer: docs/benchmarks.md)
QUOTED_AT_MOST = 3
TOKENS_PER_SENTENCE = {"normal": 60, "brief": 40, "one": 50}
LENGTH = {
    "normal": "one plain sentence",
    "brief": "one short sentence of at most fifteen words",
    "one": "one short sentence",
}
SEED = 7  # any fixed value: with temperature 0 the choice is greedy; a seed keeps any sampling the server does fixed
RESET = [("system", "."), ("user", ".")]  # differs from the summary prompt at the system message's first token
_HEADING = re.compile(r"^\s*(?:#+\s*)?\*\*(.+?)\*\*\s*:?\s*")
_NUMBERED = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")


@dataclass(frozen=True)
class SummaryModel:
    """The summariser's chat model, from `build.chat_client`: `connect()` gives the streaming client and where it is
    (the local model's server starts on first use and may come back on another port); `backend` names it in notes;
    `fallback_on`: the errors after which the extractive summary stands in (as for a question's answer);
    `fixed_layout`: a llama.cpp server that reuses the previous request's prefix, so each summary request is preceded
    by a one-token request (see the module's docstring); `quotes_main_event`: a model too slow to word the main event
    before the reader waits (our local model on a CPU): the main event's sentence is quoted, shown at once, and the
    model words only the rest."""

    connect: Callable[[], tuple[ChatClient, str]]
    backend: str
    fallback_on: tuple[type[AssistantError], ...] = ()
    fixed_layout: bool = False
    quotes_main_event: bool = False


@dataclass(frozen=True)
class _Worded:
    """One article's part of the answer: its plan, the sentences shown to the model, the claims kept."""

    plan: Plan
    shown: list[ScoredSentence]
    kept: list[Claim]


class ModelSummarizer:
    name = "model summary"

    def __init__(
        self,
        model: SummaryModel,
        prompts: tuple[Prompt, Prompt],
        extractive: ExtractiveSummarizer,
        embedder: Embedder,
        thresholds: Thresholds,
    ):
        self.model = model
        self.client = model.connect
        self.system, self.request = prompts
        self.extractive = extractive
        self.embedder = embedder
        self.thresholds = thresholds

    def summarize(self, question: str, intent: Intent, scope: Sequence[str] | None) -> Iterator[str | SummaryStep]:
        chosen = self.extractive.scope(scope, intent)
        at_most = QUOTED_AT_MOST if self._quotes(intent) else None
        plans = [p for p in self.extractive.plan(intent, chosen, at_most) if p.order]
        if not plans or (self._quotes(intent) and all(len(p.order) == 1 for p in plans)):
            yield from self.extractive.answer(intent, chosen)  # one sentence each: the main event, quoted
            return
        shown_so_far: list[str] = [""]  # the text streamed so far (the fallback continues from it)
        prompts: list[str] = []
        started = time.perf_counter()
        try:
            yield from self._summarize(question, intent, chosen, plans, shown_so_far, prompts)
        except self.model.fallback_on as exc:
            log.warning("the model could not summarise: %s", exc)
            yield from self._offline(intent, chosen, exc, shown_so_far[0], prompts, time.perf_counter() - started)

    def _offline(
        self, intent: Intent, chosen: Scope, exc: Exception, emitted: str, prompts: list[str], seconds: float
    ) -> Iterator[str | SummaryStep]:
        """The extractive summary after the model failed, with the same note as a question's offline answer."""
        backend = self.model.backend
        fallback = self.extractive.compose(intent, chosen)
        note = f"Note: the language model ({backend}) could not answer ({exc}), so this is the offline answer."
        answer = replace(fallback.answer, text=f"{note}\n\n{fallback.answer.text}")
        prompt = "\n\n----\n\n".join(prompts) or None
        yield from _continue(emitted, answer.text)
        yield replace(
            fallback,
            answer=answer,
            decision=replace(fallback.decision, method="summary (extractive fallback)"),
            notes=[
                *fallback.notes,
                f"The model ({backend}) could not answer: {exc}. The offline answer was given instead.",
            ],
            prompt=prompt,
            reading=Reading("model summary", "", prompt=prompt, failure=str(exc), seconds=seconds),
        )

    def _summarize(
        self,
        question: str,
        intent: Intent,
        chosen: Scope,
        plans: list[Plan],
        shown_so_far: list[str],
        prompts: list[str],
    ) -> Iterator[str | SummaryStep]:
        several = len(chosen.articles) > 1
        head = chosen.note if not several else f"{chosen.note}\n".lstrip("\n")
        query = Query(question, question)
        emitted = ""
        if head:
            yield head
            emitted = shown_so_far[0] = head
        done: list[_Worded] = []
        raws: list[str] = []
        attributions: list[Attribution] = []
        reasons: list[str] = []
        quotes = self._quotes(intent)
        for plan in plans:
            article = plan.article  # each sentence with its stored vector: attribution compares with it as it is
            shown = [
                ScoredSentence(article.sentences[i], article.title, 1.0, 0.0, 0.0, vector=article.vectors[i])
                for i in plan.order
            ]
            worded = shown[1:] if quotes else shown  # quoted, the main event is cited as it stands, not reworded
            if quotes:  # shown at once, before the model reads
                so_far = head + _render([*done, _Worded(plan, shown, [_verbatim(shown, 0)])], several)[0]
                yield from _continue(emitted, so_far)
                emitted = shown_so_far[0] = so_far
            if not worded:
                done.append(_Worded(plan, shown, [_verbatim(shown, 0)]))
                continue
            messages = self._messages(worded, intent.size, shown[0].title)
            prompts.append(_shown(messages))
            chat, where = self.client()
            if self.model.fixed_layout:
                self._invoke(_bound(chat, 1), RESET)
            limit = min(SUMMARY_MAX_TOKENS, TOKENS_PER_SENTENCE.get(intent.size, 60) * len(worded) + 20)
            raw = checked = ""
            for delta in stream_text(_bound(chat, limit), messages, where):  # each sentence shown once checked
                raw += delta
                ready = text.complete(raw)
                if ready and ready != checked:  # a sentence more is complete: check it
                    checked = ready
                    part = _Worded(plan, shown, self._kept(query, ready, shown, intent, quotes)[0])
                    so_far = head + _render([*done, part], several)[0]
                    if so_far.startswith(emitted) and len(so_far) > len(emitted):
                        yield so_far[len(emitted) :]
                        emitted = shown_so_far[0] = so_far
            kept, attribution, reason = self._kept(query, raw, shown, intent, quotes, complete=True)
            done.append(_Worded(plan, shown, kept))
            raws.append(raw)
            attributions.append(attribution)
            reasons.append(reason)
        prompt = "\n\n----\n\n".join(prompts)
        raw_all = "\n\n".join(raws)
        reading = Reading("model summary", raw_all, prompt=prompt, raw=raw_all)
        attribution = Attribution(
            tuple(c for a in attributions for c in a.claims), tuple(t for a in attributions for t in a.question_missing)
        )
        if not any(c.how not in (MAIN_EVENT, KEY_SENTENCE) for w in done for c in w.kept):  # none of the model's stands
            reason = reasons[0] if reasons else "it is empty"
            log.info("falling back to the extractive summary: %s", reason)
            fallback = self.extractive.compose(intent, chosen)
            note = f"The model's summary could not stand ({reason}); the extractive summary was given."
            yield from _continue(emitted, fallback.answer.text)
            yield replace(
                fallback,
                decision=replace(fallback.decision, method="summary (extractive fallback)"),
                notes=[*fallback.notes, note],
                prompt=prompt,
                reading=reading,
                attribution=attribution,
            )
            return
        body, citations, cited = _render(done, several)
        final = Answer(head + body, citations, True)
        yield from _continue(emitted, final.text)
        yield summary_step(
            final,
            intent,
            chosen,
            cited,
            "summary (model, attributed)",
            prompt=prompt,
            reading=reading,
            attribution=attribution,
        )

    def _quotes(self, intent: Intent) -> bool:
        return self.model.quotes_main_event and intent.kind == "summary"

    def _kept(
        self,
        query: Query,
        raw: str,
        shown: list[ScoredSentence],
        intent: Intent,
        quoted: bool = False,
        complete: bool = False,
    ) -> tuple[list[Claim], Attribution, str]:
        """The model's sentences that stand, the main event first; the attribution; why nothing stands (when so).
        A summary always cites its main event (`shown[0]`): when the first sentence that stands does not rest on it,
        the main event's own sentence leads. `quoted`: the main event was quoted already; a sentence of the model's
        that rests on it alone would say it twice and is left out; and once the model is done (`complete`), a key
        sentence none of its sentences that stand rests on is said verbatim after them (what to say is chosen in
        code: a wording that does not stand does not drop it), as long as something the model wrote stands."""
        lines = (_NUMBERED.sub("", _HEADING.sub("", line)) for line in _initials(raw, shown).splitlines())
        claims = [c for line in lines for c in text.claims(text.clean(line))]
        attribution = attribute(query, claims, shown, self.embedder)
        decided = decide_summary(attribution, shown, self.thresholds)
        kept = list(decided.kept)
        if quoted:
            kept = [_verbatim(shown, 0), *(c for c in kept if set(c.sentences) - {0})]
            said = {i for c in kept for i in c.sentences}
            if complete and len(kept) > 1:
                kept += [_verbatim(shown, i, KEY_SENTENCE) for i in range(1, len(shown)) if i not in said]
        elif kept and intent.kind == "summary" and 0 not in kept[0].sentences:
            kept.insert(0, _verbatim(shown, 0))
        return kept, attribution, decided.reason

    def _messages(self, shown: Sequence[ScoredSentence], size: str, title: str) -> list[tuple[str, str]]:
        """The summary's system message, then the article's title and the sentences to word, numbered, then the
        request: the same prompt for every phrasing of the same request."""
        count = "one sentence" if len(shown) == 1 else f"{len(shown)} sentences"
        sentences = "\n".join(f"{n}. {_one_line(s.sentence.text)}" for n, s in enumerate(shown, 1))
        request = self.request.render(length=LENGTH.get(size, LENGTH["normal"]), count=count)
        user = f"Article: {_one_line(title)}\n{sentences}\n\n{request}"
        return [("system", self.system.render()), ("user", user)]

    def _invoke(self, chat: ChatClient, messages: Sequence[Message]) -> str:
        try:
            return chat.invoke(messages)
        except AssistantError:
            raise
        except Exception as exc:
            raise translate_provider_error(exc) from exc


def _bound(chat: ChatClient, max_tokens: int) -> ChatClient:
    """The client writing at most `max_tokens` tokens, with the fixed seed (temperature 0 is the client's own)."""
    return limited(chat, max_tokens).bind(seed=SEED)


def _render(parts: Sequence[_Worded], several: bool) -> tuple[str, list[Citation], list[ScoredSentence]]:
    """The answer's text (several articles: each after its title in bold), its citations numbered across the
    articles, and the sentences cited."""
    shown = [s for w in parts for s in w.shown]
    numbering = Numbering(shown)
    lines: list[str] = []
    offset = 0
    for w in parts:
        claims = [replace(c, sentences=tuple(offset + i for i in c.sentences)) for c in w.kept]
        offset += len(w.shown)
        if not claims:
            continue
        body = "" if w.plan.lead_in.startswith("In short") else w.plan.lead_in
        body += numbering.text(claims)
        title = " ".join(w.plan.article.title.split())
        lines.append(f"**{title}**: {body}" if several else body)
    by_key = {(s.sentence.article_id, s.sentence.index): s for s in shown}
    cited = [by_key[(c.article_id, c.sentence_index)] for c in numbering.citations]
    return "\n".join(lines), numbering.citations, cited


MAIN_EVENT = "the main event, verbatim"
KEY_SENTENCE = "a key sentence, verbatim (its wording did not stand)"


def _verbatim(shown: Sequence[ScoredSentence], i: int, how: str = MAIN_EVENT) -> Claim:
    s = shown[i].sentence
    return Claim(s.text, (i,), ((s.article_id, s.index),), 1.0, (), 0, 0.0, 1.0, how)


_INITIALS = re.compile(r"\b(?:[A-Z]\.){2,}")


def _initials(raw: str, shown: Sequence[ScoredSentence]) -> str:
    """The model's "U. S." written as the sentences write it, "U.S.": spaced, it splits into two sentences."""
    for short in {m for s in shown for m in _INITIALS.findall(s.sentence.text)}:
        raw = raw.replace(". ".join(short.split(".")).strip(), short)
    return raw


def _one_line(value: str) -> str:
    return text.neutral(" ".join(value.split()))


def _continue(emitted: str, final: str) -> Iterator[str]:
    """The rest of the final text, when what was shown is its beginning; else the final text whole."""
    if final.startswith(emitted):
        if len(final) > len(emitted):
            yield final[len(emitted) :]
    else:  # the checks changed what was shown: the final text follows it
        yield f"\n\n{final}"


def _shown(messages: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"[{role}]\n{text}" for role, text in messages)

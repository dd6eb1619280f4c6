"""Whole-article answers written by a chat model: read -> attribute -> decide, as for any question.

The model reads the article(s) in scope as plain text, exactly as a question about them shows them (the
same system message, the same text, then "Question: ..."), so a summary asked after a question about the
article, or after the start's warm-up, is read from the model server's prompt cache: only the request is
new. It writes plain sentences; the code attributes each to the sentence(s) that hold it
(`attribution.attribute`) and keeps those that stand (`decision.decide_summary`: names, numbers and
quotes in their sentences, most of their words too), streaming each as soon as it is checked. A long
article is read in parts of `PART_SENTENCES` sentences: each part is summarised on its own (map), then
the notes are combined into one summary (reduce, `prompts/summary_combine.txt`), so no article is too
long. When no sentence of the model's summary stands, the extractive summary answers instead.

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
from assistant.answering.attribution.citing import Numbering, compose
from assistant.answering.base import Summarizer
from assistant.answering.chat_model import ChatClient, content, stream_text
from assistant.answering.decision.decide import decide_summary
from assistant.answering.prompts import Prompt, Prompts
from assistant.answering.question.intent import Intent
from assistant.answering.reading import text
from assistant.answering.summary.summary import ExtractiveSummarizer, Scope, article_sentences, summary_step
from assistant.answering.thresholds import Thresholds
from assistant.embeddings import Embedder
from assistant.errors import AssistantError
from assistant.providers import translate_provider_error
from assistant.records import Answer, Attribution, Citation, Claim, Query, Reading, ScoredSentence, SummaryStep
from assistant.settings import Settings
from assistant.store import Store

log = logging.getLogger(__name__)

PART_SENTENCES = 60  # about 1,500 words: a part fits the local model's 4,096-token window with room to answer
SUMMARY_MAX_TOKENS = 320
BEGIN, END = "<<<ARTICLE NOTES>>>", "<<<END OF ARTICLE NOTES>>>"
_HEADING = re.compile(r"^\s*(?:#+\s*)?\*\*(.+?)\*\*\s*:?\s*")


@dataclass(frozen=True)
class SummaryModel:
    """The summariser's chat model, from the factory: `connect()` gives the streaming client and where it is (the
    local model's server starts on first use and may come back on another port); `backend` names it in notes;
    `fallback_on`: the errors after which the extractive summary stands in (as for a question's answer)."""

    connect: Callable[[], tuple[ChatClient, str]]
    backend: str
    fallback_on: tuple[type[AssistantError], ...] = ()


def build_summarizer(
    settings: Settings,
    store: Store,
    checker: Embedder,
    model: SummaryModel | None,
    thresholds: Thresholds,
) -> Summarizer:
    """The extractive summariser offline; with a chat model (`model`, from the factory), the model's, falling
    back to the extractive one. `checker` embeds the sentences a summary is checked against (the Assistant's
    `CachedEmbedder`, shared with the answering path)."""
    extractive = ExtractiveSummarizer(store)
    if model is None:
        return extractive
    prompts = Prompts(settings.prompts_dir)  # read now: a missing template fails at start, not mid-chat
    system = prompts.load("read_system")
    request = prompts.load("summary_request", required={"size"})
    combine = prompts.load("summary_combine", required={"notes", "question", "size", "begin", "end"})
    return ModelSummarizer(model, (system, request, combine), extractive, checker, thresholds)


class ModelSummarizer:
    name = "model summary"

    def __init__(
        self,
        model: SummaryModel,
        prompts: tuple[Prompt, Prompt, Prompt],
        extractive: ExtractiveSummarizer,
        embedder: Embedder,
        thresholds: Thresholds,
    ):
        self.model = model
        self.client = model.connect
        self.system, self.request, self.combine = prompts
        self.extractive = extractive
        self.embedder = embedder
        self.thresholds = thresholds

    def summarize(self, question: str, intent: Intent, scope: Sequence[str] | None) -> Iterator[str | SummaryStep]:
        chosen = self.extractive.scope(scope, intent)
        shown = article_sentences(chosen)
        if not shown:
            yield from self.extractive.summarize(question, intent, scope)
            return
        shown_so_far: list[str] = [""]  # the text streamed so far (the fallback continues from it)
        prompts: list[str] = []
        started = time.perf_counter()
        try:
            yield from self._summarize(question, intent, chosen, shown, shown_so_far, prompts)
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
        shown: list[ScoredSentence],
        shown_so_far: list[str],
        prompts: list[str],
    ) -> Iterator[str | SummaryStep]:
        several = len(chosen.articles) > 1
        size = (
            "one short paragraph per article, two or three sentences each"
            if several
            else "a short summary of three to five sentences"
        )
        parts = _parts(shown, PART_SENTENCES)
        if len(parts) == 1:
            messages = self._messages(shown, question, size)
        else:
            notes: list[str] = []
            for part in parts:  # map: each part on its own, as an article in one part is asked
                part_messages = self._messages(part, question, "two or three sentences")
                prompts.append(_shown(part_messages))
                notes.append(
                    f"Part {len(notes) + 1} ({_defuse(part[0].title)}): {_defuse(self._invoke(part_messages))}"
                )
            final_prompt = self.combine.render(
                question=question, size=size, notes="\n".join(notes), begin=BEGIN, end=END
            )
            messages = [("user", final_prompt)]
        prompts.append(_shown(messages))
        prompt = "\n\n----\n\n".join(prompts)
        head = chosen.note if not several else f"{chosen.note}\n".lstrip("\n")
        query = Query(question, question)
        emitted, raw = "", ""
        if head:
            yield head
            emitted = shown_so_far[0] = head
        chat, where = self.client()
        for delta in stream_text(chat, messages, where):  # each sentence is shown once it is checked
            raw += delta
            ready = text.complete(raw)
            if ready:
                so_far = head + self._checked(query, ready, shown, several)[0]
                if so_far.startswith(emitted) and len(so_far) > len(emitted):
                    yield so_far[len(emitted) :]
                    emitted = shown_so_far[0] = so_far
        body, citations, attribution, reason = self._checked(query, raw, shown, several)
        reading = Reading("model summary", raw, prompt=prompt, raw=raw)
        if not citations:
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
        by_key = {(s.sentence.article_id, s.sentence.index): s for s in shown}
        cited = [by_key[(c.article_id, c.sentence_index)] for c in citations]
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

    def _checked(
        self, query: Query, raw: str, shown: list[ScoredSentence], several: bool
    ) -> tuple[str, list[Citation], Attribution, str]:
        """The summary's sentences that stand, each cited; the attribution; why nothing stands (when so)."""
        claims = [c for line in raw.splitlines() for c in text.claims(text.clean(_HEADING.sub("", line)))]
        attribution = attribute(query, claims, shown, self.embedder)
        decided = decide_summary(attribution, shown, self.thresholds)
        if not decided.kept:
            return "", [], attribution, decided.reason
        if several:
            return (*_by_article(decided.kept, shown), attribution, decided.reason)
        body, citations = compose(decided.kept, shown)
        return body, citations, attribution, decided.reason

    def _messages(self, part: Sequence[ScoredSentence], question: str, size: str) -> list[tuple[str, str]]:
        """The question prompt's system message and article text, then the request: a prompt that begins as a
        question's about the same article does, so the model server reads it from its cache."""
        request = self.request.render(size=size)
        return [("system", self.system.render()), ("user", f"{text.plain(part)}\n\nQuestion: {question}\n{request}")]

    def _invoke(self, messages: list[tuple[str, str]]) -> str:
        try:
            return content(self.client()[0].invoke(messages))
        except AssistantError:
            raise
        except Exception as exc:
            raise translate_provider_error(exc) from exc


def _by_article(claims: Sequence[Claim], shown: list[ScoredSentence]) -> tuple[str, list[Citation]]:
    """Several articles: each article's claims after its title in bold, citations numbered across them."""
    groups: dict[str, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.cited[0][0], []).append(claim)
    titles = {s.sentence.article_id: s.title for s in shown}
    numbering = Numbering(shown)
    lines = [f"**{' '.join(titles[a].split())}**: {numbering.text(group)}" for a, group in groups.items()]
    return "\n".join(lines), numbering.citations


def _continue(emitted: str, final: str) -> Iterator[str]:
    """The rest of the final text, when what was shown is its beginning; else the final text whole."""
    if final.startswith(emitted):
        if len(final) > len(emitted):
            yield final[len(emitted) :]
    else:  # the checks changed what was shown: the final text follows it
        yield f"\n\n{final}"


def _parts(shown: list[ScoredSentence], size: int) -> list[list[ScoredSentence]]:
    """Parts of at most `size` sentences; a part never spans two articles."""
    parts: list[list[ScoredSentence]] = []
    for item in shown:
        last = parts[-1] if parts else None
        if last is None or len(last) >= size or last[-1].sentence.article_id != item.sentence.article_id:
            parts.append([])
        parts[-1].append(item)
    return parts


def _shown(messages: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"[{role}]\n{text}" for role, text in messages)


def _defuse(value: str) -> str:
    """One line, and no copy of our delimiters: article text cannot close the data block."""
    value = " ".join(value.split())
    for marker in (BEGIN, END):
        value = value.replace(marker, "[removed]")
    return value.replace("<<<", "‹‹‹").replace(">>>", "›››")

"""Whole-article answers written by a chat model, verified and cited like any answer.

The model sees the article's sentences numbered (every article in scope, numbered across them).
An article that fits in one part is shown exactly as the answer prompt shows it (the same system
message, then the same numbered sentences, then the request), so a summary asked after a question
about the article, or after the start's warm-up, is read from the model server's prompt cache:
only the request is new. A long article is read in parts of `PART_SENTENCES` sentences: each part is
summarised on its own with the same prompt (map; its sentences keep their numbers), then the part notes
are combined into one summary (reduce, `prompts/summary_combine.txt`), so no article is too long. The
result is checked by `verify.verify` against the numbered sentences; when no cited claim survives, the
extractive summary answers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from assistant.answering.answer_text import NOT_IN_ARTICLES, complete_part, continue_with
from assistant.answering.base import Summarizer
from assistant.answering.chat_model import content, stream_text
from assistant.answering.reading.text import numbered as format_sources
from assistant.answering.question.intent import Intent
from assistant.answering.reading.prompts import Prompt, Prompts
from assistant.answering.summary.summary import ExtractiveSummarizer, article_sentences, record_trace
from assistant.answering.verify import Verified, verify
from assistant.errors import AssistantError
from assistant.providers import translate_provider_error
from assistant.records import Answer, Attribution, Claim, ScoredSentence, Trace
from assistant.settings import Settings
from assistant.store import Store

log = logging.getLogger(__name__)

PART_SENTENCES = 60  # about 1,500 words: a part fits the local model's 4,096-token window with room to answer
SUMMARY_MAX_TOKENS = 320
BEGIN, END = "<<<ARTICLE SENTENCES>>>", "<<<END OF ARTICLE SENTENCES>>>"


def build_summarizer(
    settings: Settings, store: Store, checker: Any, client: Callable[[], tuple[Any, str]] | None
) -> Summarizer:
    """The extractive summariser offline; with a chat model (`client`, from the factory), the model's, falling
    back to the extractive one. `checker` embeds the sentences a summary is checked against (the Assistant's
    `CachedEmbedder`, shared with the answerer)."""
    extractive = ExtractiveSummarizer(store)
    if client is None:
        return extractive
    prompts = Prompts(settings.prompts_dir)  # read now: a missing template fails at start, not mid-chat
    combine = prompts.load("summary_combine", required={"notes", "question"})
    system = prompts.load("answer_system", required={"not_found"})
    request = prompts.load("summary_request", required={"question", "size"})
    return ModelSummarizer(client, combine, extractive, checker, (system, request))


class ModelSummarizer:
    name = "model summary"

    def __init__(
        self,
        client: Callable[[], tuple[Any, str]],
        combine: Prompt,
        extractive: ExtractiveSummarizer,
        embedder: Any,
        whole: tuple[Prompt, Prompt],
    ):
        """`client()` gives the streaming chat model and where it is (the local model's server starts on first
        use and may come back on another port)."""
        self.client = client
        self.combine = combine
        self.extractive = extractive
        self.embedder = embedder
        self.system, self.request = whole  # an article in one part: the answer's system message, then a request

    def summarize(
        self, question: str, intent: Intent, scope: Sequence[str] | None, trace: Trace
    ) -> Iterator[str | Answer]:
        chosen = self.extractive.scope(scope, intent)
        shown = article_sentences(chosen)
        if not shown:
            yield from self.extractive.summarize(question, intent, scope, trace)
            return
        several = len(chosen.articles) > 1
        size = (
            "one short paragraph per article, two or three sentences each"
            if several
            else "a short summary of three to five sentences"
        )
        parts = _parts(shown, PART_SENTENCES)
        prompts: list[str] = []
        if len(parts) == 1:
            messages = self._messages(shown, 1, question, size)
        else:
            notes: list[str] = []
            for first, part in parts:  # map: each part on its own, as an article in one part is asked, numbers kept
                part_messages = self._messages(part, first, question, "two or three sentences")
                prompts.append(_shown(part_messages))
                notes.append(f"Part {len(notes) + 1} ({_defuse(part[0].title)}): {self._invoke(part_messages)}")
            final_prompt = self.combine.render(
                question=question, size=size, notes="\n".join(notes), begin=BEGIN, end=END
            )
            messages = [("user", final_prompt)]
        prompts.append(_shown(messages))
        trace.prompt = "\n\n----\n\n".join(prompts)
        head = chosen.note if not several else f"{chosen.note}\n".lstrip("\n")
        emitted, raw = "", ""
        if head:
            yield head
            emitted = head
        chat, where = self.client()
        for delta in stream_text(chat, messages, where):  # only checked sentences are shown
            raw += delta
            ready = complete_part(raw)
            so_far = head + verify(ready, shown, self.embedder).text if ready else ""
            if so_far.startswith(emitted) and len(so_far) > len(emitted):
                yield so_far[len(emitted) :]
                emitted = so_far
        checked = verify(raw, shown, self.embedder)
        trace.raw_model_output, trace.attribution = raw, _attribution(checked, shown)
        if checked.refused or not checked.citations:
            reason = (
                "the model said the articles do not answer"
                if checked.refused
                else "no sentence of the model's summary is supported by the article"
            )
            log.info("falling back to the extractive summary: %s", reason)
            final = self.extractive.compose(intent, chosen, trace)
            trace.notes.append(f"The model's summary could not stand ({reason}); the extractive summary was given.")
            trace.decision.method = "summary (extractive fallback)"
            yield from continue_with(emitted, final.text)
            yield final
            return
        cited = [
            s
            for c in checked.citations
            for s in shown
            if (s.sentence.article_id, s.sentence.index) == (c.article_id, c.sentence_index)
        ]
        record_trace(trace, intent, chosen, cited, method="summary (model, verified)")
        text = head + checked.text
        yield from continue_with(emitted, text)
        yield Answer(text, checked.citations, True)

    def _messages(self, part: list[ScoredSentence], first: int, question: str, size: str) -> list[tuple[str, str]]:
        """The answer's system message, then the sentences (numbered from `first`) and the request: a prompt that
        begins as an answer's does, so the model server reads it from its cache."""
        request = self.request.render(question=question, size=size)
        return [
            ("system", self.system.render(not_found=NOT_IN_ARTICLES)),
            ("user", f"{format_sources(part, first)}\n\n{request}"),
        ]

    def _invoke(self, messages: list[tuple[str, str]]) -> str:
        try:
            return content(self.client()[0].invoke(messages))
        except AssistantError:
            raise
        except Exception as exc:
            raise translate_provider_error(exc) from exc


def _attribution(checked: Verified, shown: list[ScoredSentence]) -> Attribution:
    """The verdict on each sentence of the model's summary, as the trace records claims."""
    claims = []
    for v in checked.support:
        kept = tuple(n - 1 for n in v["kept"] if 1 <= n <= len(shown))
        keys = tuple((shown[i].sentence.article_id, shown[i].sentence.index) for i in kept)
        score = float(v.get("score") or 0.0)
        claims.append(Claim(v["sentence"], kept, keys, float(v.get("overlap") or 0.0), (), 0, score, float(v.get("cosine") or 0.0), v["verdict"]))
    return Attribution(tuple(claims))


def _parts(shown: list[ScoredSentence], size: int) -> list[tuple[int, list[ScoredSentence]]]:
    """(first number, sentences) of parts of at most `size` sentences; a part never spans two articles."""
    parts: list[tuple[int, list[ScoredSentence]]] = []
    for n, item in enumerate(shown, 1):
        last = parts[-1][1] if parts else None
        if last is None or len(last) >= size or last[-1].sentence.article_id != item.sentence.article_id:
            parts.append((n, []))
        parts[-1][1].append(item)
    return parts


def _shown(messages: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"[{role}]\n{text}" for role, text in messages)


def _defuse(text: str) -> str:
    """One line, and no copy of our delimiters: article text cannot close the data block."""
    text = " ".join(text.split())
    for marker in (BEGIN, END):
        text = text.replace(marker, "[removed]")
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")

"""Answering with a chat model (OpenAI, the local model, any OpenAI-compatible server).

retrieval -> show the top sentences, numbered, grouped by article -> stream the model's answer ->
verify it in code (`verify.py`) -> the final `Answer`, or the extractive answer when the model's
citations cannot stand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.answering.chat_model import stream_text
from assistant.answering.citing import NOT_FOUND
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.model_condense import history_text
from assistant.answering.prompts import Prompt
from assistant.answering.retrieval import Retrieval
from assistant.answering.verify import NOT_IN_ARTICLES, verify
from assistant.records import Answer, ScoredSentence, Trace, Turn

log = logging.getLogger(__name__)

SHOWN = 10  # sentences the model sees
BEGIN, END = "<<<ARTICLE SENTENCES>>>", "<<<END OF ARTICLE SENTENCES>>>"


class ModelAnswerer:
    def __init__(self, name: str, backend: str, chat: Any, where: str, system_prompt: Prompt, user_prompt: Prompt,
                 extractive: ExtractiveAnswerer, embedder: Any):
        self.name, self.backend, self.where = name, backend, where
        self.chat = chat
        self.system_prompt, self.user_prompt = system_prompt, user_prompt
        self.extractive = extractive
        self.embedder = embedder

    def answer(self, retrieval: Retrieval, turns: list[Turn], trace: Trace) -> Iterator[str | Answer]:
        shown = arrange(retrieval.sentences[:SHOWN])
        decision = trace.decision
        if not shown:
            decision.outcome, decision.method, decision.reason = "refused", "model", "nothing was retrieved"
            yield NOT_FOUND
            yield Answer(NOT_FOUND, [], False)
            return
        messages = self.messages(retrieval.query.standalone, turns, shown)
        trace.prompt = "\n\n".join(f"[{role}]\n{text}" for role, text in messages)
        raw: list[str] = []
        held: str | None = ""  # the refusal token is held back rather than shown
        for delta in stream_text(self.chat, messages, self.where):
            raw.append(delta)
            if held is None:
                yield delta
                continue
            held += delta
            if not NOT_IN_ARTICLES.startswith(held.strip().upper()[: len(NOT_IN_ARTICLES)]) and held.strip():
                yield held
                held = None
        raw_text = "".join(raw)
        checked = verify(raw_text, shown, self.embedder)
        trace.raw_model_output, trace.support = raw_text, checked.support
        trace.quotes, trace.dropped_markers = checked.quotes, checked.dropped
        if checked.dropped:
            log.info("dropped markers never shown to the model: %s", checked.dropped)
        if checked.refused:
            answer = Answer(NOT_FOUND, [], False)
            decision.outcome, decision.method = "refused", "model"
            decision.reason = "the model said the articles do not answer"
        elif checked.fallback:
            answer = self.extractive.decide(retrieval, decision)
            decision.method = "extractive fallback"
            trace.fallback = checked.fallback
            log.info("falling back to the extractive answer: %s", checked.fallback)
        else:
            answer = Answer(checked.text, checked.citations, True)
            decision.outcome, decision.method, decision.reason = "answered", "model", "the model's answer, verified"
        if held is not None:  # nothing was shown: the output was empty or (a prefix of) the refusal token
            yield answer.text
        yield answer

    def messages(self, question: str, turns: list[Turn], shown: list[ScoredSentence]) -> list[tuple[str, str]]:
        system = self.system_prompt.render(not_found=NOT_IN_ARTICLES, begin=BEGIN, end=END)
        conversation = f"Earlier conversation (for context only):\n{history_text(turns)}\n\n" if turns else ""
        user = self.user_prompt.render(conversation=conversation, sources=format_sources(shown),
                                       question=question, not_found=NOT_IN_ARTICLES, begin=BEGIN, end=END)
        return [("system", system), ("user", user)]


def arrange(ranked: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """Group by article (best-ranked article first), sentences in article order, for readability."""
    first_rank: dict[str, int] = {}
    for rank, item in enumerate(ranked):
        first_rank.setdefault(item.sentence.article_id, rank)
    return sorted(ranked, key=lambda s: (first_rank[s.sentence.article_id], s.sentence.index))


def format_sources(shown: Sequence[ScoredSentence]) -> str:
    """`[n] (Title) sentence`, one per line, a blank line between articles; delimiters defused."""
    lines: list[str] = []
    for n, item in enumerate(shown, 1):
        if n > 1 and item.sentence.article_id != shown[n - 2].sentence.article_id:
            lines.append("")
        lines.append(f"[{n}] ({_defuse(item.title)}) {_defuse(item.sentence.text)}")
    return "\n".join(lines)


def _defuse(text: str) -> str:
    """One line, and no copy of our delimiters: article text cannot close the data block."""
    text = " ".join(text.split())
    for marker in (BEGIN, END):
        text = text.replace(marker, "[removed]")
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")

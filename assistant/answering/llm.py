"""Answering with a chat model (OpenAI or any OpenAI-compatible server) through `langchain_openai`.

condense (with history) -> retrieve -> show the top sentences, numbered -> stream the model's
answer -> verify it in code (`verify.py`) -> the final `Answer`, or the extractive answer when
the model's citations cannot stand. Provider exceptions become our errors here, in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.answering.citing import MARKER, NOT_FOUND
from assistant.answering.condense import offline_query
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.prompts import Prompts
from assistant.answering.retrieval import Retriever
from assistant.answering.verify import NOT_IN_ARTICLES, verify
from assistant.errors import (
    AssistantError,
    ModelUnavailableError,
)
from assistant.providers import translate_provider_error
from assistant.records import Answer, Query, ScoredSentence, Turn
from assistant.settings import Settings

log = logging.getLogger(__name__)

SHOWN = 10  # sentences the model sees
ANSWER_MAX_TOKENS = 384
CONDENSE_MAX_TOKENS = 96
CONDENSE_MAX_CHARS = 300  # a longer "standalone question" is junk (an answer, a ramble)
HISTORY_TURNS = 3
BEGIN, END = "<<<ARTICLE SENTENCES>>>", "<<<END OF ARTICLE SENTENCES>>>"


def build_chat_model(settings: Settings, *, streaming: bool, max_tokens: int):
    """The one place a chat model client is made."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=settings.chat_model, api_key=settings.openai_api_key or "not-needed",
                      base_url=settings.openai_base_url, timeout=settings.request_timeout,
                      max_retries=settings.max_retries, temperature=0, streaming=streaming,
                      max_tokens=max_tokens)


class LLMAnswerer:
    def __init__(self, settings: Settings, extractive: ExtractiveAnswerer, embedder: Any):
        self.settings = settings
        self.extractive = extractive
        self.embedder = embedder
        self.backend = f"chat model {settings.chat_model}"
        prompts = Prompts(settings.prompts_dir)  # read now: a missing template fails at start, not mid-chat
        self.system_prompt = prompts.load("answer_system", required={"not_found"})
        self.user_prompt = prompts.load("answer_user", required={"sources", "question"})
        self.condense_prompt = prompts.load("condense", required={"history", "question"})
        self.chat = build_chat_model(settings, streaming=True, max_tokens=ANSWER_MAX_TOKENS)
        self.condenser = build_chat_model(settings, streaming=False, max_tokens=CONDENSE_MAX_TOKENS)

    def stream(self, question: str, turns: list[Turn], retriever: Retriever,
               article_ids: Sequence[str] | None, started: float) -> Iterator[str | Answer]:
        query, condensing = self.condense(question, turns)
        retrieval = retriever.retrieve(query, article_ids)
        shown = arrange(retrieval.sentences[:SHOWN])
        trace: dict[str, Any] = {"standalone_question": query.standalone, "context": query.context,
                                 "condense": condensing, "backend": self.backend, **retrieval.trace()}
        if not shown:
            trace.update(prompt=None, raw_model_output=None, support=[], dropped_markers=[],
                         decision="nothing was retrieved; the model was not asked")
            yield NOT_FOUND
            yield _final(Answer(NOT_FOUND, [], False), trace, started)
            return
        messages = self.messages(query, turns, shown)
        trace["prompt"] = "\n\n".join(f"[{role}]\n{text}" for role, text in messages)
        raw: list[str] = []
        held = ""  # the refusal token is held back rather than shown
        for delta in self._generate(messages):
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
        trace.update(raw_model_output=raw_text, support=checked.support, quotes=checked.quotes,
                     dropped_markers=checked.dropped)
        if checked.dropped:
            log.info("dropped markers never shown to the model: %s", checked.dropped)
        if checked.refused:
            answer = Answer(NOT_FOUND, [], False)
            trace["decision"] = "the model said the articles do not answer"
        elif checked.fallback:
            answer = self.extractive.answer(retrieval)
            trace.update(fallback=checked.fallback, **answer.trace)
            log.info("falling back to the extractive answer: %s", checked.fallback)
        else:
            answer = Answer(checked.text, checked.citations, True)
            trace["decision"] = "the model's answer, verified"
        if held is not None:  # nothing was shown: the output was empty or (a prefix of) the refusal token
            yield answer.text
        yield _final(answer, trace, started)

    # ---- steps
    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, dict[str, Any]]:
        """A standalone question from the model; on failure or junk, the question plus context."""
        if not turns:
            return Query(question, question, ""), {"used": False, "reason": "no history"}
        prompt = self.condense_prompt.render(history=_history(turns), question=question)
        info: dict[str, Any] = {"prompt": prompt}
        try:
            reply = self.condenser.invoke([("user", prompt)])
            text = _content(reply)
        except Exception as exc:  # any failure: answer anyway, the answer call reports lasting errors
            info.update(used=False, reason=f"condense call failed: {translate_provider_error(exc)}")
            return offline_query(question, turns), info
        standalone = _clean_condensed(text)
        info["raw"] = text
        if not standalone or len(standalone) > CONDENSE_MAX_CHARS or NOT_IN_ARTICLES in standalone:
            info.update(used=False, reason="the model's standalone question was empty or too long")
            return offline_query(question, turns), info
        info["used"] = True
        return Query(question, standalone, ""), info

    def messages(self, query: Query, turns: list[Turn], shown: list[ScoredSentence]) -> list[tuple[str, str]]:
        system = self.system_prompt.render(not_found=NOT_IN_ARTICLES, begin=BEGIN, end=END)
        conversation = f"Earlier conversation (for context only):\n{_history(turns)}\n\n" if turns else ""
        user = self.user_prompt.render(conversation=conversation, sources=format_sources(shown),
                                       question=query.standalone, not_found=NOT_IN_ARTICLES,
                                       begin=BEGIN, end=END)
        return [("system", system), ("user", user)]

    def _generate(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        finished = False
        try:
            for chunk in self.chat.stream(messages):
                finished = finished or bool((getattr(chunk, "response_metadata", None) or {}).get("finish_reason"))
                text = _content(chunk)
                if text:
                    yield text
        except AssistantError:
            raise
        except Exception as exc:
            raise translate_provider_error(exc) from exc
        if not finished:  # the stream stopped without saying it was done: a cut-off answer is not an answer
            raise ModelUnavailableError(
                f"the chat model at {self.settings.openai_base_url or 'api.openai.com'} stopped in the middle of "
                "its answer (the connection closed); try again, and check the model server if it keeps happening"
            )


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


def _history(turns: list[Turn]) -> str:
    lines = []
    for q, a in turns[-HISTORY_TURNS:]:
        lines.append(f"User: {' '.join(q.split())}")
        if a:
            lines.append(f"Assistant: {' '.join(MARKER.sub('', a).split())[:600]}")
    return "\n".join(lines)


def _content(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, list):  # content blocks
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return content or ""


def _clean_condensed(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    for prefix in ("standalone question:", "question:"):
        if line.lower().startswith(prefix):
            line = line[len(prefix):].strip()
    return line.strip(" \"'“”")


def _final(answer: Answer, trace: dict[str, Any], started: float) -> Answer:
    latency = round((time.perf_counter() - started) * 1000, 1)
    trace = {**trace, "answered": answer.answered, "latency_ms": latency}
    return replace(answer, trace=trace)

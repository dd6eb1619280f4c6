"""Answering with a chat model (OpenAI, the bundled local model, any OpenAI-compatible server).

retrieval -> what the model reads (`context.choose`: whole short articles, else the best
sentences, numbered, grouped by article) -> stream the model's answer, showing each sentence only
once it has passed the checks -> verify it in code (`verify.py`) -> decide in code:

- the model's answer stands when at least one of its sentences is supported by a shown sentence
  and the sentences it rests on address the question (extractive confidence >= `RELEVANCE_BAR`,
  less the extractive answerer's `FOLLOW_UP_DISCOUNT` for a follow-up: a question that leans on the
  conversation ("How did he kill them?") shares few words with the sentence that answers it; on the
  three eval sets this gate refused only answerable CoQA follow-ups, never a standalone question);
- otherwise the answer is "the articles don't say", even when the model wrote something: a small
  model answers questions the articles cannot answer;
- the model's own "NOT_IN_ARTICLES" is overruled when the best retrieved sentence answers the
  question with high confidence (`OVERRULE_BAR`). The model is then asked once more, pointed at
  that sentence (`prompts/answer_again.txt`, after the question; the server reads the rest from
  its cache, so this costs about a second), and its answer, checked like any other, is given
  ("model, asked again"): a few words instead of a whole sentence. When it refuses again or
  nothing supports its answer, the extractive answer is given. (Asking again below that bar, from
  0.80, answered 5 unanswerable SQuAD questions and no answerable one in 25: the model then reads
  the question into the sentence, "Gregory VII opposed Robert's campaign" for a pope who
  consented.);
- when the model server times out (or, for the local model, dies), the extractive answer is given
  with a note saying so.
The trace records which of these happened (`decision.method` and `decision.reason`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.answering.retrieval import context
from assistant.answering.answer_text import NOT_IN_ARTICLES, complete_part, continue_with
from assistant.answering.chat_model import limited, stream_text
from assistant.answering.attribution.citing import NOT_FOUND
from assistant.answering.extractive import FOLLOW_UP_DISCOUNT, ExtractiveAnswerer, confidence
from assistant.answering.question.model_condense import history_text
from assistant.answering.reading.prompts import Prompt
from assistant.answering.retrieval.retriever import Retrieval, Retriever
from assistant.answering.verify import Verified, verify
from assistant.errors import AssistantError, ModelRateLimitError, ModelTimeoutError, ModelUnavailableError
from assistant.records import Answer, ScoredSentence, Trace, Turn

log = logging.getLogger(__name__)

RELEVANCE_BAR = 0.55  # the cited sentences must address the question this well (extractive confidence)
OVERRULE_BAR = 1.05  # a model's refusal gives way to an extractive answer this confident


class ModelAnswerer:
    def __init__(
        self,
        name: str,
        backend: str,
        make_chat: Callable[[str | None], Any],
        base_url: str | None,
        prompts: tuple[Prompt, Prompt, Prompt],
        extractive: ExtractiveAnswerer,
        embedder: Any,
        retriever: Retriever,
        *,
        deadline_s: float,
        retries: int = 2,
        fallback_on: tuple[type[AssistantError], ...] = (ModelTimeoutError,),
        connect: Callable[[], str] | None = None,
    ):
        """`make_chat(base_url)` builds the streaming chat client; `connect()`, when given, is called before each
        answer and returns the server's base URL (the local model's server starts on first use, and may come
        back on another port after a crash)."""
        self.name, self.backend = name, backend
        self.make_chat, self.base_url = make_chat, base_url
        self.chat = make_chat(base_url) if connect is None else None
        self.where = base_url or "api.openai.com"
        self.system_prompt, self.user_prompt, self.again_prompt = prompts
        self.extractive = extractive
        self.embedder = embedder
        self.retriever = retriever
        self.deadline_s, self.retries = deadline_s, retries
        self.fallback_on = fallback_on
        self.connect = connect
        self._chat_lock = threading.Lock()

    def answer(self, retrieval: Retrieval, turns: list[Turn], trace: Trace) -> Iterator[str | Answer]:
        shown = context.choose(retrieval, self.retriever)
        decision = trace.decision
        decision.method = "model"
        if not shown:
            decision.outcome, decision.reason = "refused", "nothing was retrieved; the model was not asked"
            yield NOT_FOUND
            yield Answer(NOT_FOUND, [], False)
            return
        question = retrieval.query.standalone
        messages = self.messages(question, turns, shown)
        trace.prompt = "\n\n".join(f"[{role}]\n{text}" for role, text in messages)
        raw = ""
        emitted = ""
        began = time.monotonic()
        try:
            chat = self._client()
            for raw in self._generate(chat, messages):
                ready = complete_part(raw)
                if ready and len(ready) > len(emitted):
                    so_far = verify(ready, shown, self.embedder, question).text
                    if so_far.startswith(emitted) and len(so_far) > len(emitted):
                        yield so_far[len(emitted) :]
                        emitted = so_far
        except self.fallback_on as exc:
            trace.raw_model_output = raw
            final = self._fallback(retrieval, trace, f"the model did not finish its answer ({exc})")
            note = (
                f"Note: the language model ({self.backend}) did not answer in time or stopped, so this is "
                "the offline answer."
            )
            yield from continue_with(emitted, f"{note}\n\n{final.text}")
            yield Answer(f"{note}\n\n{final.text}", final.citations, final.answered)
            return
        trace.raw_model_output = raw
        checked = verify(raw, shown, self.embedder, question)
        decided: Answer | None = None
        if checked.refused:
            left = self.deadline_s - (time.monotonic() - began)
            again = self._ask_again(chat, messages, left, retrieval, shown, trace)
            if again is not None and not again.refused:
                decided = self._decide(retrieval, shown, again, trace)
                if decided.answered:
                    trace.decision.method = trace.decision.method.replace("model", "model, asked again", 1)
                    checked = again
                else:
                    decided = None  # the refusal stands, and is weighed as before
                    trace.decision.method = "model"
        trace.support, trace.quotes, trace.dropped_markers = checked.support, checked.quotes, checked.dropped
        if decided is None:
            decided = self._decide(retrieval, shown, checked, trace)
        yield from continue_with(emitted, decided.text)
        yield decided

    # ---- steps
    def messages(self, question: str, turns: list[Turn], shown: list[ScoredSentence]) -> list[tuple[str, str]]:
        system = self.system_prompt.render(not_found=NOT_IN_ARTICLES)
        conversation = f"Earlier conversation:\n{history_text(turns)}\n\n" if turns else ""
        user = self.user_prompt.render(
            sources=context.format_sources(shown), conversation=conversation, question=question
        )
        return [("system", system), ("user", user)]

    def warm_up(self, prime: Retrieval | None = None) -> None:
        """Start the model server now (the web chat does this at start), so the first question does not wait.

        With `prime` (a retrieval for the article a first question is most likely about), the model also reads
        the prompt such a question starts with, up to the question itself, and writes one token: the model
        server keeps what it read, so the first question's prompt is read from its cache, not from scratch
        (on 2 cores reading a 700-word article takes ~10 s)."""
        try:
            chat = self._client()
            # only a model server of our own (`connect`) keeps what it read for the next request; a remote API
            # would be billed for reading it and is not asked
            shown = context.choose(prime, self.retriever) if prime is not None and self.connect is not None else []
            if shown:
                started = time.monotonic()
                for _ in stream_text(limited(chat, 1), self.messages("", [], shown), self.where):
                    pass
                log.info(
                    "the model read %d sentences ahead of the first question in %.1f s",
                    len(shown),
                    time.monotonic() - started,
                )
        except AssistantError as exc:  # the first question will fall back and say why
            log.warning("the model could not be started ahead of the first question: %s", exc)

    def _client(self) -> Any:
        if self.connect is None:
            return self.chat
        url = self.connect()
        with self._chat_lock:
            if self.chat is None or url != self.base_url:
                self.chat, self.base_url, self.where = self.make_chat(url), url, url
            return self.chat

    def _generate(self, chat: Any, messages: list[tuple[str, str]], budget_s: float | None = None) -> Iterator[str]:
        """The model's text so far, after each delta. The answer as a whole is bounded by `deadline_s` (or what is
        left of it, `budget_s`);
        a refused or failed call is tried again (`retries`) only while no text has come and time is left."""
        started, text, attempt = time.monotonic(), "", 0
        deadline = self.deadline_s if budget_s is None else budget_s
        while True:
            try:
                for delta in stream_text(chat, messages, self.where):
                    text += delta
                    yield text
                    if time.monotonic() - started > deadline:
                        raise ModelTimeoutError(f"no complete answer within {self.deadline_s:g} s")
                return
            except (ModelRateLimitError, ModelUnavailableError):
                pause = 0.5 * 2**attempt
                if text or attempt >= self.retries or time.monotonic() - started + pause > deadline:
                    raise
                attempt += 1
                time.sleep(pause)

    def _ask_again(
        self,
        chat: Any,
        messages: list[tuple[str, str]],
        left_s: float,
        retrieval: Retrieval,
        shown: list[ScoredSentence],
        trace: Trace,
    ) -> Verified | None:
        """After a refusal: when the best retrieved sentence answers the question with confidence >= OVERRULE_BAR
        and was shown, the model is asked once more, pointed at it, within what is left of the answer's time
        (`left_s`; not when under a quarter of it is left); its answer, checked (None: not asked, or failed)."""
        best = retrieval.sentences[0] if retrieval.sentences else None
        if best is None:
            return None
        score = confidence(best, bool(retrieval.query.context))
        key = (best.sentence.article_id, best.sentence.index)
        number = next((n for n, s in enumerate(shown, 1) if (s.sentence.article_id, s.sentence.index) == key), 0)
        if score < OVERRULE_BAR or not number or left_s < self.deadline_s / 4:
            return None
        request = self.again_prompt.render(number=number)
        trace.asked_again = {"pointed_at": number, "confidence": round(score, 4), "request": request}
        # the same messages, the request after the question: the server reads all but the request from its cache;
        # not as a reply to the refusal, which the model only repeats, and without the option to refuse, which it
        # takes again (measured: docs/evaluation.md)
        (system_role, system), (user_role, user) = messages
        text = ""
        started = time.perf_counter()
        try:
            for so_far in self._generate(chat, [(system_role, system), (user_role, f"{user}\n\n{request}")], left_s):
                text = so_far
        except AssistantError as exc:  # the first answer's refusal stands
            trace.asked_again["error"] = str(exc)
            return None
        finally:
            trace.timings_ms["ask_again"] = round((time.perf_counter() - started) * 1000, 1)
        trace.asked_again["raw"] = text
        return verify(text, shown, self.embedder, retrieval.query.standalone)

    def _decide(self, retrieval: Retrieval, shown: list[ScoredSentence], checked: Verified, trace: Trace) -> Answer:
        decision = trace.decision
        follow_up = bool(retrieval.query.context)
        if checked.refused:
            best = retrieval.sentences[0] if retrieval.sentences else None
            score = confidence(best, follow_up) if best else 0.0
            decision.confidence, decision.threshold = round(score, 4), OVERRULE_BAR
            if score >= OVERRULE_BAR:
                answer = self.extractive.decide(retrieval, decision)
                decision.method = "extractive, overruling the model"
                decision.reason = (
                    f"the model said the articles do not answer, but a sentence answers the question "
                    f"with confidence {score:.2f} >= {OVERRULE_BAR}"
                )
                return answer
            decision.outcome = "refused"
            decision.reason = "the model said the articles do not answer, and no sentence clearly does"
            return Answer(NOT_FOUND, [], False)
        if not checked.citations:
            decision.outcome = "refused"
            decision.reason = "no sentence of the model's answer is supported by the articles it was shown"
            return Answer(NOT_FOUND, [], False)
        cited = {(c.article_id, c.sentence_index) for c in checked.citations}
        relevance = max(confidence(s, follow_up) for s in shown if (s.sentence.article_id, s.sentence.index) in cited)
        bar = round(RELEVANCE_BAR - (FOLLOW_UP_DISCOUNT if follow_up else 0.0), 4)
        decision.confidence, decision.threshold = round(relevance, 4), bar
        if relevance < bar:
            decision.outcome = "refused"
            decision.reason = (
                f"the sentences the model's answer rests on do not address the question "
                f"(confidence {relevance:.2f} < {bar})"
            )
            return Answer(NOT_FOUND, [], False)
        decision.outcome = "answered"
        if checked.cited_in_code:
            decision.method = "model, cited in code"
        parts = [f"{len(checked.citations)} cited sentence(s) support it"]
        if checked.cited_in_code:
            parts.append(f"the code picked the citation of {checked.cited_in_code} answer sentence(s)")
        if checked.removed:
            parts.append(f"{checked.removed} unsupported sentence(s) removed")
        decision.reason = "the model's answer, verified: " + "; ".join(parts)
        return Answer(checked.text, checked.citations, True)

    def _fallback(self, retrieval: Retrieval, trace: Trace, why: str) -> Answer:
        answer = self.extractive.decide(retrieval, trace.decision)
        trace.decision.method = "extractive fallback"
        trace.decision.reason = f"{why}; {trace.decision.reason}"
        trace.fallback = why
        trace.notes.append(f"The model ({self.backend}) failed: {why}. The offline answer was given instead.")
        log.warning("falling back to the extractive answer: %s", why)
        return answer

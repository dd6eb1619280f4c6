"""The model reader: a chat model (OpenAI, the bundled local model, any OpenAI-compatible server) reads
what retrieval chose and answers in a few words. It does not cite and is not offered a way out: asked
"answer, or write NOT_IN_TEXT", the local model refused 45% of SQuAD questions whose answer it was shown
(docs/evaluation.md, "Reading"); whether its answer stands is decided in code from the evidence. When it
still says the articles do not say, that is its reading (`Reading.refused`).

The prompt begins with the articles and ends with the question, so a second question about the same
article is read from the model server's prompt cache (only the question is new). The answer as a whole
is bounded by `deadline_s`; a failed call is tried again only while no text has come and time is left.
A model that cannot answer gives a `Reading` with its `failure`, and the extractive reader stands in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence

from assistant.answering.question.model_condense import history_text
from assistant.answering.reading import text
from assistant.errors import AssistantError, ModelRateLimitError, ModelTimeoutError, ModelUnavailableError
from assistant.llm.chat_model import ChatClient, ConnectedChat, Message, limited, stream_text
from assistant.llm.prompts import Prompt
from assistant.records import Query, Reading, ScoredSentence, Turn

log = logging.getLogger(__name__)
_CUT = "\x00"  # where the question goes: the warm-up's prompt ends just before it


class ModelReader:
    def __init__(
        self,
        name: str,
        backend: str,
        make_chat: Callable[[str | None], ChatClient],
        base_url: str | None,
        prompts: tuple[Prompt, Prompt],
        *,
        deadline_s: float,
        retries: int = 2,
        fallback_on: tuple[type[AssistantError], ...] = (ModelTimeoutError,),
        connect: Callable[[], str] | None = None,
    ):
        """`make_chat(base_url)` builds the streaming chat client; `connect()`, when given, is called before each
        reading and returns the server's base URL (the local model's server starts on first use, and may come
        back on another port after a crash): `chat` is then a `ConnectedChat`, the client made again when the
        address changes. `fallback_on`: the errors after which the extractive reader stands in (others reach the
        person who asked)."""
        self.name, self.backend = name, backend
        self.make_chat = make_chat
        self.chat: ChatClient = make_chat(base_url) if connect is None else ConnectedChat(connect, make_chat)
        self.where = base_url or "api.openai.com"
        self.system, self.user = prompts
        self.deadline_s, self.retries = deadline_s, retries
        self.fallback_on = fallback_on

    def messages(self, query: Query, turns: Sequence[Turn], shown: Sequence[ScoredSentence]) -> list[tuple[str, str]]:
        conversation = f"Earlier conversation:\n{history_text(list(turns))}\n\n" if turns else ""
        user = self.user.render(articles=text.plain(shown), conversation=conversation, question=query.standalone)
        return [("system", self.system.render()), ("user", user)]

    def read(self, query: Query, turns: Sequence[Turn], shown: Sequence[ScoredSentence]) -> Reading:
        """The model's answer to the question, having read `shown`."""
        if not shown:
            return Reading(self.name, "", refused=True, failure=None)
        messages = self.messages(query, turns, shown)
        prompt = "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
        started, raw = time.perf_counter(), ""
        try:
            for so_far in self._generate(self._client(), messages):
                raw = so_far
        except self.fallback_on as exc:
            log.warning("the model could not read: %s", exc)
            return Reading(
                self.name, "", prompt=prompt, raw=raw, failure=str(exc), seconds=time.perf_counter() - started
            )
        answer = text.clean(raw)
        refused = not answer or text.is_refusal(answer)
        return Reading(
            self.name,
            "" if refused else answer,
            refused=refused,
            prompt=prompt,
            raw=raw,
            seconds=time.perf_counter() - started,
        )

    def again(
        self, query: Query, turns: Sequence[Turn], shown: Sequence[ScoredSentence], *, temperature: float, seed: int
    ) -> str:
        """The model's answer to the same prompt once more, sampled at `temperature` with `seed` (a server of our own
        reads the prompt from its cache: only the answer's tokens cost). Raises what the call raised."""
        bound = self._client().bind(temperature=temperature, seed=seed)
        return text.clean(bound.invoke(self.messages(query, turns, shown)))

    def warm_up(self, shown: Sequence[ScoredSentence] = ()) -> None:
        """Start the model server now (the web chat does this at start), so the first question does not wait.

        With `shown` (what a first question about the newest article would be shown), the model also reads the
        prompt such a question starts with, up to the question itself, and writes one token: the server keeps
        what it read, so the first question is read from its cache (on 2 cores reading a 700-word article takes
        ~10 s). Only a model server of our own (`connect`) keeps it; a remote API would be billed and is not
        asked."""
        try:
            chat = self._client()
            if shown and isinstance(self.chat, ConnectedChat):
                started = time.monotonic()
                (system_role, system), (user_role, user) = self.messages(Query(_CUT, _CUT), [], shown)
                ahead = [(system_role, system), (user_role, user.split(_CUT, 1)[0].rstrip())]
                for _ in stream_text(limited(chat, 1), ahead, self.where):
                    pass
                log.info(
                    "the model read %d sentences ahead of the first question in %.1f s",
                    len(shown),
                    time.monotonic() - started,
                )
        except AssistantError as exc:  # the first question will fall back and say why
            log.warning("the model could not be started ahead of the first question: %s", exc)

    def _client(self) -> ChatClient:
        """The client to read with: a server of our own connected first (`where` then says where it runs)."""
        if not isinstance(self.chat, ConnectedChat):
            return self.chat
        chat, self.where = self.chat.connected()
        return chat

    def _generate(self, chat: ChatClient, messages: Sequence[Message]) -> Iterator[str]:
        """The model's text so far, after each delta, within `deadline_s`; a refused or failed call is tried
        again (`retries`) only while no text has come and time is left."""
        started, so_far, attempt, first = time.monotonic(), "", 0, None
        while True:
            try:
                for delta in stream_text(chat, messages, self.where):
                    so_far += delta
                    first = time.monotonic() - started if first is None else first
                    yield so_far
                    if time.monotonic() - started > self.deadline_s:  # time before the first words counts too
                        raise ModelTimeoutError(
                            f"no complete answer within {self.deadline_s:g} s (ASSISTANT_REQUEST_TIMEOUT; "
                            f"its first words came after {first:.0f} s)"
                        )
                return
            except (ModelRateLimitError, ModelUnavailableError):
                pause = 0.5 * 2**attempt
                if so_far or attempt >= self.retries or time.monotonic() - started + pause > self.deadline_s:
                    raise
                attempt += 1
                time.sleep(pause)

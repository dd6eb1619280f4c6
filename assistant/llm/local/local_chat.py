"""The local model's chat client: each request marked in flight, and its failures said in the local model's words.

Every call (`invoke`, `stream`) is one request in flight (`RuntimeFiles.in_flight`): the activity file is touched
before it is sent, while its answer streams (at most once a second) and after it ends, and the server's idle watchdog
does not stop the server while a marker is there, so a short ASSISTANT_MODEL_KEEP_ALIVE never cuts an answer short.

A failure names the local model, never OPENAI_BASE_URL (a setting that has nothing to do with it):

- the server cannot be reached or drops the connection (stopped, killed, crashed): it says so, and that the server
  is started again for the next question;
- no answer in time. llama.cpp answers one request at a time (the others wait in its queue, see
  `ServerConfig.arguments`), and the time a request waits there counts against its timeout
  (ASSISTANT_REQUEST_TIMEOUT): a person waits for the answer, not for the model, and an answer that comes long after
  the question is no better for having waited in a queue. So when another request of ours was in flight when this
  one was sent, or still is when it times out (the in-flight markers of every process on this machine), the message
  says the model was busy with it, and how long this one waited without a word.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.errors import AssistantError, ModelTimeoutError, ModelUnavailableError
from assistant.llm.chat_model import ChatClient, Chunk, Message, Scored
from assistant.llm.local.runtime import InFlight, RuntimeFiles
from assistant.providers import translate_provider_error


class LocalChat:
    """A chat client of the local model's server at `where` (wrapping the LangChain client `chat`, see
    `chat_model.LangChainChat`)."""

    def __init__(self, chat: ChatClient, files: RuntimeFiles, where: str, timeout: float, log_path: Path | None = None):
        self.chat, self.files, self.where, self.timeout, self.log_path = chat, files, where, timeout, log_path

    def bind(
        self, *, max_tokens: int | None = None, seed: int | None = None, temperature: float | None = None
    ) -> LocalChat:
        bound = self.chat.bind(max_tokens=max_tokens, seed=seed, temperature=temperature)
        return LocalChat(bound, self.files, self.where, self.timeout, self.log_path)

    def invoke(self, messages: Sequence[Message]) -> str:
        with self.files.in_flight() as request:
            try:
                return self.chat.invoke(messages)
            except Exception as exc:
                raise self.failure(exc, request, None) from exc

    def scored(self, messages: Sequence[Message], top: int) -> Scored:
        with self.files.in_flight() as request:
            try:
                return self.chat.scored(messages, top)
            except Exception as exc:
                raise self.failure(exc, request, None) from exc

    def stream(self, messages: Sequence[Message]) -> Iterator[Chunk]:
        with self.files.in_flight() as request:
            first: float | None = None
            try:
                for chunk in self.chat.stream(messages):
                    if first is None:
                        first = time.monotonic() - request.sent
                    request.refresh()  # a long answer keeps the server from stopping for idleness
                    yield chunk
            except Exception as exc:
                raise self.failure(exc, request, first) from exc

    def failure(self, exc: Exception, request: InFlight, first: float | None) -> AssistantError:
        """The error to report for `exc`, in the local model's words (see the module's docstring)."""
        error = translate_provider_error(exc, "local model")
        log = f"; its log: {self.log_path}" if self.log_path else ""
        if isinstance(error, ModelTimeoutError):
            waited = time.monotonic() - request.sent if first is None else first
            others = max(request.others, request.others_now())
            if others and first is None:
                return ModelTimeoutError(
                    f"the local model was busy with {_requests(others)} when this one was sent; it waited "
                    f"{waited:.0f} s in the model's queue without a word, and the {self.timeout:g} s allowed for an "
                    "answer (ASSISTANT_REQUEST_TIMEOUT, time in the queue included) ran out; ask again once the other "
                    "answer is done, or raise ASSISTANT_REQUEST_TIMEOUT"
                )
            said = "without a word" if first is None else f"(its first words came after {first:.0f} s)"
            busy = f"; the model was also busy with {_requests(others)} of ours" if others else ""
            return ModelTimeoutError(
                f"the local model did not answer within the {self.timeout:g} s allowed (ASSISTANT_REQUEST_TIMEOUT) "
                f"{said}{busy}; raise ASSISTANT_REQUEST_TIMEOUT, or see `assistant model status`{log}"
            )
        if isinstance(error, ModelUnavailableError) or "OPENAI_BASE_URL" in str(error):
            why = _short(exc)
            return ModelUnavailableError(
                f"the local model's server at {self.where} stopped answering ({why}): it was stopped, killed or "
                f"crashed; it is started again for the next question (`assistant model status` shows it{log})"
            )
        return error


def _requests(n: int) -> str:
    return "another request" if n == 1 else f"{n} other requests"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."

"""The chat model client (OpenAI, the local llama.cpp server, any OpenAI-compatible server), built in one place
and streamed through `langchain_openai`, used through our own narrow contract (`ChatClient`): messages as
(role, text) pairs, a reply's text, a stream of `Chunk`s, the request options it may bind (a token limit, a seed, a
temperature: 0 unless bound)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from assistant.errors import AssistantError, ModelUnavailableError
from assistant.providers import translate_provider_error

if TYPE_CHECKING:  # imported where a client is made (`build_chat_model`): langchain_openai takes 0.85 s to import
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable
    from langchain_openai import ChatOpenAI


def preload() -> threading.Thread:
    """Import langchain_openai (0.85 s on 2 cores: its pydantic models are built at import) in the background,
    while the caller opens the index and retrieves; the first request then finds it imported. A new
    `assistant ask` process gains that overlap."""

    def load() -> None:
        try:
            import langchain_openai  # noqa: F401
        except ImportError:  # reported where the client is built
            pass

    thread = threading.Thread(target=load, name="preload-langchain-openai", daemon=True)
    thread.start()
    return thread


Message = tuple[str, str]
"""One message to the model: its role ("system", "user" or "assistant") and its text."""


@dataclass(frozen=True)
class Chunk:
    """A piece of a streamed reply: its text ("" when the piece carries none) and whether the model said the reply
    is done (a stream that ends without one was cut off)."""

    text: str
    finished: bool = False


@dataclass(frozen=True)
class Scored:
    """A reply's text and its first token's most likely alternatives, each with its log-probability (empty when the
    server gives none: an OpenAI-compatible server need not)."""

    text: str
    alternatives: tuple[tuple[str, float], ...] = ()


class ChatClient(Protocol):
    """What answering needs of a chat model: invoke it on messages for the text of one reply (`scored`: with its
    first token's alternatives), or stream the reply's chunks; `bind` gives the same model with a request option set
    (None: as it was)."""

    def invoke(self, messages: Sequence[Message]) -> str: ...

    def scored(self, messages: Sequence[Message], top: int) -> Scored: ...

    def stream(self, messages: Sequence[Message]) -> Iterator[Chunk]: ...

    def bind(
        self, *, max_tokens: int | None = None, seed: int | None = None, temperature: float | None = None
    ) -> ChatClient: ...


class LangChainChat:
    """A `ChatClient` over a LangChain chat model (`ChatOpenAI`), with the request options bound so far.

    `max_tokens`: langchain_openai sends the limit as `max_completion_tokens`, which OpenAI reads; llama.cpp's
    server ignores that field and writes until its context is full, so a model at another address (llama.cpp,
    vLLM, Ollama, ...) is also sent `max_tokens`."""

    def __init__(self, model: ChatOpenAI, options: Mapping[str, object] | None = None):
        self.model = model
        self.options = dict(options or {})
        self.runnable: Runnable[LanguageModelInput, BaseMessage] = model.bind(**self.options) if self.options else model

    def invoke(self, messages: Sequence[Message]) -> str:
        return content(self.runnable.invoke(messages))

    def scored(self, messages: Sequence[Message], top: int) -> Scored:
        message = self.model.bind(**self.options, logprobs=True, top_logprobs=top).invoke(messages)
        logprobs = (message.response_metadata or {}).get("logprobs") or {}
        first = (logprobs.get("content") or [{}])[0] or {}
        alternatives = tuple(
            (str(alt.get("token", "")), float(alt["logprob"]))
            for alt in first.get("top_logprobs") or []
            if isinstance(alt, dict) and isinstance(alt.get("logprob"), int | float)
        )
        return Scored(content(message), alternatives)

    def stream(self, messages: Sequence[Message]) -> Iterator[Chunk]:
        for chunk in self.runnable.stream(messages):
            yield Chunk(content(chunk), bool((chunk.response_metadata or {}).get("finish_reason")))

    def bind(
        self, *, max_tokens: int | None = None, seed: int | None = None, temperature: float | None = None
    ) -> LangChainChat:
        options = dict(self.options)
        if max_tokens is not None:
            options["max_completion_tokens"] = max_tokens
            if self.model.openai_api_base:
                options["extra_body"] = {"max_tokens": max_tokens}
        if seed is not None:
            options["seed"] = seed
        if temperature is not None:
            options["temperature"] = temperature
        return LangChainChat(self.model, options)


def build_chat_model(
    model: str,
    base_url: str | None,
    api_key: str | None,
    timeout: float,
    max_retries: int,
    *,
    streaming: bool,
    max_tokens: int,
) -> ChatClient:
    """The one place a chat model client is made (`max_tokens`: both fields, see `LangChainChat`)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return LangChainChat(
        ChatOpenAI(
            model=model,
            api_key=SecretStr(api_key or "not-needed"),
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            temperature=0,
            streaming=streaming,
            max_completion_tokens=max_tokens,
            extra_body={"max_tokens": max_tokens} if base_url else None,
        )
    )


class ConnectedChat:
    """The one connect-and-reconnect helper: a chat model for a server whose address is known only once it runs (our
    llama.cpp child). Each call first connects (starting or restarting the server), and the client is made again
    when the address changes (one at a time: callers may share it across threads)."""

    def __init__(self, connect: Callable[[], str], build: Callable[[str], ChatClient]):
        self.connect, self.build = connect, build
        self.url: str | None = None
        self.chat: ChatClient | None = None
        self._lock = threading.Lock()

    def connected(self) -> tuple[ChatClient, str]:
        """The client for the server as it runs now (connected first), and the server's address."""
        url = self.connect()
        with self._lock:
            if url != self.url or self.chat is None:
                self.url, self.chat = url, self.build(url)
            return self.chat, url

    def invoke(self, messages: Sequence[Message]) -> str:
        return self.connected()[0].invoke(messages)

    def scored(self, messages: Sequence[Message], top: int) -> Scored:
        return self.connected()[0].scored(messages, top)

    def stream(self, messages: Sequence[Message]) -> Iterator[Chunk]:
        return self.connected()[0].stream(messages)

    def bind(
        self, *, max_tokens: int | None = None, seed: int | None = None, temperature: float | None = None
    ) -> ConnectedChat:
        build = self.build
        return ConnectedChat(
            self.connect, lambda url: build(url).bind(max_tokens=max_tokens, seed=seed, temperature=temperature)
        )


def limited(chat: ChatClient, max_tokens: int) -> ChatClient:
    """The same client, writing at most `max_tokens` tokens."""
    return chat.bind(max_tokens=max_tokens)


def content(message: BaseMessage) -> str:
    """The text of a message or chunk (plain string or content blocks)."""
    value = message.content
    if isinstance(value, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in value)
    return value or ""


def stream_text(chat: ChatClient, messages: Sequence[Message], where: str) -> Iterator[str]:
    """Text deltas of the model's answer; a stream that stops without finishing is an error."""
    finished = False
    try:
        for chunk in chat.stream(messages):
            finished = finished or chunk.finished
            if chunk.text:
                yield chunk.text
    except AssistantError:
        raise
    except Exception as exc:
        raise translate_provider_error(exc) from exc
    if not finished:  # the stream stopped without saying it was done: a cut-off answer is not an answer
        raise ModelUnavailableError(
            f"the chat model at {where} stopped in the middle of its answer (the connection closed); try again, "
            "and check the model server if it keeps happening"
        )

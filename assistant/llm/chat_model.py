"""The chat model client (OpenAI, the local llama.cpp server, any OpenAI-compatible server),
built in one place and streamed through `langchain_openai`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from assistant.errors import AssistantError, ModelUnavailableError
from assistant.providers import translate_provider_error


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


class ChatClient(Protocol):
    """What answering needs of a chat model (a LangChain chat model, or one bound to a token limit): invoke it on
    messages for one reply, or stream the reply's chunks."""

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any: ...

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]: ...


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
    """The one place a chat model client is made.

    langchain_openai sends the limit as `max_completion_tokens`, which OpenAI reads; llama.cpp's server
    ignores that field and writes until its context is full. A server at another address (llama.cpp, vLLM,
    Ollama, ...) is therefore also sent `max_tokens`."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
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


class ConnectedChat:
    """A chat model for a server whose address is known only once it runs (our llama.cpp child): each call
    first connects (starting or restarting the server), and the client is made again when the address
    changes."""

    def __init__(self, connect: Callable[[], str], build: Callable[[str], ChatClient]):
        self.connect, self.build = connect, build
        self.url: str | None = None
        self.chat: ChatClient | None = None

    def connected(self) -> ChatClient:
        """The client for the server as it runs now (connected first; `url` then says where)."""
        url = self.connect()
        if url != self.url or self.chat is None:
            self.url, self.chat = url, self.build(url)
        return self.chat

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self.connected().invoke(input, config, **kwargs)

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        return self.connected().stream(input, config, **kwargs)


def limited(chat: Any, max_tokens: int) -> ChatClient:
    """The same client, writing at most `max_tokens` tokens (both fields, see `build_chat_model`)."""
    extra = {"extra_body": {"max_tokens": max_tokens}} if getattr(chat, "openai_api_base", None) else {}
    bound: ChatClient = chat.bind(max_completion_tokens=max_tokens, **extra)
    return bound


def content(message: Any) -> str:
    """The text of a message or chunk (plain string or content blocks)."""
    value = getattr(message, "content", "")
    if isinstance(value, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in value)
    return value or ""


def stream_text(chat: ChatClient, messages: list[tuple[str, str]], where: str) -> Iterator[str]:
    """Text deltas of the model's answer; a stream that stops without finishing is an error."""
    finished = False
    try:
        for chunk in chat.stream(messages):
            finished = finished or bool((getattr(chunk, "response_metadata", None) or {}).get("finish_reason"))
            text = content(chunk)
            if text:
                yield text
    except AssistantError:
        raise
    except Exception as exc:
        raise translate_provider_error(exc) from exc
    if not finished:  # the stream stopped without saying it was done: a cut-off answer is not an answer
        raise ModelUnavailableError(
            f"the chat model at {where} stopped in the middle of its answer (the connection closed); try again, "
            "and check the model server if it keeps happening"
        )

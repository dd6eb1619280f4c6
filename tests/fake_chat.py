"""An in-process chat model for unit tests (in the spirit of simonw/llm's mock model): scripted replies, recorded
calls, no sockets. It is a `ChatClient` (`assistant/llm/chat_model.py`): `invoke` returns an `AIMessage`, `stream`
yields `AIMessageChunk`s whose last one says it finished, as langchain_openai's do; `bind` (the token limit of
`chat_model.limited`) is recorded and gives the same model.

    chat = FakeChat("Standalone question: How much did the U.S. give?", ModelTimeoutError("too slow"))
    ModelCondenser(chat, prompt).condense(...)
    assert chat.calls[0].messages == [("user", "...")]

Each call takes the next scripted reply: a text, an exception (raised), or a function of the messages. A call past
the script fails the test at once (`AssertionError`); the HTTP path itself is tested with `tests/fake_openai.py`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk

Reply = str | BaseException | Callable[[list[Any]], str]


@dataclass(frozen=True)
class Call:
    how: str  # "invoke" or "stream"
    messages: list[Any]
    bound: dict[str, Any]  # what `bind` added (e.g. max_completion_tokens), {} when nothing

    def text(self) -> str:
        """Every message's text, one after another (for asserting on the prompt)."""
        return "\n".join(m[1] if isinstance(m, tuple) else str(getattr(m, "content", m)) for m in self.messages)


class FakeChat:
    def __init__(self, *replies: Reply, chunk_words: int = 2, finish: bool = True):
        """`chunk_words`: a streamed reply comes in pieces of this many words; `finish=False`: the stream stops
        without saying it finished (as when the connection drops)."""
        self.replies: deque[Reply] = deque(replies)
        self.calls: list[Call] = []
        self.bound: dict[str, Any] = {}
        self.chunk_words, self.finish = chunk_words, finish

    def script(self, *replies: Reply) -> FakeChat:
        self.replies.extend(replies)
        return self

    def _next(self, how: str, messages: Any) -> str:
        messages = list(messages) if isinstance(messages, list | tuple) else [messages]
        self.calls.append(Call(how, messages, dict(self.bound)))
        if not self.replies:
            raise AssertionError(
                f"the fake chat model was called {len(self.calls)} times; only the first "
                f"{len(self.calls) - 1} were scripted"
            )
        reply = self.replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        return reply(messages) if callable(reply) else reply

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:
        return AIMessage(content=self._next("invoke", input), response_metadata={"finish_reason": "stop"})

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[AIMessageChunk]:
        text = self._next("stream", input)
        words = text.split(" ")
        for start in range(0, len(words), self.chunk_words):
            piece = " ".join(words[start : start + self.chunk_words])
            yield AIMessageChunk(content=piece if start == 0 else " " + piece)
        if self.finish:
            yield AIMessageChunk(content="", response_metadata={"finish_reason": "stop"})

    def bind(self, **kwargs: Any) -> FakeChat:
        """The same model, its calls recorded with what was bound (one fake, one script)."""
        self.bound.update(kwargs)
        return self

"""An in-process chat model for unit tests (in the spirit of simonw/llm's mock model): scripted replies, recorded
calls, no sockets. It is a `ChatClient` (`assistant/llm/chat_model.py`): `invoke` returns the reply's text, `stream`
yields `Chunk`s whose last one says it finished, as `LangChainChat` does over langchain_openai's; `bind` (the token
limit of `chat_model.limited`, the seed) is recorded and gives the same model.

    chat = FakeChat("Standalone question: How much did the U.S. give?", ModelTimeoutError("too slow"))
    ModelCondenser(chat, prompt).condense(...)
    assert chat.calls[0].messages == [("user", "...")]

Each call takes the next scripted reply: a text, an exception (raised), or a function of the messages. A call past
the script fails the test at once (`AssertionError`); the HTTP path itself is tested with `tests/fake_openai.py`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from assistant.llm.chat_model import Chunk, Message, Scored

Reply = str | Scored | BaseException | Callable[[list[Message]], str]


@dataclass(frozen=True)
class Call:
    how: str  # "invoke", "scored" or "stream"
    messages: list[Message]
    bound: dict[str, float]  # what `bind` set (max_tokens, seed, temperature), {} when nothing

    def text(self) -> str:
        """Every message's text, one after another (for asserting on the prompt)."""
        return "\n".join(text for _, text in self.messages)


class FakeChat:
    def __init__(self, *replies: Reply, chunk_words: int = 2, finish: bool = True):
        """`chunk_words`: a streamed reply comes in pieces of this many words; `finish=False`: the stream stops
        without saying it finished (as when the connection drops)."""
        self.replies: deque[Reply] = deque(replies)
        self.calls: list[Call] = []
        self.bound: dict[str, float] = {}
        self.chunk_words, self.finish = chunk_words, finish

    def script(self, *replies: Reply) -> FakeChat:
        self.replies.extend(replies)
        return self

    def _next(self, how: str, sent: Sequence[Message], raw: bool = False) -> str | Scored:
        messages = list(sent)
        self.calls.append(Call(how, messages, dict(self.bound)))
        if not self.replies:
            raise AssertionError(
                f"the fake chat model was called {len(self.calls)} times; only the first "
                f"{len(self.calls) - 1} were scripted"
            )
        reply = self.replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Scored) and not raw:
            return reply.text
        return reply(messages) if callable(reply) else reply

    def invoke(self, messages: Sequence[Message]) -> str:
        return str(self._next("invoke", messages))

    def scored(self, messages: Sequence[Message], top: int) -> Scored:
        """The scripted reply; a `Scored` reply is given as it is (its alternatives), a text with none."""
        reply = self._next("scored", messages, raw=True)
        return reply if isinstance(reply, Scored) else Scored(str(reply))

    def stream(self, messages: Sequence[Message]) -> Iterator[Chunk]:
        text = str(self._next("stream", messages))
        words = text.split(" ")
        for start in range(0, len(words), self.chunk_words):
            piece = " ".join(words[start : start + self.chunk_words])
            yield Chunk(piece if start == 0 else " " + piece)
        if self.finish:
            yield Chunk("", finished=True)

    def bind(
        self, *, max_tokens: int | None = None, seed: int | None = None, temperature: float | None = None
    ) -> FakeChat:
        """The same model, its calls recorded with what was bound (one fake, one script)."""
        options = {"max_tokens": max_tokens, "seed": seed, "temperature": temperature}
        self.bound.update({name: value for name, value in options.items() if value is not None})
        return self

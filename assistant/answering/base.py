"""The two interfaces every answering backend implements, so `Assistant.stream` reads
check -> condense -> retrieve -> answer -> finish, whichever backend answers.

A `Summarizer` answers whole-article questions ("What is this about?") instead of retrieve -> answer.
An `Answerer` turns a `Retrieval` into text deltas and then one final `Answer`; it records what it
did (prompt, raw output, verdicts, decision) in the `Trace` it is given. A `Condenser` turns a
question and the conversation into the `Query` retrieval uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from assistant.answering.question.intent import Intent
from assistant.answering.retrieval.retriever import Retrieval
from assistant.records import Answer, Query, Trace, Turn


class Answerer(Protocol):
    @property
    def name(self) -> str:
        """ "extractive", "openai" or "local"."""
        ...

    @property
    def backend(self) -> str:
        """In words, for the trace and the web page."""
        ...

    def answer(self, retrieval: Retrieval, turns: list[Turn], trace: Trace) -> Iterator[str | Answer]:
        """Text deltas as they are ready to be shown, then the final `Answer` (its trace is set later)."""
        ...


class Condenser(Protocol):
    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, dict[str, Any]]:
        """The query retrieval uses, and what was done to make it (for the trace)."""
        ...


class Summarizer(Protocol):
    """Answers a question about the article(s) as a whole (`intent.detect` said so), without retrieval."""

    def summarize(
        self, question: str, intent: Intent, scope: Sequence[str] | None, trace: Trace
    ) -> Iterator[str | Answer]:
        """Text deltas, then the final `Answer`; fills `trace.decision` (method "summary ...") and `trace.sentences`."""
        ...


def pieces(text: str, size: int = 24) -> Iterator[str]:
    """A finished text as a few deltas, so every answerer streams the same way."""
    words = text.split(" ")
    for start in range(0, len(words), size):
        chunk = " ".join(words[start : start + size])
        yield chunk if start == 0 else " " + chunk

"""Interfaces shared by the answering steps.

A `Condenser` turns a question and the conversation into the `Query` retrieval uses, and says how
(`QuestionStep`). A `Summarizer` answers whole-article questions ("What is this about?") instead of
retrieve -> read -> attribute -> decide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.answering.question.intent import Intent
from assistant.records import Query, QuestionStep, SummaryStep, Turn


class Condenser(Protocol):
    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, QuestionStep]:
        """The query retrieval uses, and what was done to make it (for the trace)."""
        ...


class Summarizer(Protocol):
    """Answers a question about the article(s) as a whole (`intent.detect` said so), without retrieval."""

    def summarize(self, question: str, intent: Intent, scope: Sequence[str] | None) -> Iterator[str | SummaryStep]:
        """Text deltas, then the `SummaryStep` (the answer and what was done to make it)."""
        ...


def pieces(text: str, size: int = 24) -> Iterator[str]:
    """A finished text as a few deltas, so every answerer streams the same way."""
    words = text.split(" ")
    for start in range(0, len(words), size):
        chunk = " ".join(words[start : start + size])
        yield chunk if start == 0 else " " + chunk

"""Article Assistant: answers questions about news articles, citing verbatim source sentences.

from assistant import Assistant, answer
bot = Assistant(index_dir="index")
bot.ingest(["articles/"])
ans = bot.answer("What did Rubio announce?")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.assistant import Assistant
from assistant.errors import AssistantError
from assistant.records import Answer, Citation, IngestReport, Rejection
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.inputs import History

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "IngestReport", "Rejection", "Settings", "answer"]


def answer(question: str, history: History | None = None) -> Answer:
    """Answer with a default Assistant built from the environment (Settings.from_env())."""
    return Assistant().answer(question, history=history)

"""Condensing with a chat model: the follow-up question rewritten as a standalone one."""

from __future__ import annotations

from assistant.answering.question.condense import OfflineCondenser, follow_up, offline_query
from assistant.llm.chat_model import ChatClient
from assistant.llm.prompts import Prompt
from assistant.providers import translate_provider_error
from assistant.records import MARKER, Query, QuestionStep, Turn

CONDENSE_MAX_CHARS = 300  # a longer "standalone question" is junk (an answer, a ramble)
HISTORY_TURNS = 3
REFUSAL_TOKEN = "NOT_IN_ARTICLES"


class ModelCondenser:
    def __init__(self, chat: ChatClient, prompt: Prompt):
        self.chat = chat  # a non-streaming chat model with a small max_tokens
        self.prompt = prompt

    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, QuestionStep]:
        """A standalone question from the model; on failure or junk, the question plus context."""
        if not turns:
            return Query(question, question, ""), QuestionStep(question, how="no history")
        leans, why = follow_up(question, turns)
        if not leans:  # a question that stands on its own is asked as it is: no call, no drift to the old topic
            return Query(question, question, ""), QuestionStep(
                question, how=f"not a follow-up: {why}; asked on its own"
            )
        prompt = self.prompt.render(history=history_text(turns), question=question)
        try:
            text = self.chat.invoke([("user", prompt)])
        except Exception as exc:  # any failure: answer anyway, the answer call reports lasting errors
            return self._offline(
                question, turns, f"follow-up ({why}); the rewrite failed: {translate_provider_error(exc)}"
            )
        standalone = clean_condensed(text)
        if not standalone or len(standalone) > CONDENSE_MAX_CHARS or REFUSAL_TOKEN in standalone:
            return self._offline(
                question, turns, f"follow-up ({why}); the model's rewrite was empty or too long: {text[:200]!r}"
            )
        if standalone.casefold().strip(" ?.!") == question.casefold().strip(" ?.!"):  # it still points back
            return self._offline(question, turns, f"follow-up ({why}); the model returned it unchanged")
        return Query(question, standalone, ""), QuestionStep(
            standalone, follow_up=True, rewritten=True, how=f"follow-up ({why}); rewritten by the chat model"
        )

    @staticmethod
    def _offline(question: str, turns: list[Turn], how: str) -> tuple[Query, QuestionStep]:
        query = offline_query(question, turns)
        return query, QuestionStep(query.standalone, context=query.context, follow_up=True, how=how)


def history_text(turns: list[Turn]) -> str:
    lines = []
    for q, a in turns[-HISTORY_TURNS:]:
        lines.append(f"User: {' '.join(q.split())}")
        if a:
            lines.append(f"Assistant: {' '.join(MARKER.sub('', a).split())[:600]}")
    return "\n".join(lines)


def clean_condensed(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    for prefix in ("standalone question:", "question:"):
        if line.lower().startswith(prefix):
            line = line[len(prefix) :].strip()
    return line.strip(" \"'“”")


def condense_mode(condenser: object) -> str:
    """How a condenser treats follow-ups, as ASSISTANT_CONDENSE names it (for the status)."""
    if isinstance(condenser, ModelCondenser):
        return "model"
    return "named" if isinstance(condenser, OfflineCondenser) and condenser.name_subject else "conversation"

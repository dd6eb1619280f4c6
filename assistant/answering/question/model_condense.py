"""Condensing with a chat model: the follow-up question rewritten as a standalone one."""

from __future__ import annotations

from typing import Any

from assistant.answering.chat_model import content
from assistant.answering.attribution.citing import MARKER
from assistant.answering.question.condense import follow_up, offline_query
from assistant.answering.reading.prompts import Prompt
from assistant.providers import translate_provider_error
from assistant.records import Query, Turn

CONDENSE_MAX_CHARS = 300  # a longer "standalone question" is junk (an answer, a ramble)
HISTORY_TURNS = 3
REFUSAL_TOKEN = "NOT_IN_ARTICLES"


class ModelCondenser:
    def __init__(self, chat: Any, prompt: Prompt):
        self.chat = chat  # a non-streaming chat model with a small max_tokens
        self.prompt = prompt

    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, dict[str, Any]]:
        """A standalone question from the model; on failure or junk, the question plus context."""
        if not turns:
            return Query(question, question, ""), {"used": False, "reason": "no history", "follow_up": False}
        leans, why = follow_up(question, turns)
        if not leans:  # a question that stands on its own is asked as it is: no call, no drift to the old topic
            return Query(question, question, ""), {
                "used": False,
                "follow_up": False,
                "reason": f"not a follow-up: {why}; asked on its own",
            }
        prompt = self.prompt.render(history=history_text(turns), question=question)
        info: dict[str, Any] = {"prompt": prompt, "follow_up": True, "follow_up_reason": why}
        try:
            text = content(self.chat.invoke([("user", prompt)]))
        except Exception as exc:  # any failure: answer anyway, the answer call reports lasting errors
            info.update(used=False, reason=f"condense call failed: {translate_provider_error(exc)}")
            return offline_query(question, turns), info
        standalone = clean_condensed(text)
        info["raw"] = text
        if not standalone or len(standalone) > CONDENSE_MAX_CHARS or REFUSAL_TOKEN in standalone:
            info.update(used=False, reason="the model's standalone question was empty or too long")
            return offline_query(question, turns), info
        info["used"] = True
        return Query(question, standalone, ""), info


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

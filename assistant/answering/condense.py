"""Turn a question and its chat history into what retrieval needs.

Without a model (`OfflineCondenser`) the question stays as asked and the last turns become context
(their words and meaning pull follow-ups like "What does he want to change?" towards the right
sentences). With a model, `model_condense.ModelCondenser` rewrites the question as a standalone one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.answering.citing import MARKER_WITH_SPACE
from assistant.errors import InputError
from assistant.records import Query, Turn

CONTEXT_TURNS = 2
MAX_QUESTION_CHARS = 4000


def normalise_history(history: Sequence[Any] | None) -> list[Turn]:
    """Accepts [(question, answer), ...] or Gradio's message dicts (content may be a list of parts)."""
    if not history:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise InputError("history must be a list of (question, answer) pairs or of role/content messages, "
                         f"not {type(history).__name__}")
    turns: list[Turn] = []
    pending_user: str | None = None
    for item in history:
        if isinstance(item, dict):
            role, text = item.get("role"), _content_text(item.get("content"))
            if role == "user":
                if pending_user is not None:
                    turns.append((pending_user, ""))
                pending_user = text
            elif role == "assistant":
                turns.append((pending_user or "", text))
                pending_user = None
        elif isinstance(item, list | tuple) and len(item) == 2:
            turns.append((_content_text(item[0]), _content_text(item[1])))
        else:
            raise InputError("history must be a list of (question, answer) pairs or of role/content messages")
    if pending_user is not None:
        turns.append((pending_user, ""))
    return [(q, a) for q, a in turns if q or a]


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, list | tuple):
        return " ".join(_content_text(part) for part in content if part is not None)
    return str(content)


def check_question(question: Any) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty; type a question about the articles")
    question = " ".join(question.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,}"
        )
    return question


def offline_query(question: str, history: list[Turn]) -> Query:
    recent = history[-CONTEXT_TURNS:]
    context = " ".join(f"{q} {_strip_markers(a)}" for q, a in recent).strip()
    previous = _strip_markers(history[-1][1]) if history else ""
    return Query(question=question, standalone=question, context=context[:1500], previous_answer=previous[:1000])


def _strip_markers(text: str) -> str:
    return MARKER_WITH_SPACE.sub("", text)


def check_article_ids(article_ids: Any) -> list[str] | None:
    """None (all articles) or a list of ids; a bare string is one id, not a list of characters."""
    if article_ids is None:
        return None
    if isinstance(article_ids, str):
        article_ids = [article_ids]
    if not isinstance(article_ids, Sequence | set | frozenset) or not all(isinstance(a, str) for a in article_ids):
        raise InputError("article_ids must be a list of article ids (strings)")
    return list(dict.fromkeys(a.strip() for a in article_ids if a.strip())) or None


class OfflineCondenser:
    """No model: the question as asked, the last turns as context."""

    def condense(self, question: str, turns: list[Turn]) -> tuple[Query, dict[str, Any]]:
        if not turns:
            return Query(question, question), {"used": False, "reason": "no history"}
        return offline_query(question, turns), {"used": False, "reason": "no model: earlier turns read as context"}

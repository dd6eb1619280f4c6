"""What callers hand the public API, checked before anything is done with it: the question, the earlier turns
(`History`: (question, answer) pairs or role/content message dicts) and the article ids to ask about. Each check
returns the value as the rest of the code takes it, or raises an `InputError` that says what to send instead.
A top module: the Assistant's facade, answering and the LangChain adapters (which may not import answering) all
check through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from assistant.errors import InputError, require_utf8
from assistant.records import Turn

MAX_QUESTION_CHARS = 4000

HistoryItem = Sequence[object] | Mapping[str, object]
"""One earlier turn as a caller sends it: a (question, answer) pair, or a role/content message dict (Gradio's, whose
content may be a list of parts); what else a caller sends is refused with an InputError (`normalise_history`)."""
History = Sequence[HistoryItem]


def normalise_history(history: object) -> list[Turn]:
    """Accepts [(question, answer), ...] or Gradio's message dicts (content may be a list of parts)."""
    if not history:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise InputError(
            "history must be a list of (question, answer) pairs or of role/content messages, "
            f"not {type(history).__name__}"
        )
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
    return [(require_utf8(q, "earlier question"), require_utf8(a, "earlier answer")) for q, a in turns if q or a]


def _content_text(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, list | tuple):
        return " ".join(_content_text(part) for part in content if part is not None)
    return str(content)


def check_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty; type a question about the articles")
    text = require_utf8(" ".join(question.split()), "question")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,}")
    return text


def check_article_ids(article_ids: object) -> list[str] | None:
    """None (all articles) or a list of ids; a bare string is one id, not a list of characters."""
    if article_ids is None:
        return None
    if isinstance(article_ids, str):
        article_ids = [article_ids]
    wrong = InputError("article_ids must be a list of article ids (strings)")
    if not isinstance(article_ids, Sequence | set | frozenset):
        raise wrong
    ids = [a for a in article_ids if isinstance(a, str)]
    if len(ids) != len(article_ids):
        raise wrong
    return list(dict.fromkeys(require_utf8(a.strip(), "article id") for a in ids if a.strip())) or None


def no_such_articles(missing: Sequence[str]) -> InputError:
    """The error for article ids asked about that the index does not hold (found where their records are read:
    retrieval's one read, the summary's, `Assistant.check_scope`)."""
    return InputError(
        f"no such article: {', '.join(repr(m) for m in sorted(missing))} is not in the index; "
        "an article's id is its file name without the extension (or its JSON 'id'); the web chat lists them"
    )


# words that point back to something said before

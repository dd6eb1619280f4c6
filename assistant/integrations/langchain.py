"""LangChain over an `Assistant`: `SentenceRetriever` (a `BaseRetriever` whose Documents are the ranked sentences)
and `AnswerRunnable` (a `Runnable`: {"question", "history", "article_ids"} -> `Answer`). Built by
`Assistant.as_retriever` and `Assistant.as_runnable`; this module knows the Assistant only by the methods below."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict

from assistant.errors import InputError
from assistant.inputs import History, check_article_ids, check_question, normalise_history
from assistant.integrations import payloads
from assistant.records import Answer, RankedSentence


class Answers(Protocol):
    """What these adapters use of the `Assistant`."""

    def search(self, query: str, k: int = 8, article_ids: Sequence[str] | None = None) -> list[RankedSentence]: ...

    def stream(
        self, question: str, history: History | None = None, article_ids: Sequence[str] | None = None
    ) -> Iterator[str | Answer]: ...


def document(found: RankedSentence) -> Document:
    """page_content: the sentence, verbatim; metadata: the citation's fields and the score."""
    metadata = {name: value for name, value in payloads.ranked(found).items() if name != "text"}
    return Document(
        page_content=found.citation.text,
        metadata=metadata,
        id=f"{found.citation.article_id}#{found.citation.sentence_index}",
    )


class SentenceRetriever(BaseRetriever):
    """The sentences the assistant's retrieval step ranks highest for a query, best first, as Documents:
    `page_content` is the sentence as it stands in its article; `metadata` holds article_id, title,
    sentence_index, start, end (offsets in the article's text), url, published and score.

    `k` sentences (8 unless set here or in `invoke(query, k=3)`); `article_ids` limits the search to those
    articles (None: all)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # Any: a pydantic field (BaseRetriever is a pydantic model), which cannot check the `Answers` protocol nor give it
    # a JSON schema; it holds an `Assistant`, used as `Answers`
    assistant: Any
    k: int = 8
    article_ids: list[str] | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> list[Document]:
        bot: Answers = self.assistant
        scope = self.article_ids if article_ids is None else list(article_ids)
        return [document(s) for s in bot.search(query, k=self.k if k is None else k, article_ids=scope)]


RunnableInput = str | dict[str, object]
"""The runnable's input: the question alone, or {"question": str, "history": [(question, answer), ...] or
role/content message dicts, "article_ids": [str] | None} (each key may be left out)."""


def _request(value: object) -> tuple[str, History | None, Sequence[str] | None]:
    """(question, history, article_ids) from a runnable's input: a dict with those keys, or the question alone,
    checked as the Assistant checks them (`assistant.inputs`), so a bad one is refused in the Assistant's words."""
    if isinstance(value, str):
        return check_question(value), None, None
    if not isinstance(value, dict):
        raise InputError(
            f'the runnable takes {{"question": ..., "history": [...], "article_ids": [...]}} or a question as a '
            f"str, not {type(value).__name__}"
        )
    unknown = sorted(set(value) - {"question", "history", "article_ids"})
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(map(repr, unknown))}: use question, history and article_ids")
    fields: dict[object, object] = value
    question = check_question(fields.get("question", ""))
    return question, normalise_history(fields.get("history")) or None, check_article_ids(fields.get("article_ids"))


class AnswerRunnable(Runnable[RunnableInput, str | Answer]):
    """{"question": str, "history": [(question, answer), ...] | None, "article_ids": [str] | None} -> `Answer`
    (a plain str is taken as the question). `stream` gives the answer's text deltas (str), then the `Answer`;
    `batch` and `ainvoke` answer as `invoke` does (in threads)."""

    def __init__(self, assistant: Answers):
        self.assistant = assistant

    def _events(self, value: RunnableInput) -> Iterator[str | Answer]:
        question, history, article_ids = _request(value)
        return self.assistant.stream(question, history=history, article_ids=article_ids)

    def _answer(self, value: RunnableInput) -> Answer:
        for event in self._events(value):
            if isinstance(event, Answer):
                return event
        raise InputError("the assistant finished without an answer")  # every stream ends with one

    def invoke(self, input: RunnableInput, config: RunnableConfig | None = None, **kwargs: object) -> Answer:
        answer = self._call_with_config(self._answer, input, config, run_type="chain")
        assert isinstance(answer, Answer)  # what `_answer` returns
        return answer

    def _transform(self, values: Iterator[RunnableInput]) -> Iterator[str | Answer]:
        for value in values:  # `stream` passes one input; a chain's chunks are joined first (`Runnable.transform`)
            yield from self._events(value)

    def stream(
        self, input: RunnableInput, config: RunnableConfig | None = None, **kwargs: object
    ) -> Iterator[str | Answer]:
        yield from self._transform_stream_with_config(iter([input]), self._transform, config, run_type="chain")

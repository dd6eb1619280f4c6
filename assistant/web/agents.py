"""What programs and agents call: the `/answer` endpoint and the MCP tools (`answer`, `search_sentences`,
`list_articles`, `add_article_by_url`), plain methods over the `Assistant` facade that return JSON values
(`assistant/integrations/payloads.py`).

Gradio builds each endpoint's schema from the method's type hints and each MCP tool's description from its
docstring ("Args:" names each parameter for an agent): keep both exact. The tool's name is the method's name.

The endpoints skip Gradio's queue (`queue=False`): an MCP tool call then runs in the server, not through
Gradio's loopback client (which cannot sign in when ASSISTANT_AUTH is set). So that they stay bounded on a
small machine, answering and searching take one of `limit` places (the number the chat's queue runs at once)
and wait at most `WAIT_SECONDS` for it; adding by address takes one of `FETCH_PLACES`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TypeVar

import gradio as gr

from assistant.assistant import Assistant
from assistant.errors import AssistantError
from assistant.integrations import payloads
from assistant.records import IngestJSON
from assistant.web.notify import GENERIC, say

log = logging.getLogger(__name__)

WAIT_SECONDS = 60.0  # the longest a call waits for a free place before it is told the server is busy
FETCH_PLACES = 2
BUSY = "The assistant is busy with other questions; try again in a minute."
T = TypeVar("T")


class AgentTools:
    def __init__(self, bot: Assistant, limit: int):
        self.bot = bot
        self.places = threading.BoundedSemaphore(limit)
        self.fetches = threading.BoundedSemaphore(FETCH_PLACES)

    @contextmanager
    def _place(self, places: threading.BoundedSemaphore) -> Iterator[None]:
        if not places.acquire(timeout=WAIT_SECONDS):
            raise gr.Error(BUSY)
        try:
            yield
        finally:
            places.release()

    def _run(self, what: str, places: threading.BoundedSemaphore | None, work: Callable[[], T]) -> T:
        """`work()` in one of `places` (if given); our errors become their one-line message, anything else
        `GENERIC` (the server log has the rest)."""
        with self._place(places) if places else nullcontext():
            try:
                return work()
            except AssistantError as exc:
                raise gr.Error(say(exc)) from None
            except Exception:
                log.exception("%s failed", what)
                raise gr.Error(GENERIC) from None

    def answer(
        self, question: str, history: list[list[str]] | None = None, article_id: str | None = None
    ) -> payloads.AnswerJSON:
        """Answer a question about the indexed news articles, citing the exact sentences the answer rests on.

        Args:
            question: the question, in plain words (e.g. "How much security assistance did the U.S. announce?").
            history: earlier turns as [question, answer] pairs, oldest first, for a follow-up; omit for a new question.
            article_id: ask about this article only (an article_id from list_articles); omit to ask about all.

        Returns:
            text: the answer, with markers [n] where citations[n-1] supports it
            answered: false when the articles do not say (then citations is empty)
            reason: why it answered or declined
            citations: each with article_id, title, sentence_index, text (the sentence verbatim), start and end (its
            character offsets in the article's text), url and published (the article's page and date, or null)
        """
        scope = [article_id] if article_id else None
        return self._run(
            "answering (/answer)",
            self.places,
            lambda: payloads.answer(self.bot.answer(question, history=history or None, article_ids=scope)),
        )

    def search_sentences(self, query: str, k: int = 8, article_id: str | None = None) -> payloads.SentencesJSON:
        """Find the sentences of the indexed news articles that best match a query, best first, with their scores.
        Use it to read the evidence yourself; use answer for an answer with citations.

        Args:
            query: what to look for, in plain words.
            k: how many sentences to return (1 to 100).
            article_id: search this article only (an article_id from list_articles); omit to search all.

        Returns:
            sentences: each with article_id, title, sentence_index, text (verbatim), start and end (character offsets
            in the article's text), url, published and score (higher is better; comparable within one search)
        """
        scope = [article_id] if article_id else None
        return self._run(
            "searching sentences",
            self.places,
            lambda: payloads.SentencesJSON(
                sentences=[payloads.ranked(s) for s in self.bot.search(query, k=int(k), article_ids=scope)]
            ),
        )

    def list_articles(self) -> payloads.ArticlesJSON:
        """List the news articles in the index: what the assistant can answer about.

        Returns:
            articles: each with article_id (to pass to answer or search_sentences), title, sentences (how many),
            url, published, site and author (null when unknown)
        """
        return self._run(
            "listing articles",
            None,
            lambda: payloads.ArticlesJSON(articles=[payloads.article(a) for a in self.bot.articles()]),
        )

    def add_article_by_url(self, url: str) -> IngestJSON:
        """Add a news page, or every page of an RSS/Atom feed, to the index by its address, so that later questions
        can be answered from it. Private and local addresses, pages over the size limit and files that are not web
        pages are refused, with the reason.

        Args:
            url: the page's or the feed's full address, starting with https:// or http://.

        Returns:
            added, updated, unchanged, removed: how many articles
            rejected: each address refused, with the reason
            sentences_embedded, seconds
        """
        url = (url or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            raise gr.Error("Give the page's full address, starting with https:// (or http://).")
        return self._run("adding a page by address", self.fetches, lambda: payloads.ingest(self.bot.ingest([url])))

"""`Assistant`: the public object. It builds the parts once (one factory) and passes them in."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.answering import intent as whole_article
from assistant.answering.condense import check_article_ids, check_question, normalise_history
from assistant.answering.factory import build_answering, chat_client
from assistant.answering.model_summary import SUMMARY_MAX_TOKENS, build_summarizer
from assistant.answering.retrieval import Retriever
from assistant.answering.summary import newest_first
from assistant.embeddings import CachedEmbedder, Embedder, build_embedder
from assistant.errors import AnswerMissingError, AssistantError, InputError
from assistant.indexing.files import max_bytes
from assistant.indexing.indexer import Indexer, Progress
from assistant.indexing.uploads import add_uploads
from assistant.records import Answer, ArticleInfo, AssistantInfo, IngestReport, Query, Trace, Upload, UploadReport
from assistant.settings import Settings
from assistant.store import Store, make_client

log = logging.getLogger(__name__)


class Assistant:
    """Ingest articles and answer questions about them with verbatim sentence citations."""

    def __init__(
        self, index_dir: str | None = None, *, settings: Settings | None = None, embedder: Embedder | None = None
    ):
        """`embedder` lets several Assistants share one loaded model (tests, benchmarks)."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = replace(settings, index_dir=str(index_dir))
        self.settings = settings
        self.embedder = embedder or build_embedder(settings)
        self.store = Store(make_client(settings), self.embedder, settings)
        self.indexer = Indexer(self.store)
        self.retriever = Retriever(self.store, settings)
        # the sentences shown to a model are checked again after each answer sentence, by the answerer and the
        # summariser alike: one cache of their vectors
        checker = CachedEmbedder(self.embedder)
        self.condenser, self.answerer, self.choice = build_answering(settings, checker, self.retriever)
        self.summarizer = build_summarizer(
            settings, self.store, checker, chat_client(settings, self.choice, SUMMARY_MAX_TOKENS)
        )

    def warm_up(self) -> None:
        """Get the answerer ready before the first question: the local model's server is started and reads
        the most recently added article (what a first question is most likely about) into its prompt cache.
        The web chat calls this in the background at start; a no-op for the extractive answerer."""
        warm = getattr(self.answerer, "warm_up", None)
        if warm is None:
            return
        prime = None
        try:
            infos = self.store.article_infos()
            newest = newest_first(infos)[:1]
            if newest:
                title = infos[newest[0]].title
                prime = self.retriever.retrieve(Query(title, title), newest)
        except AssistantError as exc:  # the model still starts; the first question reads the article itself
            log.warning("no article to read ahead of the first question: %s", exc)
        warm(prime)

    # ---- indexing
    def ingest(self, paths: Iterable[str | Path] | str | Path, progress: Progress | None = None) -> IngestReport:
        if isinstance(paths, str | Path):
            paths = [paths]
        return self.indexer.ingest(paths, progress=progress)

    def rebuild(self, folder: str | Path | None = None, progress: Progress | None = None) -> IngestReport:
        return self.indexer.rebuild(folder or self.settings.articles_dir, progress=progress)

    def upload(self, files: Sequence[Upload], progress: Progress | None = None) -> UploadReport:
        """Files a front end received: each checked as the indexer would and saved into the articles folder
        under a safe name that never replaces another file, then indexed together. A refused file is
        reported (by the name the person gave it) and never stops the others."""
        folder = Path(self.settings.articles_dir)
        limit = max_bytes(self.settings.max_file_mb)
        return add_uploads(files, folder, limit, lambda paths: self.ingest(paths, progress=progress))

    def remove(self, article_ids: Sequence[str]) -> IngestReport:
        return self.indexer.remove(list(article_ids))

    def articles(self) -> list[ArticleInfo]:
        return sorted(self.store.article_infos().values(), key=lambda a: a.title.lower())

    def article(self, article_id: str) -> dict[str, Any]:
        """An article's text, title and sentences (with offsets), for showing a cited sentence in place."""
        records = self.store.article_records([article_id])
        if article_id not in records:
            raise InputError(f"no article with id '{article_id}' in the index")
        rec = records[article_id]
        sentences = [s.sentence for s in self.store.sentences_of(article_id, rec["content_hash"])]
        return {
            "id": article_id,
            "title": rec.get("title", article_id),
            "text": rec["text"],
            "source": rec.get("source", ""),
            "sentences": sentences,
        }

    def info(self) -> AssistantInfo:
        """What answers and why, and where the index and the articles folder are."""
        return AssistantInfo(
            answerer=self.answerer.name,
            backend=self.answerer.backend,
            reason=self.choice.reason,
            embedding_model=self.embedder.model_name,
            index=self.settings.chroma_url or str(Path(self.settings.index_dir).resolve()),
            articles_dir=self.settings.articles_dir,
        )

    def status(self) -> dict[str, Any]:
        """Effective settings (secrets masked), what answers, the index's counts and health."""
        info = self.info()
        return {
            "settings": self.settings.masked(),
            "answerer": info.answerer,
            "answerer_reason": info.reason,
            "backend": info.backend,
            "embedding_model": info.embedding_model,
            "embedding_dim": self.embedder.dimension,
            "index": info.index,
            **self.store.counts(),
            "health": self.store.health(),
        }

    # ---- answering
    def check_question(self, question: str) -> str:
        """The question as it will be answered (trimmed), or an InputError that says what is wrong with it:
        a front end can check it at once, before the answer is streamed."""
        return check_question(question)

    def answer(
        self, question: str, history: Sequence[Any] | None = None, article_ids: Sequence[str] | None = None
    ) -> Answer:
        for event in self.stream(question, history=history, article_ids=article_ids):
            if isinstance(event, Answer):
                return event
        raise AnswerMissingError("the answerer finished without an answer; this is a bug: please report it")

    def check_scope(self, article_ids: Sequence[str] | None) -> list[str] | None:
        """The article ids to ask about (None: all); every one must be indexed, or a clear InputError."""
        scope = check_article_ids(article_ids)
        if scope:
            missing = sorted(set(scope) - set(self.store.article_records(scope, with_text=False)))
            if missing:
                raise InputError(
                    f"no such article: {', '.join(repr(m) for m in missing)} is not in the index; "
                    "an article's id is its file name without the extension (or its JSON 'id'); "
                    "the web chat lists them"
                )
        return scope

    def stream(
        self, question: str, history: Sequence[Any] | None = None, article_ids: Sequence[str] | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas as they are produced, then the final `Answer` (verified citations, full trace)."""
        started = time.perf_counter()
        question = check_question(question)
        turns = normalise_history(history)
        scope = self.check_scope(article_ids)
        trace = Trace(
            question=question,
            answerer=self.answerer.name,
            backend=self.answerer.backend,
            article_ids=scope or [],
            notes=[f"answerer: {self.choice}"],
        )
        t = time.perf_counter()
        intent = whole_article.detect(question, self.embedder)  # a whole-article question needs no condensing
        query, trace.condense = (
            (
                Query(question, question),
                {"used": False, "reason": f"whole-article question ({intent.kind}, by {intent.how})"},
            )
            if intent
            else self.condenser.condense(question, turns)
        )
        trace.timings_ms["condense"] = round((time.perf_counter() - t) * 1000, 1)
        trace.standalone_question, trace.context = query.standalone, query.context
        t = time.perf_counter()
        if intent:
            events = self.summarizer.summarize(question, intent, scope, trace)
        else:
            retrieval = self.retriever.retrieve(query, scope)
            trace.passages, trace.sentences = retrieval.passages_trace(), retrieval.sentences_trace()
            trace.timings_ms.update(retrieval.timings_ms())
            t = time.perf_counter()
            events = self.answerer.answer(retrieval, turns, trace)
        for event in events:
            if isinstance(event, Answer):
                trace.timings_ms["answer"] = round((time.perf_counter() - t) * 1000, 1)
                trace.latency_ms = round((time.perf_counter() - started) * 1000, 1)
                trace.answered = event.answered
                yield replace(event, trace=trace)
                return
            yield event
        raise AnswerMissingError("the answerer finished without an answer; this is a bug: please report it")

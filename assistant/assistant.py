"""`Assistant`: the public object. It builds the parts once (one factory) and passes them in."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.answering.condense import check_question, normalise_history, offline_query
from assistant.answering.extractive import DEFAULT_THRESHOLD, ExtractiveAnswerer
from assistant.answering.retrieval import Retriever
from assistant.embeddings import Embedder, build_embedder
from assistant.errors import InputError
from assistant.indexing.indexer import Indexer, Progress
from assistant.records import Answer, ArticleInfo, IngestReport
from assistant.settings import Settings
from assistant.store import Store, make_client


class Assistant:
    """Ingest articles and answer questions about them with verbatim sentence citations."""

    def __init__(self, index_dir: str | None = None, *, settings: Settings | None = None,
                 embedder: Embedder | None = None):
        """`embedder` lets several Assistants share one loaded model (tests, benchmarks)."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = replace(settings, index_dir=str(index_dir))
        self.settings = settings
        self.embedder = embedder or build_embedder(settings)
        self.store = Store(make_client(settings), self.embedder, settings)
        self.indexer = Indexer(self.store)
        self.retriever = Retriever(self.store, settings)
        threshold = settings.refusal_threshold if settings.refusal_threshold is not None else DEFAULT_THRESHOLD
        self.extractive = ExtractiveAnswerer(threshold)
        self._llm = None
        if settings.uses_llm:
            from assistant.answering.llm import LLMAnswerer

            self._llm = LLMAnswerer(settings, self.extractive, self.embedder)

    # ---- indexing
    def ingest(self, paths: Iterable[str | Path] | str | Path, progress: Progress | None = None) -> IngestReport:
        if isinstance(paths, str | Path):
            paths = [paths]
        return self.indexer.ingest(paths, progress=progress)

    def rebuild(self, folder: str | Path | None = None, progress: Progress | None = None) -> IngestReport:
        return self.indexer.rebuild(folder or self.settings.articles_dir, progress=progress)

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
        return {"id": article_id, "title": rec.get("title", article_id), "text": rec["text"],
                "source": rec.get("source", ""), "sentences": sentences}

    def status(self) -> dict[str, Any]:
        return {"settings": self.settings.masked(), "backend": self.settings.backend_name,
                "embedding_model": self.embedder.model_name, "embedding_dim": self.embedder.dimension,
                "index": self.settings.chroma_url or str(Path(self.settings.index_dir).resolve()),
                **self.store.counts()}

    # ---- answering
    def answer(self, question: str, history: Sequence[Any] | None = None,
               article_ids: Sequence[str] | None = None) -> Answer:
        final = None
        for event in self.stream(question, history=history, article_ids=article_ids):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Any] | None = None,
               article_ids: Sequence[str] | None = None) -> Iterator[str | Answer]:
        """Text deltas as they are produced, then the final `Answer` (verified citations)."""
        started = time.perf_counter()
        question = check_question(question)
        turns = normalise_history(history)
        if self._llm is not None:
            yield from self._llm.stream(question, turns, self.retriever, article_ids, started)
            return
        query = offline_query(question, turns)
        retrieval = self.retriever.retrieve(query, article_ids)
        result = self.extractive.answer(retrieval)
        trace = {"standalone_question": query.standalone, "context": query.context,
                 "backend": "offline extractive", **retrieval.trace(), **result.trace,
                 "prompt": None, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
        final = replace(result, trace=trace)
        yield from _pieces(final.text)
        yield final


def _pieces(text: str, size: int = 24) -> Iterator[str]:
    words = text.split(" ")
    for start in range(0, len(words), size):
        chunk = " ".join(words[start:start + size])
        yield chunk if start == 0 else " " + chunk

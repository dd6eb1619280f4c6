"""`Assistant`: the public object. It builds the parts once (one factory) and passes them in."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from assistant.answering.attribution.attribute import attribute, attribute_extractive
from assistant.answering.attribution.citing import NOT_FOUND, compose
from assistant.answering.base import pieces
from assistant.answering.decision.decide import decide
from assistant.answering.factory import build_answering, build_thresholds, chat_client
from assistant.answering.question import intent as whole_article
from assistant.answering.question import kinds
from assistant.answering.question.condense import check_article_ids, check_question, normalise_history
from assistant.answering.question.model_condense import ModelCondenser
from assistant.answering.reading import text as read_text
from assistant.answering.reading.extractive_reader import ExtractiveReader
from assistant.answering.retrieval.retriever import Retrieval, Retriever, sentence_hit
from assistant.answering.summary.model_summary import SUMMARY_MAX_TOKENS, build_summarizer
from assistant.answering.summary.summary import newest_first
from assistant.embeddings import CachedEmbedder, Embedder, build_embedder
from assistant.errors import AnswerMissingError, AssistantError, InputError, require_utf8
from assistant.indexing.chunking import STRIDE, WINDOW
from assistant.indexing.files import max_bytes
from assistant.indexing.indexer import Indexer, Progress
from assistant.indexing.uploads import add_uploads
from assistant.records import (
    Answer,
    ArticleInfo,
    AssistantInfo,
    Decision,
    IngestReport,
    Query,
    QuestionStep,
    Reading,
    ScoredSentence,
    Trace,
    Turn,
    Upload,
    UploadReport,
)
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
        self.store = Store(make_client(settings), self.embedder, settings, geometry=(WINDOW, STRIDE))
        self.indexer = Indexer(self.store)
        self.retriever = Retriever(self.store, settings)
        # the sentences shown to a model are checked again after each answer sentence, by the answerer and the
        # summariser alike: one cache of their vectors
        self.checker = CachedEmbedder(self.embedder)
        self.condenser, self.model_reader, self.choice = build_answering(settings)
        self.extractive_reader = ExtractiveReader()
        self.thresholds = build_thresholds(settings)
        self.answerer_name = self.model_reader.name if self.model_reader is not None else "extractive"
        self.backend = self.model_reader.backend if self.model_reader is not None else "offline extractive"
        self.summarizer = build_summarizer(
            settings, self.store, self.checker, chat_client(settings, self.choice, SUMMARY_MAX_TOKENS), self.thresholds
        )

    def warm_up(self) -> None:
        """Get the answerer ready before the first question: the local model's server is started and reads
        the most recently added article (what a first question is most likely about) into its prompt cache.
        The web chat calls this in the background at start; a no-op for the extractive answerer."""
        if self.model_reader is None:
            return
        shown: list[ScoredSentence] = []
        try:
            infos = self.store.article_infos()
            newest = newest_first(infos)[:1]
            if newest:
                title = infos[newest[0]].title
                shown = self.retriever.retrieve(Query(title, title), newest).context
        except AssistantError as exc:  # the model still starts; the first question reads the article itself
            log.warning("no article to read ahead of the first question: %s", exc)
        self.model_reader.warm_up(shown)

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
        records = self.store.article_records([require_utf8(article_id, "article id")])
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
            answerer=self.answerer_name,
            backend=self.backend,
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
            "condense": "model" if isinstance(self.condenser, ModelCondenser) else "conversation",
            "thresholds": asdict(self.thresholds),
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
        """Text deltas, then the final `Answer` (attributed citations, the full trace).

        question -> retrieval -> reading -> attribution -> decision: each step returns its record and the trace
        is assembled here from them. A whole-article question is answered by the summariser instead."""
        started = time.perf_counter()
        question = check_question(question)
        turns = normalise_history(history)
        scope = self.check_scope(article_ids)
        trace = Trace(
            question=question,
            answerer=self.answerer_name,
            backend=self.backend,
            article_ids=scope or [],
            notes=[f"answerer: {self.choice}"],
        )
        t = time.perf_counter()
        intent = whole_article.detect(question, self.embedder)  # a whole-article question needs no condensing
        if intent:
            query, step = (
                Query(question, question),
                QuestionStep(
                    question, how=f"whole-article question ({intent.kind}, by {intent.how})", intent=intent.kind
                ),
            )
        else:
            query, step = self.condenser.condense(question, turns)
            wanted = kinds.asks(question) or kinds.asks(query.standalone)
            step = replace(step, asks=wanted.value if wanted else None)
        trace.question_step = step
        trace.timings_ms["question"] = _ms(t)
        trace.standalone_question, trace.context = query.standalone, query.context
        if intent:
            yield from self._finish(self._summary(question, intent, scope, trace), trace, started)
            return
        retrieval = self.retriever.retrieve(query, scope)
        trace.passages, trace.sentences = retrieval.passage_hits(), retrieval.sentence_hits_for_trace()
        trace.timings_ms.update(retrieval.timings_ms())

        t = time.perf_counter()
        reading, shown = self._read(query, turns, retrieval, trace)
        trace.timings_ms["read"] = _ms(t)
        trace.reading, trace.prompt, trace.raw_model_output = reading, reading.prompt, reading.raw
        trace.shown = [sentence_hit(s) for s in shown]

        t = time.perf_counter()
        extractive = reading.reader == "extractive"
        if extractive:
            attribution = attribute_extractive(query, shown, reading.chosen)
        else:
            attribution = attribute(query, read_text.claims(reading.answer), shown, self.checker)
        trace.attribution = attribution
        trace.timings_ms["attribute"] = _ms(t)

        asks = kinds.asks(question) or kinds.asks(query.standalone)
        decided = decide(
            attribution,
            shown,
            question=query.standalone,
            refused_by_reader=reading.refused,
            asks=asks,
            follow_up=bool(query.context),
            extractive=extractive,
            thresholds=self.thresholds,
        )
        trace.decision = Decision(
            outcome="answered" if decided.answered else "refused",
            method=("extractive fallback" if self.model_reader is not None else "extractive")
            if extractive
            else "model",
            reason=decided.reason,
            rule=decided.rule,
            confidence=decided.confidence,
            threshold=decided.threshold,
            follow_up=bool(query.context),
        )
        if decided.answered:
            text, citations = compose(decided.kept, shown, verbatim=extractive)
            final = Answer(text, citations, True)
        else:
            final = Answer(NOT_FOUND, [], False)
        if reading.failure is not None or (extractive and self.model_reader is not None):
            note = self._note(trace)
            final = replace(final, text=f"{note}\n\n{final.text}")
        yield from self._finish(iter([*pieces(final.text), final]), trace, started)

    def read_plainly(
        self, question: str, history: Sequence[Any] | None = None, article_ids: Sequence[str] | None = None
    ) -> Reading:
        """The evaluation's floor (`assistant eval --plain`): the chat model shown what `answer` would show it, asked
        plainly ("answer in a few words, or say NOT_IN_TEXT"), its text taken as it is: no attribution, no
        decision, no citations. Needs a chat model (InputError otherwise)."""
        if self.model_reader is None:
            raise InputError(
                f"the plain baseline needs a chat model, and this Assistant answers with the {self.answerer_name} "
                f"reader ({self.choice.reason}); set ASSISTANT_ANSWERER=local or openai"
            )
        question = check_question(question)
        turns = normalise_history(history)
        query, _ = self.condenser.condense(question, turns)
        retrieval = self.retriever.retrieve(query, self.check_scope(article_ids))
        return self.model_reader.read(query, turns, retrieval.context, plainly=True)

    def _summary(
        self, question: str, intent: whole_article.Intent, scope: list[str] | None, trace: Trace
    ) -> Iterator[str | Answer]:
        """The summary path's deltas and answer; its record goes into the trace."""
        t = time.perf_counter()
        for event in self.summarizer.summarize(question, intent, scope):
            if isinstance(event, str):
                yield event
                continue
            trace.timings_ms["summary"] = _ms(t)
            trace.decision, trace.sentences = event.decision, event.sentences
            trace.notes += event.notes
            trace.prompt, trace.reading, trace.attribution = event.prompt, event.reading, event.attribution
            trace.raw_model_output = event.reading.raw if event.reading else None
            yield event.answer

    def _read(
        self, query: Query, turns: list[Turn], retrieval: Retrieval, trace: Trace
    ) -> tuple[Reading, list[ScoredSentence]]:
        """The model's reading of what retrieval chose; the extractive reader's when there is no model or it
        failed (then the model's failure is kept in the trace)."""
        if self.model_reader is not None:
            shown = retrieval.context
            reading = self.model_reader.read(query, turns, shown)
            if reading.failure is None:
                return reading, shown
            trace.notes.append(
                f"The model ({self.backend}) could not answer: {reading.failure}. The offline answer was given instead."
            )
            trace.timings_ms["model_failed_after"] = round(reading.seconds * 1000, 1)
            failed = reading
        else:
            failed = None
        ranked = retrieval.sentences
        asks = kinds.asks(query.question) or kinds.asks(query.standalone)
        reading = self.extractive_reader.read(query, ranked, self.thresholds.extractive_relevance, asks)
        if failed is not None:
            reading = replace(reading, prompt=failed.prompt, raw=failed.raw, failure=failed.failure)
        return reading, list(ranked)

    def _note(self, trace: Trace) -> str:
        failure = trace.reading.failure if trace.reading else None
        return f"Note: the language model ({self.backend}) could not answer ({failure}), so this is the offline answer."

    @staticmethod
    def _finish(events: Iterator[str | Answer], trace: Trace, started: float) -> Iterator[str | Answer]:
        for event in events:
            if isinstance(event, Answer):
                trace.latency_ms = _ms(started)
                trace.answered = event.answered
                yield replace(event, trace=trace)
                return
            yield event
        raise AnswerMissingError("the answerer finished without an answer; this is a bug: please report it")


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)

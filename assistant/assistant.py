"""`Assistant`: the public object. It builds the parts once (the answering flow in `answering/build.py`) and passes
them in."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answering.build import build_flow
from assistant.answering.question.model_condense import condense_mode
from assistant.answering.retrieval.retriever import Retriever
from assistant.answering.summary.summary import newest_first
from assistant.embeddings import CachedEmbedder, EmbeddingModel, build_embedder
from assistant.errors import AnswerMissingError, AssistantError, InputError, require_utf8
from assistant.indexing.chunk.chunking import STRIDE, WINDOW
from assistant.indexing.indexer import Indexer
from assistant.indexing.pipeline import Progress
from assistant.indexing.sources.files import max_bytes
from assistant.indexing.uploads import add_uploads
from assistant.inputs import History, check_article_ids, check_question, no_such_articles, normalise_history
from assistant.records import (
    Answer,
    ArticleInfo,
    AssistantInfo,
    Citation,
    IngestReport,
    Query,
    RankedSentence,
    ScoredSentence,
    Status,
    StoredArticle,
    Upload,
    UploadReport,
)
from assistant.settings import Settings
from assistant.store import Store, make_client

if TYPE_CHECKING:  # imported when asked for: LangChain's retriever classes are not needed to answer
    from assistant.integrations.langchain import AnswerRunnable, SentenceRetriever

log = logging.getLogger(__name__)

MAX_SEARCH = 100  # sentences one search may ask for


class Assistant:
    """Ingest articles and answer questions about them with verbatim sentence citations."""

    def __init__(
        self, index_dir: str | None = None, *, settings: Settings | None = None, embedder: EmbeddingModel | None = None
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
        # what attribution and the summariser embed (a question with a claim, a title, a counted word; the shown
        # sentences come with their stored vectors) is remembered in one cache for both
        checker = CachedEmbedder(self.embedder)
        self.flow = build_flow(settings, self.store, self.embedder, checker, self.retriever)
        self.condenser, self.model_reader, self.choice = self.flow.condenser, self.flow.model_reader, self.flow.choice
        self.thresholds = self.flow.thresholds
        self.answerer_name, self.backend = self.flow.answerer, self.flow.backend

    def warm_up(self) -> None:
        """Get the answerer ready before the first question: the local model's server is started and reads
        the most recently added article (what a first question is most likely about) into its prompt cache; the
        model check's server is started too.
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
        if self.flow.model_check is not None:
            self.flow.model_check.warm_up()

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

    def article(self, article_id: str) -> StoredArticle:
        """An article's text, title and sentences (with offsets), for showing a cited sentence in place."""
        with self.store.reading():  # the text and its sentences from one version
            records = self.store.article_records([require_utf8(article_id, "article id")])
            if article_id not in records:
                raise InputError(f"no article with id '{article_id}' in the index")
            info, text = records[article_id].info, records[article_id].text or ""
            sentences = tuple(s.sentence for s in self.store.sentences_of(article_id, info.content_hash))
        return StoredArticle(article_id, info.title, text, info.source, info.url, info.published, info.site, sentences)

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

    def status(self) -> Status:
        """Effective settings (secrets masked), what answers, the index's counts and health."""
        info = self.info()
        counts = self.store.counts()
        return Status(
            settings=self.settings.masked(),
            answerer=info.answerer,
            answerer_reason=info.reason,
            backend=info.backend,
            condense=condense_mode(self.condenser),
            model_check=self.flow.model_check is not None,
            read_again=self.flow.read_again is not None,
            thresholds=asdict(self.thresholds),
            embedding_model=info.embedding_model,
            embedding_dim=self.embedder.dimension,
            index=info.index,
            articles=counts["articles"],
            chunks=counts["chunks"],
            sentences=counts["sentences"],
            health=self.store.health(),
        )

    # ---- answering
    def check_question(self, question: str) -> str:
        """The question as it will be answered (trimmed), or an InputError that says what is wrong with it:
        a front end can check it at once, before the answer is streamed."""
        return check_question(question)

    def answer(self, question: str, history: History | None = None, article_ids: Sequence[str] | None = None) -> Answer:
        for event in self.stream(question, history=history, article_ids=article_ids):
            if isinstance(event, Answer):
                return event
        raise AnswerMissingError("the answerer finished without an answer; this is a bug: please report it")

    def check_scope(self, article_ids: Sequence[str] | None) -> list[str] | None:
        """The article ids to ask about (None: all); every one must be indexed, or a clear InputError. A front end
        that keeps a scope across questions checks it once here; each answer finds an unknown id again in the one
        read of the article records its question makes (retrieval's, or the summary's)."""
        scope = check_article_ids(article_ids)
        if scope:
            missing = sorted(set(scope) - set(self.store.article_records(scope, with_text=False)))
            if missing:
                raise no_such_articles(missing)
        return scope

    def stream(
        self, question: str, history: History | None = None, article_ids: Sequence[str] | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas, then the final `Answer` (attributed citations, the full trace): question -> retrieval ->
        reading -> attribution -> decision (`answering/flow.py`), or the summary of a whole-article question."""
        question = check_question(question)
        turns = normalise_history(history)
        return self.flow.stream(question, turns, check_article_ids(article_ids))

    def search(self, query: str, k: int = 8, article_ids: Sequence[str] | None = None) -> list[RankedSentence]:
        """The `k` sentences the retrieval step ranks highest for `query` (best first), each as a citation would
        give it (verbatim text, offsets, page address, date) with its score: what an answer would be read from,
        without reading. The query is taken as it is (no conversation); `article_ids` limits it to those articles.
        The LangChain retriever (`as_retriever`) and the MCP tool `search_sentences` give these."""
        query = check_question(query)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_SEARCH:
            raise InputError(f"k={k!r} is not allowed: ask for 1 to {MAX_SEARCH} sentences, e.g. 8")
        retrieval = self.retriever.retrieve(Query(query, query), check_article_ids(article_ids))
        found, articles = retrieval.sentences[:k], retrieval.articles  # the pages and dates as retrieval read them
        return [
            RankedSentence(
                Citation(
                    article_id=s.sentence.article_id,
                    title=s.title,
                    sentence_index=s.sentence.index,
                    text=s.sentence.text,
                    start=s.sentence.start,
                    end=s.sentence.end,
                    url=articles[s.sentence.article_id].url,
                    published=articles[s.sentence.article_id].published,
                ),
                round(float(s.score), 6),
            )
            for s in found
        ]

    # ---- for programs: LangChain (assistant/integrations/langchain.py)
    def as_retriever(self, k: int = 8, article_ids: Sequence[str] | None = None) -> SentenceRetriever:
        """A LangChain `BaseRetriever` over this index: its Documents are the ranked sentences of `search`
        (page_content: the sentence; metadata: article_id, title, sentence_index, start, end, url, published,
        score). `invoke(query, k=3)` asks for another number of sentences."""
        from assistant.integrations.langchain import SentenceRetriever

        return SentenceRetriever(assistant=self, k=k, article_ids=list(article_ids) if article_ids else None)

    def as_runnable(self) -> AnswerRunnable:
        """A LangChain `Runnable`: {"question", "history", "article_ids"} (or a question as a str) -> `Answer`;
        `stream` gives the text deltas, then the `Answer`."""
        from assistant.integrations.langchain import AnswerRunnable

        return AnswerRunnable(self)

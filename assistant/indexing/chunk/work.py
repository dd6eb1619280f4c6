"""What one file may cost an ingest, and splitting the files of a run within it.

The size limit (`ASSISTANT_MAX_FILE_MB`) bounds bytes, not work: 10 MB of `x. x. …` is 10,000 units of
text, 10 MB of prose 60,000 sentences, a JSON Lines file of 100,000 tiny records 300,000 records to
write. What an ingest spends is embedding distinct text (identical sentences are embedded once, see
`embed.py`) and writing records (a sentence, chunk and article record each). `WorkLimit` bounds both per
file, so any file the size limit accepts is ingested, or rejected with its reason, within about two minutes
on 2 cores; the figures that chose the bounds are in docs/benchmarks.md (section `ingest`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from assistant.embeddings import EmbeddingModel
from assistant.indexing.chunk.chunking import make_chunks
from assistant.indexing.parse.loaders import content_hash
from assistant.indexing.parse.sentences import PysbdBudget, TooManySentences, split_sentences
from assistant.records import Article, Chunk, Rejection, Sentence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkLimit:
    """The most one file may cost, so that its ingest takes at most about two minutes on 2 cores. Measured on 2
    cores: the local embedder reads 2,300-4,600 tokens/s on a quiet machine (the issue's probe: 1 MB of `x. `,
    1,000 texts of 256 tokens, in 110 s; docs/benchmarks.md: 153 sentences/s of ~30 tokens), and an embedded
    Chroma writes ~1,000 records/s (`benchmarks/bench_ingest.py`); so a file at both bounds costs 45-90 s + 25 s."""

    tokens: int = 200_000  # distinct text to embed, in the embedder's tokens (about 0.8 MB of distinct prose)
    records: int = 25_000  # sentence, chunk and article records to write (about 16,000 sentences)


@dataclass(frozen=True)
class Prepared:
    """An article split and chunked, ready to embed and write."""

    article: Article
    content_hash: str
    sentences: list[Sentence]
    chunks: list[Chunk]


def prepare_files(
    todo: list[Article], embedder: EmbeddingModel, limit: WorkLimit, stop: threading.Event, rejected: list[Rejection]
) -> Iterator[Prepared]:
    """The articles to write, split and chunked, file by file. A file over the limit is rejected whole, before
    any of it is written (its stored articles stay); an article that cannot be split is rejected alone."""
    for _, group in groupby(todo, key=lambda a: a.source):  # a file's articles come together
        if stop.is_set():
            return
        articles = list(group)
        prepared = _prepare_file(articles, embedder, limit, stop, rejected)
        if prepared is not None:
            yield from prepared


def _prepare_file(
    articles: list[Article],
    embedder: EmbeddingModel,
    limit: WorkLimit,
    stop: threading.Event,
    rejected: list[Rejection],
) -> list[Prepared] | None:
    source = articles[0].source
    if 3 * len(articles) > limit.records:  # each article is at least a sentence, a chunk and an article record
        rejected.append(Rejection(source, _too_many_records(f"at least {3 * len(articles):,}", len(articles), limit)))
        return None
    budget = PysbdBudget()  # one per file
    out: list[Prepared] = []
    records = 0
    for article in articles:
        if stop.is_set():
            return None
        try:
            sentences = split_sentences(article, budget, max_sentences=limit.records - records)
        except TooManySentences:
            reason = _too_many_records(f"more than {limit.records:,}", len(articles), limit)
            rejected.append(Rejection(source, reason))
            return None
        except Exception:  # a splitter failure rejects this article, never the run
            log.warning("splitting %s failed", article.source, exc_info=True)
            rejected.append(Rejection(article.source, "its sentences cannot be split"))
            continue
        if not sentences:
            rejected.append(Rejection(article.source, "no sentences found in the text"))
            continue
        chunks = make_chunks(article, sentences)
        records += len(sentences) + len(chunks) + 1
        if records > limit.records:
            rejected.append(Rejection(source, _too_many_records(f"at least {records:,}", len(articles), limit)))
            return None
        out.append(Prepared(article, content_hash(article), sentences, chunks))
    distinct = list(dict.fromkeys(s.text for p in out for s in p.sentences))
    tokens = embedder.count_tokens(distinct, stop_after=limit.tokens)
    if tokens > limit.tokens:
        rejected.append(
            Rejection(
                source,
                f"too much distinct text to embed for one file: more than {limit.tokens:,} tokens (about 0.8 MB "
                "of prose; more would take over two minutes on 2 cores); split it into smaller files",
            )
        )
        return None
    return out


def _too_many_records(count: str, articles: int, limit: WorkLimit) -> str:
    what = f"{articles:,} articles" if articles > 1 else "one article"
    return (
        f"too many records to write for one file: {count} sentences, chunks and articles from {what}, where one "
        f"file may have {limit.records:,} (about 16,000 sentences); split it into smaller files"
    )

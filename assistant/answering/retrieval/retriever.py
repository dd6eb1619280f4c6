"""The retrieval step: hybrid search (dense chunks + dense sentences + BM25, fused by reciprocal rank),
the sentences of what was found ranked for the question (`ranking.py`), and what the reader is shown
(`context.py`: whole short articles, else the best sentences with their neighbours). It reads the records of
the articles it found once, and returns one `Retrieval` record that carries them (titles, pages, dates) and
the shown sentences' stored vectors; no later step goes back to the store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from langchain_chroma import Chroma
from langchain_core.documents import Document

from assistant.answering.retrieval import context, ranking
from assistant.answering.retrieval.lexical import ChunkRef, LexicalIndex
from assistant.answering.terms import terms
from assistant.errors import IndexEmptyError
from assistant.indexing.chunk.chunking import chunk_span, chunks_covering
from assistant.inputs import no_such_articles
from assistant.records import ArticleInfo, Passage, Query, QuerySignals, Retrieval, ScoredSentence, Sentence
from assistant.settings import Settings
from assistant.store import Store, chroma_errors, meta_int, meta_text, record_prefix

CANDIDATES = 24  # hits taken from each channel before fusion
CONTEXT_WEIGHT = 0.3  # weight of the conversation context in the query vector
LINKED_CANDIDATES = 4  # articles named by title that are scored for the second hop, the first named first
LINKED = 1  # of those, the ones shown (each whole, when it fits), best first; 2 measured on HotpotQA fit: a tie


@dataclass
class _Candidate:
    """A chunk found by some channel, before it becomes a `Passage`."""

    article_id: str
    content_hash: str
    first_sentence: int
    last_sentence: int
    text: str | None = None
    dense: float | None = None
    bm25: float | None = None


class Retriever:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.embedder = store.embedder
        self.lexical = LexicalIndex(store)
        self._vectors: Chroma | None = None

    def vectors(self) -> Chroma:
        """LangChain's Chroma over the store's chunks collection, made anew when the store reopened it
        (another process dropped and rebuilt the index)."""
        current = self._vectors
        if current is None or current._collection.id != self.store.chunks.id:
            current = self._vectors = Chroma(
                client=self.store.client,
                collection_name=self.store.chunks.name,
                embedding_function=self.store.embedder,
                create_collection_if_not_exists=False,
            )
        return current

    def retrieve(self, query: Query, article_ids: Sequence[str] | None = None) -> Retrieval:
        """The passages and sentences for `query`, read as one snapshot of the index: no batch is written meanwhile,
        by this process or another (`assistant.index_lock`); tried again when the store fails it from the inside."""
        return self.store.snapshot(lambda: self._retrieve(query, article_ids))

    def _retrieve(self, query: Query, article_ids: Sequence[str] | None) -> Retrieval:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.lexical.refresh(self.store.state()["generation"])
        timings["lexical_refresh"] = time.perf_counter() - t0
        if self.lexical.size == 0:
            if article_ids:  # an empty index holds none of the articles asked about
                raise no_such_articles(list(article_ids))
            raise IndexEmptyError(
                f"no articles are indexed yet in {self.store.location}: add some with `assistant ingest PATH` "
                "or `assistant rebuild`, or upload them in the web chat"
            )

        t = time.perf_counter()
        # the context is read together with the question: "Daniel Noboa ... What does he want to change?"
        texts = [query.standalone] + ([f"{query.context} {query.standalone}"] if query.context else [])
        vecs = self.embedder.embed(texts)
        q_vec = vecs[0]
        r_vec = ranking.unit(q_vec + CONTEXT_WEIGHT * vecs[1]) if query.context else q_vec
        timings["embed"] = time.perf_counter() - t

        wanted = set(article_ids) if article_ids else None
        # Any: the one filter goes to langchain_chroma (typed `dict[str, str]`, narrower than what it passes on) and to
        # chromadb (typed `Where`)
        where: dict[str, Any] | None = {"article_id": {"$in": sorted(wanted)}} if wanted else None
        t = time.perf_counter()
        with chroma_errors(self.settings):
            dense = self.vectors().similarity_search_by_vector_with_relevance_scores(
                r_vec.tolist(), k=CANDIDATES, filter=where
            )
            sent_hits = self.store.sentences.query(
                query_embeddings=[r_vec.tolist()], n_results=CANDIDATES, where=where, include=["metadatas", "distances"]
            )
        timings["dense"] = time.perf_counter() - t

        t = time.perf_counter()
        q_terms = terms(query.standalone)
        c_terms = [x for x in terms(query.context) if x not in set(q_terms)] if query.context else []
        lexical = self.lexical.search(q_terms + c_terms, CANDIDATES, wanted)
        timings["bm25"] = time.perf_counter() - t

        t = time.perf_counter()
        idf = self.lexical.idf
        signals = QuerySignals(
            q_vec,
            r_vec,
            {x: idf(x) for x in q_terms},
            {x: idf(x) for x in c_terms},
            frozenset(ranking.words_of(query.previous_answer)),
        )
        candidates, dense_rank, lexical_rank = self._candidates(dense, lexical)
        sentence_hits = [
            (meta_text(m, "article_id"), meta_int(m, "sentence_index"))
            for m in ((sent_hits["metadatas"] or [[]])[0] if sent_hits["ids"] else [])
            if m
        ]
        result = self._fuse_and_rank(
            query, signals, candidates, dense_rank, lexical_rank, sentence_hits, sorted(wanted or ())
        )
        timings["rank"] = time.perf_counter() - t
        t = time.perf_counter()
        context, linked = self._context(result, wanted)
        timings["context"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        if linked:  # their records, for the citations' titles and pages
            result = replace(
                result,
                articles={**result.articles, **{a.id: a for a in linked}},
                titles={**result.titles, **{a.id: a.title for a in linked}},
            )
        return replace(result, context=context, timings=timings)

    # ---- fusion
    @staticmethod
    def _candidates(
        dense: list[tuple[Document, float]], lexical: list[tuple[ChunkRef, float]]
    ) -> tuple[dict[str, _Candidate], list[str], list[str]]:
        found: dict[str, _Candidate] = {}
        dense_rank, lexical_rank = [], []
        for doc, distance in dense:
            meta = doc.metadata or {}
            if not doc.id or "article_id" not in meta:
                continue  # a hit whose record vanished under us (another process removed it)
            c = found.setdefault(
                doc.id,
                _Candidate(
                    meta["article_id"], meta["content_hash"], int(meta["first_sentence"]), int(meta["last_sentence"])
                ),
            )
            c.text, c.dense = doc.page_content, max(c.dense if c.dense is not None else -1e9, 1.0 - distance)
            dense_rank.append(doc.id)
        for ref, score in lexical:
            c = found.setdefault(
                ref.chunk_id, _Candidate(ref.article_id, ref.content_hash, ref.first_sentence, ref.last_sentence)
            )
            c.text, c.bm25 = c.text or ref.text, max(c.bm25 if c.bm25 is not None else -1e9, score)
            lexical_rank.append(ref.chunk_id)
        return found, dense_rank, lexical_rank

    def _fuse_and_rank(
        self,
        query: Query,
        signals: QuerySignals,
        candidates: dict[str, _Candidate],
        dense_rank: list[str],
        lexical_rank: list[str],
        sentence_hits: list[tuple[str, int]],
        scope: list[str],
    ) -> Retrieval:
        sentence_rrf = ranking.rrf(sentence_hits)
        # the one read of the article records for this question: everything after takes them from the `Retrieval`;
        # the articles asked about are read with them, so an id the index does not hold is found here
        found_ids = [c.article_id for c in candidates.values()] + [a for a, _ in sentence_rrf]
        read = self.store.article_records(list(dict.fromkeys(scope + found_ids)), with_text=False)
        if missing := [a for a in scope if a not in read]:
            raise no_such_articles(missing)
        records = {a: r.info for a, r in read.items()}
        live = {
            cid: c
            for cid, c in candidates.items()
            if c.article_id in records and records[c.article_id].content_hash == c.content_hash
        }
        votes: dict[str, float] = {}  # a sentence hit also votes for the chunks that contain it
        for (art_id, index), score in sentence_rrf.items():
            rec = records.get(art_id)
            if rec is None:
                continue
            n_sentences, prefix = rec.sentences, record_prefix(art_id, rec.content_hash)
            for c in chunks_covering(index, n_sentences, rec.chunks or 1):  # no count stored: one, as before
                cid = f"{prefix}c{c}"
                if cid not in live:
                    live[cid] = _Candidate(art_id, rec.content_hash, *chunk_span(c, n_sentences))
                votes[cid] = votes.get(cid, 0.0) + score
        fused = ranking.fuse(
            ranking.rrf(c for c in dense_rank if c in live), ranking.rrf(c for c in lexical_rank if c in live), votes
        )
        ordered = sorted(live, key=lambda cid: -fused.get(cid, 0.0))[: self.settings.top_k]
        titles = {a: r.title for a, r in records.items()}
        passages = [
            Passage(
                cid,
                live[cid].article_id,
                titles[live[cid].article_id],
                live[cid].first_sentence,
                live[cid].last_sentence,
                live[cid].text or "",
                fused.get(cid, 0.0),
                live[cid].dense,
                live[cid].bm25,
            )
            for cid in ordered
        ]
        sentences = self._rank_sentences(signals, passages, sentence_rrf, records, titles)
        passages = [p if p.text else _with_text(p, sentences) for p in passages]
        return Retrieval(
            query, passages, sentences, titles, signals=signals, sentence_hits=sentence_rrf, articles=records
        )

    def _context(self, retrieval: Retrieval, scope: set[str] | None) -> tuple[list[ScoredSentence], list[ArticleInfo]]:
        """What the reader is shown (`context.choose`), from the candidates gathered here and the article records
        read with them (every ranked sentence's article is among those); and the records of the articles shown for
        the names that lead to them (`links.py`) that retrieval had not found."""
        if retrieval.signals is None or not retrieval.sentences:
            return [], []
        order = context.articles_in_order(retrieval.sentences)
        records = {a: retrieval.articles[a] for a in order if a in retrieval.articles}
        short = {a for a, r in records.items() if r.sentences <= context.WHOLE_MAX_SENTENCES}
        keys = {(a, i) for a in short for i in range(records[a].sentences)}
        keys |= {k for k in context.window_keys(retrieval.sentences) if k[0] in records}
        keys = {k for k in keys if k[1] < records[k[0]].sentences}
        support = _support(retrieval.passages)
        scored = self._score(retrieval.signals, keys, support, retrieval.sentence_hits, records, retrieval.titles)
        by_key = {(s.sentence.article_id, s.sentence.index): s for s in scored}
        whole = {
            a: [by_key[(a, i)] for i in range(records[a].sentences) if (a, i) in by_key] for a in order if a in short
        }
        linked = self._linked(retrieval, whole.get(order[0], []), set(order[:1]), scope, support)
        for info, sentences in linked:
            whole[info.id] = sentences
        shown = context.choose(retrieval.sentences, whole, by_key, linked=[info.id for info, _ in linked])
        in_context = {s.sentence.article_id for s in shown}
        return shown, [i for i, _ in linked if i.id in in_context and i.id not in retrieval.articles]

    def _linked(
        self,
        retrieval: Retrieval,
        first: list[ScoredSentence],
        shown: set[str],
        scope: set[str] | None,
        support: dict[tuple[str, int], float],
    ) -> list[tuple[ArticleInfo, list[ScoredSentence]]]:
        """The short articles that the question or the first article (`first`: its sentences, when it is shown
        whole) names by their titles, at most `LINKED`, those that read best as the question answered first, each
        with its sentences scored; none when they name none (the index's titles are `links.TitleIndex`)."""
        if not first or retrieval.signals is None:
            return []
        text = " ".join([retrieval.query.standalone, *(s.sentence.text for s in first)])
        named = [a for a in self.lexical.snapshot().titles.named_in(text) if a not in shown]
        named = [a for a in named if scope is None or a in scope][:LINKED_CANDIDATES]
        if not named:
            return []
        known = {a: retrieval.articles[a] for a in named if a in retrieval.articles}
        read = self.store.article_records([a for a in named if a not in known], with_text=False)
        infos = {**known, **{a: r.info for a, r in read.items()}}
        infos = {a: r for a, r in infos.items() if r.sentences <= context.WHOLE_MAX_SENTENCES}
        if not infos:
            return []
        keys = {(a, i) for a, r in infos.items() for i in range(r.sentences)}
        titles = {**retrieval.titles, **{a: r.title for a, r in infos.items()}}
        scored = self._score(retrieval.signals, keys, support, retrieval.sentence_hits, infos, titles)
        best: dict[str, float] = {}
        for s in scored:
            best[s.sentence.article_id] = max(best.get(s.sentence.article_id, s.score), s.score)
        chosen = sorted(best, key=lambda a: -best[a])[:LINKED]
        return [
            (infos[a], sorted((s for s in scored if s.sentence.article_id == a), key=lambda s: s.sentence.index))
            for a in chosen
        ]

    # ---- sentence ranking
    def _rank_sentences(
        self,
        signals: QuerySignals,
        passages: list[Passage],
        sentence_rrf: dict[tuple[str, int], float],
        records: dict[str, ArticleInfo],
        titles: dict[str, str],
    ) -> list[ScoredSentence]:
        support = _support(passages)
        keys = set(support) | {key for key in sentence_rrf if key[0] in records}
        scored = self._score(signals, keys, support, sentence_rrf, records, titles)
        scored.sort(key=lambda x: -x.score)
        return scored

    def _score(
        self,
        signals: QuerySignals,
        keys: set[tuple[str, int]],
        support: dict[tuple[str, int], float],
        sentence_rrf: dict[tuple[str, int], float],
        records: dict[str, ArticleInfo],
        titles: dict[str, str],
    ) -> list[ScoredSentence]:
        """Score the sentences `keys` (article id, index); each is read with its neighbours."""
        by_article: dict[str, set[int]] = {}
        for art_id, index in keys:
            if art_id in records:
                by_article.setdefault(art_id, set()).add(index)
        wanted: dict[str, tuple[str, Sequence[int]]] = {
            a: (records[a].content_hash, sorted({j for i in idx for j in (i - 1, i, i + 1) if j >= 0}))
            for a, idx in by_article.items()
        }
        got = self.store.sentences_by_index(wanted, with_vectors=True)
        vectors = {(g.sentence.article_id, g.sentence.index): np.asarray(g.vector, dtype=np.float32) for g in got}
        scored = []
        for g in got:
            s: Sentence = g.sentence
            key = (s.article_id, s.index)
            if s.index not in by_article[s.article_id]:
                continue  # read only as a neighbour
            around = [vectors[(s.article_id, j)] for j in (s.index - 1, s.index + 1) if (s.article_id, j) in vectors]
            window = ranking.unit((vectors[key] + (sum(around) / len(around) if around else 0)) / 2)
            title = titles.get(s.article_id, s.article_id)
            s_terms = set(terms(s.text))
            f = ranking.features(
                signals,
                vectors[key],
                window,
                s_terms,
                set(terms(title)) - s_terms,
                support.get(key, 0.0) / (ranking.RRF_K + 1) + sentence_rrf.get(key, 0.0),
                s.text == title,
                ranking.words_of(s.text),
            )
            scored.append(
                ScoredSentence(
                    s,
                    title,
                    ranking.rank_score(f),
                    f.similarity,
                    f.coverage,
                    f.context_similarity,
                    f.context_coverage,
                    f.missing_numbers,
                    vectors[key],
                )
            )
        return scored


def _support(passages: list[Passage]) -> dict[tuple[str, int], float]:
    """How well the best passage containing each sentence ranked, relative to the top passage."""
    support: dict[tuple[str, int], float] = {}
    top = passages[0].score if passages and passages[0].score > 0 else 1.0
    for p in passages:
        for i in range(p.first_sentence, p.last_sentence + 1):
            key = (p.article_id, i)
            support[key] = max(support.get(key, 0.0), p.score / top)
    return support


def _with_text(passage: Passage, sentences: list[ScoredSentence]) -> Passage:
    parts = sorted(
        (
            s.sentence
            for s in sentences
            if s.sentence.article_id == passage.article_id
            and passage.first_sentence <= s.sentence.index <= passage.last_sentence
        ),
        key=lambda s: s.index,
    )
    return replace(passage, text=" ".join(s.text for s in parts))

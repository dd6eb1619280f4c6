"""The answering side's reader: hybrid retrieval (dense chunks + dense sentences + BM25, fused by
reciprocal rank), then the sentences of what was found, ranked for the question."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_chroma import Chroma

from assistant.answering.lexical import LexicalIndex
from assistant.answering.terms import terms
from assistant.errors import IndexEmptyError
from assistant.indexing.chunking import STRIDE
from assistant.records import Passage, Query, ScoredSentence, Sentence
from assistant.settings import Settings
from assistant.store import Store, chroma_errors, record_prefix

RRF_K = 60
CANDIDATES = 24  # hits taken from each channel before fusion
CONTEXT_WEIGHT = 0.3  # weight of the conversation context in the query vector
W_COVERAGE = 0.35
CONTEXT_TERM_WEIGHT = 0.25  # weight of the conversation's terms next to the question's
TITLE_WEIGHT = 0.5  # a question term found only in the article's title
HEADLINE_PENALTY = 0.15
REPEAT_PENALTY = 0.4  # a follow-up rarely wants the very sentence that answered the last question
W_NEIGHBOURS = 0.3  # a sentence is also read with its neighbours ("He was 60." after "... died Sunday")
W_PASSAGE = 3.0




@dataclass
class Retrieval:
    query: Query
    passages: list[Passage]
    sentences: list[ScoredSentence]
    titles: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def trace(self, limit: int = 8) -> dict[str, Any]:
        return {
            "passages": [
                {"article_id": p.article_id, "title": p.title, "sentences": [p.first_sentence, p.last_sentence],
                 "score": round(p.score, 4), "dense": _r(p.dense_score), "bm25": _r(p.lexical_score),
                 "text": p.text}
                for p in self.passages[:limit]
            ],
            "sentences": [
                {"article_id": s.sentence.article_id, "sentence_index": s.sentence.index,
                 "score": round(s.score, 4), "similarity": round(s.similarity, 4),
                 "coverage": round(s.coverage, 4), "context_similarity": round(s.context_similarity, 4),
                 "context_coverage": round(s.context_coverage, 4), "text": s.sentence.text}
                for s in self.sentences[:limit]
            ],
            "timings_ms": {k: round(v * 1000, 1) for k, v in self.timings.items()},
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


class Retriever:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.embedder = store.embedder
        self.lexical = LexicalIndex(store)
        self.vectors = Chroma(client=store.client, collection_name=store.chunks.name,
                              embedding_function=store.embedder, create_collection_if_not_exists=False)

    def retrieve(self, query: Query, article_ids: Sequence[str] | None = None) -> Retrieval:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.lexical.refresh(self.store.state()["generation"])
        timings["lexical_refresh"] = time.perf_counter() - t0
        if self.lexical.size == 0:
            raise IndexEmptyError(
                "no articles are indexed yet: add some with `assistant ingest PATH` or `assistant rebuild`, "
                "or upload them in the web chat"
            )

        t = time.perf_counter()
        # the context is read together with the question: "Daniel Noboa ... What does he want to change?"
        texts = [query.standalone] + ([f"{query.context} {query.standalone}"] if query.context else [])
        vecs = self.embedder.embed(texts)
        q_vec = vecs[0]
        r_vec = _unit(q_vec + CONTEXT_WEIGHT * vecs[1]) if query.context else q_vec
        timings["embed"] = time.perf_counter() - t

        wanted = set(article_ids) if article_ids else None
        where = {"article_id": {"$in": sorted(wanted)}} if wanted else None
        t = time.perf_counter()
        with chroma_errors(self.settings):
            dense = self.vectors.similarity_search_by_vector_with_relevance_scores(
                r_vec.tolist(), k=CANDIDATES, filter=where)
            sent_hits = self.store.sentences.query(
                query_embeddings=[r_vec.tolist()], n_results=CANDIDATES, where=where,
                include=["metadatas", "distances"])
        timings["dense"] = time.perf_counter() - t

        t = time.perf_counter()
        q_terms = terms(query.standalone)
        c_terms = [x for x in terms(query.context) if x not in set(q_terms)] if query.context else []
        lexical = self.lexical.search(q_terms + c_terms, CANDIDATES, wanted)
        timings["bm25"] = time.perf_counter() - t

        t = time.perf_counter()
        result = self._fuse_and_rank(query, q_vec, r_vec, q_terms, c_terms, dense, sent_hits, lexical)
        timings["rank"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        result.timings = timings
        return result

    # ---- fusion
    def _fuse_and_rank(self, query, q_vec, r_vec, q_terms, c_terms, dense, sent_hits, lexical) -> Retrieval:
        chunks: dict[str, dict[str, Any]] = {}

        def add(chunk_id: str, meta: dict[str, Any], text: str | None, rank: int, channel: str, score: float):
            entry = chunks.setdefault(chunk_id, {"meta": meta, "text": text, "rrf": 0.0})
            entry["rrf"] += 1.0 / (RRF_K + rank)
            entry[channel] = max(entry.get(channel, -1e9), score)
            if entry["text"] is None and text is not None:
                entry["text"] = text

        for rank, (doc, distance) in enumerate(dense, 1):
            add(doc.id, doc.metadata, doc.page_content, rank, "dense", 1.0 - distance)
        for rank, (ref, score) in enumerate(lexical, 1):
            meta = {"article_id": ref.article_id, "content_hash": ref.content_hash,
                    "first_sentence": ref.first_sentence, "last_sentence": ref.last_sentence, "title": ref.title}
            add(ref.chunk_id, meta, ref.text, rank, "bm25", score)

        sentence_rank: dict[tuple[str, int], float] = {}
        hit_meta = sent_hits["metadatas"][0] if sent_hits["ids"] else []
        for rank, meta in enumerate(hit_meta, 1):
            sentence_rank[(meta["article_id"], int(meta["sentence_index"]))] = 1.0 / (RRF_K + rank)

        records = self.store.article_records([e["meta"]["article_id"] for e in chunks.values()]
                                             + [a for a, _ in sentence_rank], with_text=False)
        live = {cid: e for cid, e in chunks.items()
                if records.get(e["meta"]["article_id"], {}).get("content_hash") == e["meta"]["content_hash"]}
        for (art_id, index), rrf in sentence_rank.items():  # a sentence hit also votes for its chunks
            rec = records.get(art_id)
            if rec is None:
                continue
            n_chunks = int(rec.get("chunks", 1))
            prefix = record_prefix(art_id, rec["content_hash"])
            for c in range(max(0, (index - 1) // STRIDE), min(index // STRIDE, n_chunks - 1) + 1):
                cid = f"{prefix}c{c}"
                first = c * STRIDE
                entry = live.setdefault(cid, {"meta": {"article_id": art_id, "content_hash": rec["content_hash"],
                                                       "first_sentence": first,
                                                       "last_sentence": min(first + 2, int(rec["sentences"]) - 1),
                                                       "title": rec.get("title", "")},
                                              "text": None, "rrf": 0.0})
                entry["rrf"] += rrf

        ordered = sorted(live.items(), key=lambda kv: -kv[1]["rrf"])[: self.settings.top_k]
        passages = [
            Passage(cid, e["meta"]["article_id"], str(records[e["meta"]["article_id"]].get("title", "")),
                    int(e["meta"]["first_sentence"]), int(e["meta"]["last_sentence"]), e["text"] or "",
                    e["rrf"], e.get("dense"), e.get("bm25"))
            for cid, e in ordered
        ]
        titles = {a: str(r.get("title", a)) for a, r in records.items()}
        sentences = self._rank_sentences(query, passages, sentence_rank, records, q_vec, r_vec, q_terms, c_terms,
                                         titles)
        passages = [p if p.text else _with_text(p, sentences) for p in passages]
        return Retrieval(query, passages, sentences, titles)

    # ---- sentence ranking
    def _rank_sentences(self, query, passages, sentence_rank, records, q_vec, r_vec, q_terms, c_terms, titles):
        support: dict[tuple[str, int], float] = {}
        top = passages[0].score if passages else 1.0
        for p in passages:
            for i in range(p.first_sentence, p.last_sentence + 1):
                key = (p.article_id, i)
                support[key] = max(support.get(key, 0.0), p.score / top)
        for key in sentence_rank:
            if key[0] in records:
                support.setdefault(key, 0.0)
        by_article: dict[str, set[int]] = {}
        for art_id, index in support:
            by_article.setdefault(art_id, set()).add(index)
        wanted = {a: (records[a]["content_hash"], sorted({j for i in idx for j in (i - 1, i, i + 1) if j >= 0}))
                  for a, idx in by_article.items()}
        got = self.store.sentences_by_index(wanted, with_vectors=True)
        vectors = {(g.sentence.article_id, g.sentence.index): np.asarray(g.vector, dtype=np.float32) for g in got}
        stored, neighbours = [], {}
        for g in got:
            art_id, i = g.sentence.article_id, g.sentence.index
            if i in by_article[art_id]:
                stored.append(g)
                around = [vectors[(art_id, j)] for j in (i - 1, i + 1) if (art_id, j) in vectors]
                neighbours[(art_id, i)] = (vectors[(art_id, i)] + (sum(around) / len(around) if around else 0)) / 2
        if not stored:
            return []
        matrix = np.asarray([s.vector for s in stored], dtype=np.float32)
        windows = np.asarray([neighbours[(s.sentence.article_id, s.sentence.index)] for s in stored])
        windows /= np.clip(np.linalg.norm(windows, axis=1, keepdims=True), 1e-12, None)
        sim_q = matrix @ q_vec
        sim_r = matrix @ r_vec
        sim_w = windows @ r_vec
        idf = self.lexical.idf
        q_set, c_set = set(q_terms), set(c_terms)
        numbers = {t for t in q_set if any(ch.isdigit() for ch in t)}
        q_weight = sum(idf(t) for t in q_set) or 1.0
        qc_weight = q_weight + CONTEXT_TERM_WEIGHT * sum(idf(t) for t in c_set)
        previous = set(_norm(query.previous_answer).split())
        scored = []
        for row, item in enumerate(stored):
            s: Sentence = item.sentence
            s_terms = set(terms(s.text))
            t_terms = set(terms(titles.get(s.article_id, ""))) - s_terms  # the title counts, but less
            q_hits = sum(idf(t) for t in q_set & s_terms) + TITLE_WEIGHT * sum(idf(t) for t in q_set & t_terms)
            coverage = q_hits / q_weight
            c_cov = (q_hits + CONTEXT_TERM_WEIGHT * sum(idf(t) for t in c_set & (s_terms | t_terms))) / qc_weight
            key = (s.article_id, s.index)
            passage = support.get(key, 0.0) * (1.0 / (RRF_K + 1)) + sentence_rank.get(key, 0.0)
            score = float(sim_r[row]) + W_NEIGHBOURS * float(sim_w[row]) + W_COVERAGE * c_cov + W_PASSAGE * passage
            if s.text == titles.get(s.article_id):
                score -= HEADLINE_PENALTY  # the headline names the topic; a body sentence answers
            words = _norm(s.text).split()
            if previous and words and sum(w in previous for w in words) >= 0.8 * len(words):
                score -= REPEAT_PENALTY
            scored.append(ScoredSentence(s, titles.get(s.article_id, s.article_id), score, float(sim_q[row]),
                                         coverage, float(sim_r[row]), c_cov, len(numbers - s_terms - t_terms)))
        scored.sort(key=lambda x: -x.score)
        return scored


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _with_text(passage: Passage, sentences: list[ScoredSentence]) -> Passage:
    parts = sorted((s.sentence for s in sentences if s.sentence.article_id == passage.article_id
                    and passage.first_sentence <= s.sentence.index <= passage.last_sentence),
                   key=lambda s: s.index)
    return Passage(passage.chunk_id, passage.article_id, passage.title, passage.first_sentence,
                   passage.last_sentence, " ".join(s.text for s in parts), passage.score,
                   passage.dense_score, passage.lexical_score)

"""The plain LangChain recipe, for comparison in `assistant eval --baseline`:
RecursiveCharacterTextSplitter(1000, 200), the same embedder, Chroma similarity top-4, the top
chunk as the answer (no sentence ranking, no refusal)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document

from assistant.embeddings import EmbeddingModel
from assistant.errors import ConfigError

try:  # the evaluation's own dependency: the `eval` extra, not the app's
    from langchain_text_splitters import RecursiveCharacterTextSplitter
except ImportError:
    raise ConfigError(
        "the evaluation baseline (assistant eval --baseline) needs langchain-text-splitters, which the app does "
        "not install; install the eval extra: pip install 'article-assistant[eval]' (in a checkout: "
        "pip install -e '.[eval]')"
    ) from None

from assistant.evaluation.metrics import contains_answer, evidence_covered, hits_evidence, mean, percentile, token_f1
from assistant.evaluation.rows import BaselineResult, DocRow, EvalRow
from assistant.indexing.parse.sentences import split_sentences
from assistant.records import Article

K = 5


class _Record(TypedDict):
    answerable: bool
    recall_at_k: bool | None
    contains: bool
    f1: float
    chunk_has_evidence: bool | None
    cited_ok: list[bool]
    latency_ms: float


def run_baseline(embedder: EmbeddingModel, docs_path: Path, rows: Sequence[EvalRow], tmp: Path) -> BaselineResult:
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = []
    for line in docs_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d: DocRow = json.loads(line)
            for piece in splitter.split_text(d["text"]):
                documents.append(Document(page_content=piece, metadata={"doc_id": d["doc_id"]}))
    client = chromadb.PersistentClient(path=str(tmp / "baseline"), settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(
        client=client,
        collection_name="baseline",
        embedding_function=embedder,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    t = time.perf_counter()
    for start in range(0, len(documents), 2000):
        store.add_documents(documents[start : start + 2000])
    ingest_s = time.perf_counter() - t
    records: list[_Record] = []
    for row in rows:
        started = time.perf_counter()
        question = row["question"]
        hits = store.similarity_search(question, k=4)
        latency = time.perf_counter() - started
        evidence = [
            (s["doc_id"], e) for s, e in zip(row.get("evidence_spans") or [], row.get("evidence", []), strict=False)
        ]
        sentences = []  # the baseline ranks chunks only: its sentences in chunk order
        for hit in hits:
            art = Article(hit.metadata["doc_id"], "", hit.page_content, "")
            sentences += [(hit.metadata["doc_id"], s.text) for s in split_sentences(art)]
        top = hits[0] if hits else None
        answer = top.page_content if top else ""
        cited = [(top.metadata["doc_id"], top.page_content)] if top else []
        records.append(
            {
                "answerable": bool(row.get("answerable", True)),
                "recall_at_k": any(evidence_covered(sentences[:K], evidence)) if evidence else None,
                "contains": contains_answer(answer, row.get("answers", [])),
                "f1": max((token_f1(answer, g) for g in row.get("answers", [])), default=0.0),
                "chunk_has_evidence": any(evidence_covered(cited, evidence)) if evidence else None,
                "cited_ok": hits_evidence(cited, evidence) if evidence else [],
                "latency_ms": latency * 1000,
            }
        )
    pos = [r for r in records if r["answerable"]]
    latencies = [r["latency_ms"] for r in records]
    return {
        "recipe": "RecursiveCharacterTextSplitter(1000, 200) + same embedder + Chroma top-4; top chunk answers",
        "ingest_seconds": round(ingest_s, 2),
        "metrics": {
            f"evidence_recall@{K}": mean([float(r["recall_at_k"]) for r in pos if r["recall_at_k"] is not None]),
            "answered_answerable": 1.0 if pos else None,
            "answer_contains": mean([float(r["contains"]) for r in pos]),
            "answer_f1": mean([r["f1"] for r in pos]),
            "citation_precision": mean([float(ok) for r in pos for ok in r["cited_ok"]]),
            "refusal_recall": 0.0 if len(pos) < len(records) else None,
            "latency_p50_ms": round(percentile(latencies, 0.5), 2),
            "latency_p95_ms": round(percentile(latencies, 0.95), 2),
        },
    }

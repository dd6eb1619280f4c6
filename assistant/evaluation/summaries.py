"""How many summary sentences carry a key fact, on articles whose key facts were labelled by hand.

    python -m assistant.evaluation.summaries [KEY_FACTS_JSON] [DOCS_JSONL]

Defaults: tests/data/summary_key_facts.json and the CoQA CNN stories. For each method (lead only,
centrality only, lead + centrality as shipped) it prints the share of summary sentences that carry
at least one key fact (precision) and the share of key facts covered (recall).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering.summary.key_sentences import central, summary_size, usable
from assistant.embeddings import OnnxMiniLM
from assistant.indexing.parse.sentences import split_sentences
from assistant.records import Article

ROOT = Path(__file__).resolve().parents[2]
FACTS = ROOT / "tests" / "data" / "summary_key_facts.json"
DOCS = Path("/work/shared/eval/coqa_cnn_dev.docs.jsonl")


def _lead(vectors: np.ndarray, texts: list[str], k: int, title: str = "") -> list[int]:
    return [i for i, t in enumerate(texts) if usable(t, title)][:k]


def _centrality(vectors: np.ndarray, texts: list[str], k: int, title: str = "") -> list[int]:
    return central(vectors, texts, k, title, lead_weight=0.0, redundancy=0.0)


def _centrality_redundancy(vectors: np.ndarray, texts: list[str], k: int, title: str = "") -> list[int]:
    return central(vectors, texts, k, title, lead_weight=0.0)


METHODS: dict[str, Callable[[np.ndarray, list[str], int, str], list[int]]] = {
    "lead": _lead,
    "centrality": _centrality,
    "centrality + redundancy": _centrality_redundancy,
    "lead + centrality + redundancy (shipped)": central,
}


def measure(facts_path: Path = FACTS, docs_path: Path = DOCS) -> dict[str, Any]:
    facts = json.loads(facts_path.read_text(encoding="utf-8"))["articles"]
    docs = {d["doc_id"]: d for d in map(json.loads, docs_path.read_text(encoding="utf-8").splitlines()) if d}
    embedder = OnnxMiniLM()
    out: dict[str, Any] = {name: {"sentences": 0, "with_fact": 0, "facts": 0, "covered": 0} for name in METHODS}
    for doc_id, doc_facts in facts.items():
        doc = docs[doc_id]
        article = Article(doc_id, doc.get("title", ""), " ".join(doc["text"].split()), doc_id)
        texts = [s.text for s in split_sentences(article)]
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        k = summary_size(len(texts))
        for name, method in METHODS.items():
            picked = [texts[i] for i in method(vectors, texts, k, "")]
            carries = [any(p.lower() in s.lower() for fact in doc_facts for p in fact) for s in picked]
            covered = [any(p.lower() in s.lower() for s in picked for p in fact) for fact in doc_facts]
            row = out[name]
            row["sentences"] += len(picked)
            row["with_fact"] += sum(carries)
            row["facts"] += len(doc_facts)
            row["covered"] += sum(covered)
    return out


def main(argv: list[str]) -> int:
    result = measure(*(Path(a) for a in argv[:2]))
    print("| method | summary sentences with a key fact | key facts covered |\n|---|---|---|")
    for name, r in result.items():
        print(
            f"| {name} | {r['with_fact']}/{r['sentences']} ({r['with_fact'] / r['sentences']:.0%}) "
            f"| {r['covered']}/{r['facts']} ({r['covered'] / r['facts']:.0%}) |"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))

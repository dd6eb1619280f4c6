"""Retrieval only, no model: how often every gold document is in what the reader is shown, per half.

    PYTHONPATH=. python docs/results/issue23/second-hop/shown.py eval/hotpotqa_dev100.jsonl INDEX_DIR OUT_PREFIX

The index is built in INDEX_DIR when it is empty (kept for the next run). `LINKED=N` overrides
`retriever.LINKED`; `ORACLE=1` scopes each question to its gold documents, as `assistant eval --oracle` does.
Writes OUT_PREFIX-<half>.json (each question's shown sentences) and prints the counts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import assistant.answering.retrieval.retriever as retriever
from assistant.assistant import Assistant
from assistant.evaluation.run import _articles_file, load_dataset
from assistant.evaluation.split import select
from assistant.records import Query
from assistant.settings import Settings


def main(dataset: str, index_dir: str, out: str) -> None:
    if os.environ.get("LINKED"):
        retriever.LINKED = int(os.environ["LINKED"])
    rows, docs = load_dataset(dataset)
    settings = replace(Settings.from_env(None, answerer="extractive"), index_dir=index_dir, collection="eval")
    bot = Assistant(settings=settings)
    if not bot.articles():
        bot.ingest([_articles_file(docs, Path(index_dir))])
    result = {}
    for half in ("fit", "report"):
        chosen, _ = select(rows, half, dataset)
        both, shown_by_id = 0, {}
        started = time.perf_counter()
        for row in chosen:
            history = " ".join(f"{q} {a}" for q, a in row.get("history", [])[-2:])
            gold = sorted(set(row.get("gold_doc_ids") or [row["doc_id"]]))
            scope = gold if os.environ.get("ORACLE") else None
            retrieval = bot.retriever.retrieve(Query(row["question"], row["question"], history), scope)
            shown = [(s.sentence.article_id, s.sentence.index) for s in retrieval.context]
            shown_by_id[row["id"]] = shown
            both += set(gold) <= {a for a, _ in shown}
        result[half] = {"n": len(chosen), "all_gold_shown": both, "seconds": round(time.perf_counter() - started, 1)}
        Path(f"{out}-{half}.json").write_text(json.dumps(shown_by_id), encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])

"""Summaries measured: key facts carried (hand-labelled), and whether whole-article answers cite the main event.

    python -m assistant.evaluation.summaries [KEY_FACTS_JSON] [DOCS_JSONL]
    python -m assistant.evaluation.summaries leads [--local] [--hotpot N] [--sets CoQA,SQuAD,HotpotQA]

The first: defaults tests/data/summary_key_facts.json and the CoQA CNN stories. For each method (lead only,
centrality only, lead + centrality as shipped) it prints the share of summary sentences that carry
at least one key fact (precision) and the share of key facts covered (recall).

`leads`: the public sets' documents (the 10 CoQA stories, the 2 SQuAD articles; with `--hotpot N` the first N
HotpotQA paragraphs by id), each set indexed together (every answer is about one document among the others,
scoped to it), asked 10 whole-article phrasings (`WRITTEN` here and `eval/summary_phrasings.txt`). An answer hits
when it cites the document's first sentence or the sentence most similar to its title (cosine of the embeddings);
it leads with it when its first citation is one of those; its size is the number of sentences cited. Extractive
always; `--local` with the bundled local model too (the summariser the Assistant builds). Identical requests to the
model are asked once (`_Memo`): its answers are the same every time (`tests/test_local_e2e.py`), and phrasings of
one size send the same prompt.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

import numpy as np

from assistant.answering.summary.key_sentences import central, summary_size, usable
from assistant.embeddings import OnnxMiniLM
from assistant.evaluation.rows import DocRow, read_docs
from assistant.indexing.parse.sentences import split_sentences
from assistant.llm.chat_model import ChatClient, Chunk, Message, Scored
from assistant.records import Answer, Article, SummaryStep

ROOT = Path(__file__).resolve().parents[2]
FACTS = ROOT / "tests" / "data" / "summary_key_facts.json"
DOCS = ROOT / "eval" / "coqa_cnn_dev.docs.jsonl"


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


class _Counts(TypedDict):
    sentences: int
    with_fact: int
    facts: int
    covered: int


def measure(facts_path: Path = FACTS, docs_path: Path = DOCS) -> dict[str, _Counts]:
    facts: dict[str, list[list[str]]] = json.loads(facts_path.read_text(encoding="utf-8"))["articles"]
    lines: list[DocRow] = list(map(json.loads, docs_path.read_text(encoding="utf-8").splitlines()))
    docs = {d["doc_id"]: d for d in lines if d}
    embedder = OnnxMiniLM()
    out: dict[str, _Counts] = {name: {"sentences": 0, "with_fact": 0, "facts": 0, "covered": 0} for name in METHODS}
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


WRITTEN = [  # not the tests' phrasings, nor tests/data/whole_article_questions.txt
    "What is this piece about?",
    "Give me the main points of this article.",
    "What are the highlights of the story?",
    "Could you sum up this article?",
    "Summarise the story in one sentence.",
]
PHRASINGS = ROOT / "eval" / "summary_phrasings.txt"
EVAL = ROOT / "eval"
SETS = {
    "CoQA": "coqa_cnn_dev.docs.jsonl",
    "SQuAD": "squad_v2_normans.docs.jsonl",
    "HotpotQA": "hotpotqa_dev100.docs.jsonl",
}


def phrasings(path: Path = PHRASINGS) -> list[str]:
    listed = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return WRITTEN + [q for q in listed if q and not q.startswith("#")]


Messages = Sequence[tuple[str, str]]  # (role, text), as the summariser sends them


@dataclass
class _Memo:
    """A chat client that asks the model once per distinct request (messages and options) and replays the chunks."""

    chat: ChatClient
    options: dict[str, float | None] = field(default_factory=dict)
    seen: dict[str, list[Chunk]] = field(default_factory=dict)
    asked: list[int] = field(default_factory=lambda: [0])
    pending: list[tuple[ChatClient, Messages]] = field(default_factory=list)  # shared by the bound copies

    def bind(
        self, *, max_tokens: int | None = None, seed: int | None = None, temperature: float | None = None
    ) -> _Memo:
        options = {**self.options, "max_tokens": max_tokens, "seed": seed, "temperature": temperature}
        bound = self.chat.bind(max_tokens=max_tokens, seed=seed, temperature=temperature)
        return _Memo(bound, options, self.seen, self.asked, self.pending)

    def _key(self, messages: Messages) -> str:
        return json.dumps([list(messages), self.options], sort_keys=True, default=str)

    def invoke(self, messages: Sequence[Message]) -> str:
        """The one-token request before each summary request: sent just before a request that is not memoised."""
        self.pending.append((self.chat, messages))
        return ""

    def scored(self, messages: Sequence[Message], top: int) -> Scored:
        return self.chat.scored(messages, top)  # not memoised: summaries never ask for alternatives

    def stream(self, messages: Sequence[Message]) -> Iterator[Chunk]:
        key = self._key(messages)
        if key not in self.seen:
            for chat, reset in self.pending[-1:]:
                chat.invoke(reset)
            self.asked[0] += 1
            self.seen[key] = list(self.chat.stream(messages))
        self.pending.clear()
        return iter(self.seen[key])


@dataclass
class _Tally:
    answers: int = 0
    hits: int = 0
    leads: int = 0
    sized: int = 0  # 3 to 6 sentences cited (a one-sentence request: 1 to 6)
    seconds: float = 0.0


def measure_leads(local: bool = False, hotpot: int = 0, only: str = "") -> dict[str, dict[str, _Tally]]:
    from assistant import Assistant, Settings
    from assistant.answering.build import build_summarizer, chat_client
    from assistant.answering.question.intent import detect
    from assistant.answering.summary.model_summary import SUMMARY_MAX_TOKENS

    questions = phrasings()
    embedder = OnnxMiniLM()
    out: dict[str, dict[str, _Tally]] = {}
    memo: _Memo | None = None
    for name, file in SETS.items():
        if only and name not in only.split(","):
            continue
        docs = read_docs(EVAL / file)
        if name == "HotpotQA":
            docs = sorted(docs, key=lambda d: d["doc_id"])[:hotpot]
        if not docs:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "articles"
            folder.mkdir()
            with (folder / "docs.jsonl").open("w", encoding="utf-8") as f:
                for d in docs:
                    f.write(json.dumps({"id": d["doc_id"], "title": d["title"], "text": d["text"]}) + "\n")
            env = {"ASSISTANT_ANSWERER": "local" if local else "extractive", "ASSISTANT_REQUEST_TIMEOUT": "600"}
            settings = Settings.from_env(env=env, index_dir=str(Path(tmp) / "index"), articles_dir=str(folder))
            bot = Assistant(settings=settings, embedder=embedder)
            bot.ingest([folder])
            summarizers = {"extractive": build_summarizer(settings, bot.store, embedder, None, bot.thresholds)}
            model = chat_client(settings, bot.choice, SUMMARY_MAX_TOKENS) if local else None
            if model is not None:
                connect = model.connect

                def memo_connect(connect: Callable[[], tuple[ChatClient, str]] = connect) -> tuple[ChatClient, str]:
                    nonlocal memo
                    chat, where = connect()
                    if memo is None or memo.chat is not chat:
                        memo = _Memo(chat, seen=memo.seen if memo else {}, asked=memo.asked if memo else [0])
                    return memo, where

                memoised = replace(model, connect=memo_connect)
                summarizers["local"] = build_summarizer(settings, bot.store, embedder, memoised, bot.thresholds)
            for d in docs:
                sentences = [s.text for s in bot.article(d["doc_id"]).sentences]
                vectors = np.asarray(embedder.embed(sentences), dtype=np.float32)
                title = np.asarray(embedder.embed([d["title"]])[0], dtype=np.float32)
                main = {0, int(np.argmax(vectors @ title))}
                for method, summarizer in summarizers.items():
                    tally = out.setdefault(method, {}).setdefault(name, _Tally())
                    for q in questions:
                        intent = detect(q, embedder)
                        assert intent is not None, f"not recognised as a whole-article question: {q}"
                        started = time.perf_counter()
                        final = [
                            e for e in summarizer.summarize(q, intent, [d["doc_id"]]) if isinstance(e, SummaryStep)
                        ]
                        tally.seconds += time.perf_counter() - started
                        answer: Answer = final[-1].answer
                        cited = [c.sentence_index for c in answer.citations]
                        tally.answers += 1
                        tally.hits += bool(main & set(cited))
                        tally.leads += bool(cited and cited[0] in main)
                        tally.sized += (1 if intent.size == "one" else 3) <= len(cited) <= 6
    if memo is not None:
        print(f"local model asked {memo.asked[0]} times (identical requests once)", file=sys.stderr)
    return out


def leads_table(result: dict[str, dict[str, _Tally]]) -> str:
    lines = [
        "| method | set | answers | cite the first or the title's sentence | lead with it | cite 3–6 sentences "
        "(1–6 for one sentence) | seconds per answer |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, sets in result.items():
        for name, t in sets.items():
            lines.append(
                f"| {method} | {name} | {t.answers} | {t.hits}/{t.answers} ({t.hits / t.answers:.0%}) "
                f"| {t.leads}/{t.answers} ({t.leads / t.answers:.0%}) | {t.sized}/{t.answers} "
                f"| {t.seconds / t.answers:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["leads"]:
        hotpot = int(argv[argv.index("--hotpot") + 1]) if "--hotpot" in argv else 0
        started = time.perf_counter()
        only = argv[argv.index("--sets") + 1] if "--sets" in argv else ""
        print(leads_table(measure_leads("--local" in argv, hotpot, only)))
        print(f"\n{time.perf_counter() - started:.0f} s in all", file=sys.stderr)
        return 0
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

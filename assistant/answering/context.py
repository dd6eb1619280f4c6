"""What the model reads: whole short articles when they fit, else the best sentences; grouped by
article, in reading order.

A small model reads a whole short article far better than scattered sentences, and a prompt that
starts the same way for every question about an article is served from llama.cpp's prompt cache:
only the question is new. So the articles of the best-ranked sentences are shown whole while they
fit in `WHOLE_WORDS`; other articles are represented by their best sentences (`EXTRA` after whole
articles, `SENTENCES` when none fits).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answering.retrieval import Retrieval, Retriever
from assistant.records import ScoredSentence

WHOLE_WORDS = 700  # show whole articles up to this many words in all
SENTENCES = 6  # otherwise this many of the best sentences
EXTRA = 3  # best sentences of other articles shown after whole ones
MAX_ARTICLES = 3


def choose(retrieval: Retrieval, retriever: Retriever) -> list[ScoredSentence]:
    ranked = retrieval.sentences
    if not ranked:
        return []
    order = list(dict.fromkeys(s.sentence.article_id for s in ranked))[:MAX_ARTICLES]
    whole: list[str] = []
    sentences: list[ScoredSentence] = []
    words = 0
    for article_id in order:
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

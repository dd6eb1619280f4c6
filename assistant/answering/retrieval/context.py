"""What the reader is shown: whole short articles when they fit, else the best sentences with the
sentence before and after each; grouped by article, in reading order. Chosen by the retrieval step
(`Retriever.retrieve` gathers the candidates; this module only chooses), so no later step goes back
to the store.

A small model reads a whole short article far better than scattered sentences, and a prompt that
starts the same way for every question about an article is served from llama.cpp's prompt cache:
only the question is new. So the articles of the best-ranked sentences are shown whole while they
fit in `WORDS`; other articles are represented by their best sentences (`EXTRA` after whole
articles). When no article fits, the `WINDOWS` best sentences are shown each with its neighbours,
as running text. On SQuAD's long article the local model found the answer about as often read that
way as from the six best sentences alone (0.74 and 0.76 of 52 answerable questions; docs/evaluation.md,
"Reading"); windows are kept because the sentence before a "He ..." sentence is then shown, so the
attribution step can join the two when the answer needs the name.

An article after the first is shown whole only when its best sentence ranks close to the top one
(score >= `WHOLE_RATIO` x the best score). Measured on the eval sets' retrievals (extractive traces,
2026-11-29): on CoQA the second article is gold evidence in 5 of 110 questions and the rule keeps
all 5 whole while leaving out 71 of the 105 unrelated ones (a third fewer prompt tokens there, and
less to misread); on HotpotQA, whose distractors are chosen to look related, it keeps 34 of 37
gold second articles whole and leaves out 7 of 63 others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from assistant.records import ScoredSentence

WORDS = 700  # show at most this many words in all
WHOLE_MAX_SENTENCES = 80  # an article with more sentences is never a candidate to be shown whole
EXTRA = 3  # best sentences of other articles shown after whole ones
WINDOWS = 4  # otherwise the best sentences shown with their neighbours
MAX_ARTICLES = 3
WHOLE_RATIO = 0.7  # a further article is shown whole when its best sentence scores this share of the best

Key = tuple[str, int]


def articles_in_order(ranked: Sequence[ScoredSentence]) -> list[str]:
    """The articles of the ranked sentences, best first (at most `MAX_ARTICLES`)."""
    return list(dict.fromkeys(s.sentence.article_id for s in ranked))[:MAX_ARTICLES]


def window_keys(ranked: Sequence[ScoredSentence]) -> set[Key]:
    """The sentences (and their neighbours) that windows may show."""
    keys: set[Key] = set()
    for s in ranked[:WINDOWS]:
        keys |= {(s.sentence.article_id, j) for j in (s.sentence.index - 1, s.sentence.index, s.sentence.index + 1)}
    return {k for k in keys if k[1] >= 0}


def choose(
    ranked: Sequence[ScoredSentence],
    whole: Mapping[str, Sequence[ScoredSentence]],
    around: Mapping[Key, ScoredSentence],
    linked: Sequence[str] = (),
) -> list[ScoredSentence]:
    """`whole`: every sentence of the candidate articles (those short enough), in order; `around`: the
    scored sentences of `window_keys`; `linked`: articles the question or the first article names by their
    titles (`links.py`; their sentences in `whole`), best first, each shown whole right after the first when
    that one is shown whole and it fits, whatever its rank."""
    if not ranked:
        return []
    order = articles_in_order(ranked)
    linked = [a for a in linked if a != order[0]]
    if linked:
        order = [order[0], *linked, *(a for a in order[1:] if a not in linked)]
    best: dict[str, float] = {}
    for item in ranked:
        best.setdefault(item.sentence.article_id, item.score)
    shown: list[ScoredSentence] = []
    shown_whole: list[str] = []
    words = 0
    for article_id in order:
        if article_id in linked and shown_whole[:1] == order[:1]:
            pass  # the second hop: shown for the name that leads to it, not for its own rank
        elif article_id != order[0] and best.get(article_id, 0.0) < WHOLE_RATIO * best[order[0]]:
            continue
        sentences = whole.get(article_id)
        size = sum(len(s.sentence.text.split()) for s in sentences or ())
        if not sentences or words + size > WORDS:
            if article_id in linked:
                continue  # the articles ranked after it may still fit
            break
        shown_whole.append(article_id)
        shown += sentences
        words += size
    if shown_whole:
        others = [s for s in ranked if s.sentence.article_id not in shown_whole][:EXTRA]
        return arrange(shown + others, order)
    for top in ranked[:WINDOWS]:
        a, i = top.sentence.article_id, top.sentence.index
        for key in ((a, i - 1), (a, i), (a, i + 1)):
            near = around.get(key)
            if near is None or any((s.sentence.article_id, s.sentence.index) == key for s in shown):
                continue
            size = len(near.sentence.text.split())
            if words + size > WORDS and shown:
                return arrange(shown, order)
            shown.append(near)
            words += size
    return arrange(shown, order)


def arrange(items: Sequence[ScoredSentence], order: Sequence[str] = ()) -> list[ScoredSentence]:
    """Group by article (in `order`, then best-ranked first), sentences in article order."""
    first: dict[str, int] = {a: n for n, a in enumerate(order)}
    for rank, item in enumerate(items):
        first.setdefault(item.sentence.article_id, len(order) + rank)
    unique = {(s.sentence.article_id, s.sentence.index): s for s in items}
    return sorted(unique.values(), key=lambda s: (first[s.sentence.article_id], s.sentence.index))

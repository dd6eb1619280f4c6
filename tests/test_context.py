"""What the model reads (`answering/context.choose`): whole articles that rank close to the top,
else their best sentences."""

from __future__ import annotations

from assistant.answering.retrieval import context
from assistant.answering.retrieval.retriever import Retrieval
from assistant.records import Query, ScoredSentence, Sentence


def article(article_id: str, n: int, words: int = 10) -> list[ScoredSentence]:
    return [
        ScoredSentence(Sentence(article_id, i, 0, 0, " ".join([article_id] * words)), article_id, 0.0, 0.0, 0.0)
        for i in range(n)
    ]


class Articles:
    """The retriever's `whole_articles`, over a fixed set of articles."""

    def __init__(self, *articles: list[ScoredSentence]):
        self.by_id = {a[0].sentence.article_id: a for a in articles}

    def whole_articles(self, retrieval: Retrieval, article_ids: list[str]) -> list[ScoredSentence]:
        return [s for a in article_ids for s in self.by_id[a]]


def ranked(*hits: tuple[str, int, float]) -> Retrieval:
    sentences = [ScoredSentence(Sentence(a, i, 0, 0, f"{a} {i}"), a, score, 0.5, 0.5) for a, i, score in hits]
    return Retrieval(Query("q", "q", ""), [], sentences, {})


def shown(items: list[ScoredSentence]) -> list[tuple[str, int]]:
    return [(s.sentence.article_id, s.sentence.index) for s in items]


def test_a_second_article_close_to_the_top_is_shown_whole_too():
    retriever = Articles(article("a", 4), article("b", 3))
    retrieval = ranked(("a", 2, 1.0), ("b", 0, 0.8), ("a", 0, 0.5))
    assert shown(context.choose(retrieval, retriever)) == [("a", i) for i in range(4)] + [("b", i) for i in range(3)]


def test_a_second_article_far_below_the_top_gives_only_its_best_sentences():
    retriever = Articles(article("a", 4), article("b", 3))
    retrieval = ranked(("a", 2, 1.0), ("b", 1, 0.5), ("a", 0, 0.4))
    assert shown(context.choose(retrieval, retriever)) == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("b", 1)]


def test_an_article_too_long_to_show_whole_gives_the_best_sentences_in_reading_order():
    retriever = Articles(article("a", 80, words=20), article("b", 3))
    retrieval = ranked(("a", 7, 1.0), ("a", 3, 0.9), ("b", 2, 0.3))
    assert shown(context.choose(retrieval, retriever)) == [("a", 3), ("a", 7), ("b", 2)]

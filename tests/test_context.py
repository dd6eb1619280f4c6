"""What the reader is shown (`retrieval/context.choose`): whole articles that rank close to the top, else
their best sentences; when no article fits, the best sentences with their neighbours."""

from __future__ import annotations

from assistant.answering.retrieval import context
from assistant.records import ScoredSentence, Sentence


def article(article_id: str, n: int, words: int = 10) -> list[ScoredSentence]:
    return [
        ScoredSentence(Sentence(article_id, i, 0, 0, " ".join([article_id] * words)), article_id, 0.0, 0.0, 0.0)
        for i in range(n)
    ]


def ranked(*hits: tuple[str, int, float]) -> list[ScoredSentence]:
    return [ScoredSentence(Sentence(a, i, 0, 0, f"{a} {i}"), a, score, 0.5, 0.5) for a, i, score in hits]


def around(*articles: list[ScoredSentence]) -> dict[tuple[str, int], ScoredSentence]:
    return {(s.sentence.article_id, s.sentence.index): s for a in articles for s in a}


def shown(items: list[ScoredSentence]) -> list[tuple[str, int]]:
    return [(s.sentence.article_id, s.sentence.index) for s in items]


def test_a_second_article_close_to_the_top_is_shown_whole_too():
    a, b = article("a", 4), article("b", 3)
    hits = ranked(("a", 2, 1.0), ("b", 0, 0.8), ("a", 0, 0.5))
    assert shown(context.choose(hits, {"a": a, "b": b}, around(a, b))) == [("a", i) for i in range(4)] + [
        ("b", i) for i in range(3)
    ]


def test_a_second_article_far_below_the_top_gives_only_its_best_sentences():
    a, b = article("a", 4), article("b", 3)
    hits = ranked(("a", 2, 1.0), ("b", 1, 0.5), ("a", 0, 0.4))
    assert shown(context.choose(hits, {"a": a, "b": b}, around(a, b))) == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("a", 3),
        ("b", 1),
    ]


def test_an_article_too_long_to_show_whole_gives_its_best_sentences_with_their_neighbours_in_reading_order():
    a, b = article("a", 80, words=20), article("b", 3)
    hits = ranked(("a", 7, 1.0), ("a", 3, 0.9), ("b", 2, 0.3))
    assert shown(context.choose(hits, {"a": a, "b": b}, around(a, b))) == [
        ("a", 2),
        ("a", 3),
        ("a", 4),
        ("a", 6),
        ("a", 7),
        ("a", 8),
        ("b", 1),
        ("b", 2),
    ]


def test_windows_stop_at_the_word_budget():
    a = article("a", 200, words=100)
    hits = ranked(*[("a", i, 1.0 - i / 100) for i in (10, 50, 90, 150)])
    chosen = context.choose(hits, {}, around(a))
    assert sum(len(s.sentence.text.split()) for s in chosen) <= context.WORDS
    assert shown(chosen)[:3] == [("a", 9), ("a", 10), ("a", 11)]


def test_window_keys_are_the_best_sentences_and_their_neighbours():
    hits = ranked(("a", 0, 1.0), ("b", 5, 0.9))
    assert context.window_keys(hits) == {("a", 0), ("a", 1), ("b", 4), ("b", 5), ("b", 6)}

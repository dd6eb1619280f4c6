"""The second hop (`retrieval/links.py`): an article named by its title in the question or in the first article
found is shown whole beside it, even when the question alone would not find it."""

from __future__ import annotations

from assistant.answering.retrieval import context
from assistant.answering.retrieval.links import TitleIndex, title_key
from assistant.records import Query
from tests.test_context import around, article, ranked, shown


def test_a_title_is_a_name_matched_word_for_word_with_its_capitals_and_without_its_qualifier():
    index = TitleIndex([("alien", "Alien (film)"), ("dome", "Kestrel Dome"), ("corelli", "Franco Corelli")])
    assert index.named_in("Its score for Alien was by Jerry Goldsmith.") == ["alien"]
    assert index.named_in("an alien species") == []  # a common word, not the name
    assert index.named_in("They play at the Kestrel Dome; Kestrel Dome seats 4,200.") == ["dome"]
    assert index.named_in("Kestrel alone, or Dome alone") == []
    assert index.named_in("the tenor Franco Corelli (1921–2003)") == ["corelli"]


def test_the_longest_title_at_a_word_wins_and_accents_do_not_matter():
    index = TitleIndex([("ny", "New York"), ("nyc", "New York City"), ("colisee", "Androscoggin Bank Colisée")])
    assert index.named_in("born in New York City") == ["nyc"]
    assert index.named_in("born in New York state") == ["ny"]
    assert index.named_in("the Androscoggin Bank Colisee in Lewiston") == ["colisee"]


def test_headlines_and_titles_without_a_capital_are_no_names():
    assert title_key("Ecuador designates 22 gangs as terrorists after a week of violence in its prisons") is None
    assert title_key("notes from the field") is None
    assert title_key("") is None
    assert title_key("2009 Big 12 Conference football season") == (
        "2009",
        "Big",
        "12",
        "Conference",
        "football",
        "season",
    )
    assert len(TitleIndex([("a", "notes"), ("b", "Ecuador")])) == 1


def test_a_linked_article_is_shown_whole_after_the_first_whatever_its_rank():
    a, b, c = article("a", 3), article("b", 3), article("c", 2)
    hits = ranked(("a", 1, 1.0), ("c", 0, 0.4), ("a", 0, 0.3))  # b is not among the ranked sentences at all
    assert shown(context.choose(hits, {"a": a, "b": b, "c": c}, around(a, b, c), linked=["b"])) == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("b", 0),
        ("b", 1),
        ("b", 2),
        ("c", 0),
    ]
    # without the link: a whole, then c's best sentence
    assert shown(context.choose(hits, {"a": a, "b": b, "c": c}, around(a, b, c))) == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("c", 0),
    ]


def test_two_linked_articles_are_shown_best_first_after_the_first():
    a, b, c, d = article("a", 2), article("b", 2), article("c", 2), article("d", 2)
    hits = ranked(("a", 1, 1.0), ("d", 0, 0.4))
    got = context.choose(hits, {"a": a, "b": b, "c": c, "d": d}, around(a, b, c, d), linked=["c", "b"])
    assert shown(got) == [("a", 0), ("a", 1), ("c", 0), ("c", 1), ("b", 0), ("b", 1), ("d", 0)]


def test_a_linked_article_needs_the_first_shown_whole_and_one_too_long_leaves_room_for_the_others():
    long_first, b = article("a", 80, words=20), article("b", 3)
    hits = ranked(("a", 7, 1.0), ("a", 3, 0.9))
    assert "b" not in {
        a for a, _ in shown(context.choose(hits, {"a": long_first, "b": b}, around(long_first, b), linked=["b"]))
    }
    a, big, c = article("a", 3), article("big", 70, words=10), article("c", 2)
    hits = ranked(("a", 1, 1.0), ("c", 0, 0.9))
    assert shown(context.choose(hits, {"a": a, "big": big, "c": c}, around(a, big, c), linked=["big"])) == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("c", 0),
        ("c", 1),
    ]


TEAM = (
    "# Harbour Rovers\n\nThe Harbour Rovers are an ice hockey team from Port Lyle, founded in 1994. "
    "They played their home games at the Kestrel Dome until the club folded in 2011. "
    "The team won the coastal league twice."
)
DOME = (
    "# Kestrel Dome\n\nThe Kestrel Dome is a multi-purpose building on the north shore of Port Lyle. "
    "It was opened in 1989 by the county council. It can hold 4,200 spectators for ice hockey."
)
ARENAS = [
    f"# {name}\n\n{name} is an indoor arena in {town}. It seats {seats} people. {name} hosts concerts as well."
    for name, town, seats in [
        ("Falcon Arena", "Brent", "9,000"),
        ("Osprey Hall", "Tarrow", "6,500"),
        ("Pelham Ice Centre", "Dunmore", "3,100"),
        ("Gannet Arena", "Selby", "7,800"),
    ]
]


def test_the_article_the_first_one_names_is_shown_and_cited_with_its_record(make_bot, tmp_path):
    folder = tmp_path / "wiki"
    folder.mkdir()
    for n, text in enumerate([TEAM, DOME, *ARENAS]):
        (folder / f"page{n}.md").write_text(text, "utf-8")
    bot = make_bot()
    assert bot.ingest([folder]).added == 6
    question = "How many people can the arena where the Harbour Rovers played their home games seat?"
    titles = {a.title: a.id for a in bot.articles()}
    retrieval = bot.retriever.retrieve(Query(question, question))
    dome = titles["Kestrel Dome"]
    assert retrieval.context[0].sentence.article_id == titles["Harbour Rovers"]
    shown_dome = [s.sentence.text for s in retrieval.context if s.sentence.article_id == dome]
    assert len(shown_dome) == 4 and shown_dome[-1].startswith("It can hold")  # whole, in reading order
    assert retrieval.titles[dome] == "Kestrel Dome" and retrieval.articles[dome].sentences == 4
    # scoped to the team's article, the dome stays out
    scoped = bot.retriever.retrieve(Query(question, question), [titles["Harbour Rovers"]])
    assert {s.sentence.article_id for s in scoped.context} == {titles["Harbour Rovers"]}

"""The follow-up rewrite in code (ASSISTANT_CONDENSE=named): a personal pronoun replaced by the name the last
turn is about; everything else as `conversation`."""

from __future__ import annotations

import pytest

from assistant.answering import build
from assistant.answering.build import build_answering
from assistant.answering.question.condense import OfflineCondenser, named_subject
from assistant.errors import LocalModelError
from assistant.settings import Settings


@pytest.mark.parametrize(
    ("question", "turn", "expected"),
    [
        # the name the last answer gives
        ("How many points did he score?", ("Who was named the best player?", "Luke Hancock"), "Luke Hancock"),
        # a possessive keeps its "'s"
        ("What was his career best?", ("Who took a tight grip?", "Dale Steyn"), "Dale Steyn's"),
        # "her" before a content word is the possessive, alone it is the object
        ("What did she tell her mother?", ("Who spoke?", "Maria Lopez said no [1]."), "Maria Lopez"),
        ("Who met her?", ("Who spoke?", "Maria Lopez [1]"), "Maria Lopez"),
        # a capitalised first word is a name only when it is written so again ("Rick" is, "Telecommunications" not)
        ("What did he do next?", ("Why did Rick fight?", "Rick saw his son in trouble"), "Rick"),
        # no name in the answer: the last question's name; an initial stays with its word
        ("How many wickets did they have?", ("What was S. Africa's lead?", "226"), "S. Africa"),
    ],
)
def test_the_pronoun_becomes_the_name_the_last_turn_is_about(question, turn, expected):
    rewritten, name = named_subject(question, [turn])
    assert expected in rewritten and expected.removesuffix("'s") == name
    assert rewritten.count(expected) == 1


@pytest.mark.parametrize(
    ("question", "turn"),
    [
        ("Was it broken?", ("Did he go to the hospital?", "yes")),  # "it": a thing, no name to put in
        ("Who is his son?", ("Who begged for mercy?", "Daryl")),  # one capitalised word, first: maybe no name
        ("What business are they in?", ("Which business was it?", "Telecommunications")),
        ("What did Rick say to him?", ("Why did Rick fight?", "Rick saw his son in trouble")),  # already named
        ("Where is the museum?", ("Who spoke?", "Valeska Hilbig")),  # no pronoun
    ],
)
def test_no_rewrite_without_a_personal_pronoun_or_a_name(question, turn):
    assert named_subject(question, [turn]) is None


def test_the_condenser_rewrites_only_when_asked_and_only_a_follow_up():
    turns = [("Who was named the best player?", "Luke Hancock [1]")]
    question = "How many points did he score?"
    plain, _ = OfflineCondenser().condense(question, turns)
    named, step = OfflineCondenser(name_subject=True).condense(question, turns)
    assert plain.standalone == question
    assert named.standalone == "How many points did Luke Hancock score?" == step.standalone
    assert named.context == plain.context and step.follow_up and "'Luke Hancock'" in step.how
    # a question that stands on its own is asked as it is
    alone, _ = OfflineCondenser(name_subject=True).condense("Who is the president of Ecuador?", turns)
    assert alone.standalone == "Who is the president of Ecuador?"


@pytest.mark.parametrize(("condense", "named"), [("named", True), ("conversation", False), (None, False)])
def test_the_extractive_answerer_follows_the_setting_too(condense, named):
    condenser, reader, choice = build_answering(Settings.from_env({}, answerer="extractive", condense=condense))
    assert choice.name == "extractive" and reader is None
    assert isinstance(condenser, OfflineCondenser) and condenser.name_subject is named


def test_the_offline_fallback_of_a_missing_local_model_follows_the_setting_too(monkeypatch):
    def missing(settings):
        raise LocalModelError("the model file is missing")

    monkeypatch.setattr(build, "connect_local", missing)
    condenser, reader, _ = build_answering(Settings.from_env({}, answerer="local", condense="named"))
    assert reader is None and isinstance(condenser, OfflineCondenser) and condenser.name_subject

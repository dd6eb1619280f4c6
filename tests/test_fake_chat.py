"""Unit tests of the chat model's users with an in-process fake (`tests/fake_chat.py`): the condenser, the model
check, streaming and reconnecting, without an HTTP server (those paths are tested with `tests/fake_openai.py`)."""

from __future__ import annotations

import math

import pytest

from assistant.answering.decision.decide import Decided
from assistant.answering.decision.model_check import ModelCheck
from assistant.answering.question.model_condense import ModelCondenser
from assistant.errors import ModelTimeoutError, ModelUnavailableError
from assistant.llm.chat_model import ConnectedChat, Scored, build_chat_model, limited, stream_text
from assistant.llm.prompts import Prompts
from assistant.records import Claim, Query, ScoredSentence, Sentence
from assistant.settings import Settings
from tests.fake_chat import FakeChat

PROMPTS = Prompts(Settings().prompts_dir)
HISTORY = [("What did Rubio say during his visit to Ecuador?", "He spoke about the gangs [1].")]


def condenser(chat: FakeChat) -> ModelCondenser:
    return ModelCondenser(chat, PROMPTS.load("condense", required={"history", "question"}))


def test_the_fake_replies_as_scripted_and_records_every_call():
    chat = FakeChat("first", lambda messages: f"{len(messages)} messages", ModelTimeoutError("too slow"))
    assert chat.invoke([("user", "a")]) == "first"
    assert "".join(stream_text(chat, [("system", "s"), ("user", "b")], "fake")) == "2 messages"
    with pytest.raises(ModelTimeoutError):
        chat.invoke([("user", "c")])
    with pytest.raises(AssertionError, match="only the first 3 were scripted"):
        chat.invoke([("user", "d")])
    assert [c.how for c in chat.calls] == ["invoke", "stream", "invoke", "invoke"]
    assert chat.calls[1].messages == [("system", "s"), ("user", "b")] and chat.calls[1].text() == "s\nb"


def test_a_follow_up_is_rewritten_by_the_model_with_the_conversation_in_its_prompt():
    chat = FakeChat("Standalone question: How much security assistance did the U.S. give Ecuador?")
    query, step = condenser(chat).condense("How much money did they give?", HISTORY)
    assert query.standalone == "How much security assistance did the U.S. give Ecuador?"
    assert step.rewritten and step.follow_up
    [call] = chat.calls
    assert call.how == "invoke" and "How much money did they give?" in call.text()
    assert "User: What did Rubio say during his visit to Ecuador?" in call.text()


@pytest.mark.parametrize("reply", ["", "word " * 200, "NOT_IN_ARTICLES", ModelUnavailableError("gone")])
def test_a_rewrite_that_fails_or_is_junk_leaves_the_question_with_its_context(reply):
    chat = FakeChat(reply)
    query, step = condenser(chat).condense("How much money did they give?", HISTORY)
    assert query.standalone == "How much money did they give?" and "Rubio" in query.context
    assert step.follow_up and not step.rewritten and len(chat.calls) == 1


def test_a_question_without_history_or_that_stands_alone_calls_no_model():
    chat = FakeChat()
    assert condenser(chat).condense("Who won the match?", [])[1].how == "no history"
    query, _ = condenser(chat).condense("Who is the President of Ecuador Daniel Noboa?", HISTORY)
    assert query.standalone == "Who is the President of Ecuador Daniel Noboa?" and chat.calls == []


@pytest.mark.parametrize(
    ("reply", "p"),
    [
        ("Yes.", 1.0),
        ("**no** - it does not", 0.0),
        ("maybe", None),
        (ModelTimeoutError("slow"), None),
        (Scored("No", (("No", math.log(0.6)), ("Yes", math.log(0.3)), (" yes", math.log(0.1)))), 0.4),
        (Scored("Maybe", (("Maybe", math.log(0.9)), ("no", math.log(0.1)))), 0.0),
        (Scored("Yes", (("Sure", -0.1),)), 1.0),  # neither among the alternatives: the reply's word
    ],
)
def test_the_model_check_weighs_yes_against_no_and_a_failure_is_no_verdict(reply, p):
    chat = FakeChat(reply)
    pair = (PROMPTS.load("check_system"), PROMPTS.load("check_user", required={"sentence", "question", "answer"}))
    check = ModelCheck(chat, pair, bar=0.5)
    got = check.yes("How much?", "The U.S. gave $13.5 million.", "$13.5 million")
    assert got == (None if p is None else pytest.approx(p))
    [call] = chat.calls
    assert call.how == "scored" and "The U.S. gave $13.5 million." in call.text() and call.messages[0][0] == "system"


def test_the_model_check_refuses_below_its_bar_and_only_below_it():
    pair = (PROMPTS.load("check_system"), PROMPTS.load("check_user", required={"sentence", "question", "answer"}))
    sentence = ScoredSentence(Sentence("a", 0, 0, 29, "The U.S. gave $13.5 million."), "Aid", 0.9, 0.8, 1.0)
    claim = Claim("$13.5 million", (0,), (("a", 0),), 1.0, (), 2, 0.9, 0.8, "its sentence holds it")
    decided = Decided(True, "answered", "1 sentence holds it", (claim,), 0.9, 0.55)
    query = Query("How much did the U.S. give?", "How much did the U.S. give?")
    yes_at = lambda p: Scored("Yes", (("Yes", math.log(p)), ("No", math.log(1 - p))))  # noqa: E731
    kept, said = ModelCheck(FakeChat(yes_at(0.31)), pair, bar=0.3).review(decided, query, [sentence])
    assert kept is decided and said == "yes-probability 0.31 (bar 0.3)"
    refused, said = ModelCheck(FakeChat(yes_at(0.29)), pair, bar=0.3).review(decided, query, [sentence])
    assert not refused.answered and refused.kept == () and refused.rule == "the model check says no"
    assert "probability 0.29, under the bar of 0.3" in refused.reason


def test_a_stream_that_stops_without_finishing_is_an_error_not_a_short_answer():
    chat = FakeChat("Los Lobos and Los Choneros", finish=False)
    pieces: list[str] = []
    with pytest.raises(ModelUnavailableError, match="stopped in the middle of its answer"):
        for piece in stream_text(chat, [("user", "Which gangs?")], "http://127.0.0.1:1/v1"):
            pieces.append(piece)
    assert "".join(pieces) == "Los Lobos and Los Choneros"  # what came is streamed before the error


def test_a_limited_client_sends_the_limit_and_a_connected_one_is_rebuilt_when_the_address_changes():
    chat = FakeChat("one", "two", "three")
    assert limited(chat, 1).invoke([("user", "warm up")]) == "one"
    assert chat.calls[0].bound == {"max_tokens": 1}
    urls = ["http://a/v1", "http://a/v1", "http://b/v1"]
    built: list[str] = []

    def build(url: str) -> FakeChat:
        built.append(url)
        return chat

    connected = ConnectedChat(lambda: urls.pop(0), build)
    assert [connected.invoke([("user", "q")]) for _ in range(2)] == ["two", "three"]
    assert built == ["http://a/v1"]
    with pytest.raises(AssertionError):  # the script is used up: the third call fails loudly, after reconnecting
        connected.invoke([("user", "q")])
    assert built == ["http://a/v1", "http://b/v1"]


def test_a_limit_is_sent_in_the_openai_field_and_to_a_server_at_another_address_in_llama_cpps_too(monkeypatch):
    """langchain_openai sends the limit as `max_completion_tokens`; llama.cpp's server reads only `max_tokens`."""
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    openai = build_chat_model("gpt", None, "key", 5, 0, streaming=True, max_tokens=96)
    assert limited(openai, 1).options == {"max_completion_tokens": 1}  # no base URL: the OpenAI field alone
    local = build_chat_model("local", "http://127.0.0.1:1/v1", None, 5, 0, streaming=True, max_tokens=96)
    bound = limited(local, 40).bind(seed=7)
    assert bound.options == {"max_completion_tokens": 40, "extra_body": {"max_tokens": 40}, "seed": 7}
    assert bound.runnable.kwargs == bound.options and local.options == {}  # bound on a copy, the client as it was
    assert local.bind().runnable is local.model  # nothing bound: the LangChain model itself


def test_the_leads_measures_memo_asks_the_model_once_per_distinct_request():
    """`evaluation.summaries._Memo` (the leads measure's client): an identical request (messages and options) is
    replayed, and the one-token request before a summary is sent only before a request the model must answer."""
    from assistant.evaluation.summaries import _Memo

    chat = FakeChat("", "The designation came first.", "", "Shorter.")
    memo = _Memo(chat)
    messages = [("system", "s"), ("user", "Summarise.")]
    for _ in range(2):  # the second time: replayed, no request at all
        bound = memo.bind(max_tokens=120, seed=7)
        bound.invoke([("user", "reset")])
        assert "".join(c.text for c in bound.stream(messages)) == "The designation came first."
    short = memo.bind(max_tokens=40, seed=7)  # other options: another request
    short.invoke([("user", "reset")])
    assert "".join(c.text for c in short.stream(messages)) == "Shorter."
    assert [c.how for c in chat.calls] == ["invoke", "stream", "invoke", "stream"]
    assert memo.asked == [2] and chat.calls[1].bound == {"max_tokens": 120, "seed": 7}

"""Questions about the article as a whole, the scope of a question, and topic switches in a conversation.

Real parts throughout: Chroma in tmp_path, the ONNX embedder; the model path talks to the scripted
OpenAI-compatible server (tests/fake_openai.py).
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest

from assistant.answering.question.condense import follow_up
from assistant.answering.question.intent import detect
from assistant.errors import InputError
from assistant.records import Query
from tests.conftest import SAMPLE_ID
from tests.contract import assert_answer_contract
from tests.fake_openai import FakeOpenAI, reply
from tests.helpers import write_articles

DATA = Path(__file__).parent / "data"
LOBOS = "Los Lobos and Los Choneros, as foreign terrorist organizations"
MONEY = "$13.5 million in security assistance"
VENEZUELA = "Venezuelan gang Tren de Aragua, President Trump"
WHOLE_ARTICLE = {
    "summary": [
        "What is this article about?",
        "Summarize the article",
        "Give me the key points.",
        "What's the gist of the story?",
        "Can you give me a quick overview?",
        "TL;DR?",
    ],
    "people": ["Who are the main people in the article?", "Which organisations are involved?"],
    "when": ["When did this happen?", "When was this published?"],
}
ORDINARY = [
    "Which gangs will be designated as terrorist organizations?",
    "Who is Ecuador's president?",
    "When did Rubio visit Ecuador?",
    "Summarize what Rubio said about drones.",
    "What happened to the drug-traffickers in the Caribbean Sea?",
    "Who reported the strike?",
]


@pytest.fixture
def many(make_bot, articles_dir):
    """The sample article among three distractors."""
    write_articles(articles_dir, 3)
    bot = make_bot()
    assert bot.ingest([articles_dir]).added == 4
    return bot


def cited_ids(ans) -> set[str]:
    return {c.article_id for c in ans.citations}


# ---- recognising whole-article questions
@pytest.mark.parametrize("kind,question", [(k, q) for k, qs in WHOLE_ARTICLE.items() for q in qs])
def test_whole_article_questions_are_recognised(embedder, kind, question):
    intent = detect(question, embedder)
    assert intent is not None and intent.kind == kind


def test_the_phrasings_file_is_recognised_and_ordinary_questions_are_not(embedder):
    phrasings = [
        line.strip()
        for line in (DATA / "whole_article_questions.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(phrasings) >= 30
    assert [q for q in phrasings if detect(q, embedder) is None] == []
    assert [q for q in ORDINARY if detect(q, embedder) is not None] == []


# ---- extractive summaries
@pytest.mark.parametrize("question", [q for qs in WHOLE_ARTICLE.values() for q in qs])
def test_whole_article_question_is_answered_from_the_article_in_scope(many, question):
    ans = many.answer(question, article_ids=[SAMPLE_ID])
    assert_answer_contract(many, ans)
    assert ans.answered and 3 <= len(ans.citations) <= 5
    assert cited_ids(ans) == {SAMPLE_ID}
    assert any(LOBOS in c.text for c in ans.citations), ans.text
    assert ans.trace.decision.method == "summary" and "whole-article question" in ans.trace.decision.reason
    indices = [c.sentence_index for c in ans.citations]
    assert indices == sorted(indices)  # in article order
    assert [s.sentence_index for s in ans.trace.sentences] == indices


def test_when_did_this_happen_says_the_article_gives_no_date(bot):
    ans = bot.answer("When did this happen?")
    assert ans.answered and "gives no date" in ans.text and 3 <= len(ans.citations) <= 5


def test_when_did_this_happen_cites_the_dated_sentences_and_the_published_field(make_bot, tmp_path):
    folder = tmp_path / "dated"
    folder.mkdir()
    text = (
        "The city council of Arden approved a new bridge over the river on Tuesday. The vote was close, with "
        "five members for and four against the plan. Work will start in March 2027 and take two years. "
        "Residents had asked for a second crossing for a decade. The mayor said the bridge would cut traffic "
        "in the old town by half."
    )
    (folder / "bridge.json").write_text(
        json.dumps({"id": "bridge", "title": "Arden bridge", "text": text, "published": "2026-11-03"}), encoding="utf-8"
    )
    bot = make_bot()
    bot.ingest([folder])
    ans = bot.answer("When did this happen?")
    assert ans.answered and "It is dated 2026-11-03." in ans.text
    cited = " ".join(c.text for c in ans.citations)
    assert "on Tuesday" in cited and "March 2027" in cited


def test_people_question_names_the_main_people_and_organisations(bot):
    ans = bot.answer("Who are the main people and organisations in the article?")
    assert ans.answered
    for name in ("Marco Rubio", "Los Lobos", "Los Choneros", "Daniel Noboa"):
        assert name in ans.text


def test_ambiguous_this_article_summarises_the_most_recent_one_and_says_so(many, articles_dir):
    later = time.time() + 60
    os.utime(articles_dir / f"{SAMPLE_ID}.txt", (later, later))
    ans = many.answer("What is this article about?")
    assert ans.answered and cited_ids(ans) == {SAMPLE_ID}
    assert "4 articles indexed" in ans.text and "most recently added" in ans.text
    assert "Ecuador gangs terrorist designation" in ans.text


def test_several_articles_in_scope_say_which_article_each_part_is_about(many):
    ans = many.answer("Summarize the articles", article_ids=[SAMPLE_ID, "town-0001"])
    assert_answer_contract(many, ans)
    assert cited_ids(ans) == {SAMPLE_ID, "town-0001"}
    lines = ans.text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("**Ecuador gangs terrorist designation**:")
    assert lines[1].startswith("**Council of Bexley district 1 approves plan 1**:")


def test_summarize_all_articles_without_scope_covers_every_article(many):
    ans = many.answer("Summarize all the articles")
    assert cited_ids(ans) == {SAMPLE_ID, "town-0000", "town-0001", "town-0002"}


def test_unknown_article_in_scope_is_a_clear_error(bot):
    with pytest.raises(InputError, match="no such article: 'nope' is not in the index"):
        bot.answer("What is this article about?", article_ids=["nope"])
    with pytest.raises(InputError, match="no such article"):
        bot.answer("Which gangs will be designated?", article_ids=[SAMPLE_ID, "nope"])


def test_terminal_chat_takes_an_article_scope(many):
    from assistant.cli.chat import chat

    questions = iter(["What is this article about?", ""])
    out = io.StringIO()
    chat(many, read=lambda prompt: next(questions), out=out, article_ids=[SAMPLE_ID])
    lines = out.getvalue().splitlines()
    assert 'asking about "Ecuador gangs terrorist designation"' in lines[0]
    assert all(SAMPLE_ID not in line or "Ecuador" in line for line in lines)
    assert any("Los Lobos and Los Choneros" in line for line in lines)


def test_cli_chat_has_an_article_option():
    from assistant.cli.main import _parser

    args = _parser().parse_args(["chat", "--article", SAMPLE_ID])
    assert args.articles == [SAMPLE_ID]


# ---- topic switches and follow-ups
def test_a_new_subject_after_two_unrelated_turns_is_not_a_follow_up(bot):
    history = []
    for question in (
        "Which gangs will be designated as terrorist organizations?",
        "How much security assistance did the U.S. announce?",
    ):
        history.append((question, bot.answer(question, history=history).text))
    ans = bot.answer("What did Trump say about Venezuela?", history=history)
    assert_answer_contract(bot, ans)
    assert ans.answered and VENEZUELA in ans.citations[0].text, ans.text
    assert all(LOBOS not in c.text for c in ans.citations)
    assert ans.trace.question_step.follow_up is False and ans.trace.context == ""


def test_a_real_follow_up_still_reads_the_conversation(bot):
    ans = bot.answer("What does he want to change?", history=[("Who is Ecuador's president?", "Daniel Noboa")])
    assert ans.trace.question_step.follow_up is True and "Noboa" in ans.trace.context
    assert "modify the constitution" in ans.trace.sentences[0].text


def test_follow_up_decisions_on_the_labelled_set():
    items = [json.loads(line) for line in (DATA / "follow_ups.jsonl").read_text().splitlines() if line.strip()]
    wrong = [
        it["question"]
        for it in items
        if follow_up(it["question"], [tuple(t) for t in it["history"]])[0] != it["follow_up"]
    ]
    assert len(items) >= 40 and len(wrong) <= 2, wrong


# ---- the model path, against the scripted server
@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def llm_many(make_bot, articles_dir, server):
    write_articles(articles_dir, 2)
    bot = make_bot(
        openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0, request_timeout=5
    )
    assert bot.ingest([articles_dir]).added == 3
    return bot


def test_model_summary_is_attributed_and_cited(llm_many, server):
    server.script(
        reply(
            "The U.S. will designate Los Lobos and Los Choneros, two of Ecuador's largest criminal gangs, as foreign "
            "terrorist organizations. It also announced $13.5 million in security assistance for Ecuador."
        )
    )
    ans = llm_many.answer("Summarize the article", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and len(ans.citations) == 2 and cited_ids(ans) == {SAMPLE_ID}
    assert LOBOS in ans.citations[0].text and MONEY in ans.citations[1].text
    assert ans.trace.decision.method == "summary (model, attributed)"
    assert [c.how for c in ans.trace.attribution.claims]
    (body,) = server.chat_requests
    system, user = (m["content"] for m in body["messages"])
    article = llm_many.article(SAMPLE_ID)
    assert all(" ".join(s.text.split()) in user for s in article["sentences"])  # the whole article, not a search
    assert "[1]" not in user and "Question: Summarize the article\n" in user
    # the question prompt's beginning (system message, the article as text): read from the model server's cache
    question_prompt = llm_many.model_reader.messages(
        Query("x", "x"), [], llm_many.retriever.retrieve(Query("Ecuador", "Ecuador"), [SAMPLE_ID]).context
    )
    assert system == question_prompt[0][1] and user.split("Question:")[0] == question_prompt[1][1].split("Question:")[0]


def test_a_summary_sentence_the_article_does_not_hold_is_left_out(llm_many, server):
    server.script(
        reply(
            "The U.S. will designate Los Lobos and Los Choneros as foreign terrorist organizations. "
            "Ecuador is the world's largest producer of cocaine, Rubio said in Paris."
        )
    )
    ans = llm_many.answer("Summarize the article", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and len(ans.citations) == 1 and "Paris" not in ans.text and "largest" not in ans.text


def test_model_summary_without_supported_sentences_falls_back_to_the_extractive_one(llm_many, server):
    server.script(reply("The article is about the weather in Paris."))
    ans = llm_many.answer("What is this article about?", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and 3 <= len(ans.citations) <= 5 and any(LOBOS in c.text for c in ans.citations)
    assert ans.trace.decision.method == "summary (extractive fallback)" and "could not stand" in ans.trace.notes[-1]


def test_a_long_article_is_summarised_in_parts(make_bot, tmp_path, server):
    folder = tmp_path / "long"
    write_articles(folder, 1, sentences=130)
    bot = make_bot(
        openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0, request_timeout=5
    )
    bot.ingest([folder])
    text = bot.article(bot.articles()[0].id)["sentences"]
    picks = [text[4].text, text[71].text, text[126].text]
    server.script(
        reply(picks[0]),
        reply(picks[1]),
        reply(picks[2]),
        reply(lambda body: " ".join(line.split(": ", 1)[1] for line in prompt_lines(body) if line.startswith("Part "))),
    )
    ans = bot.answer("Summarize the article")
    assert len(server.chat_requests) == 4  # three parts of at most 60 sentences, then the combining call
    assert all(b["messages"][-1]["content"].count(". ") < 70 for b in server.chat_requests[:3])
    assert ans.answered and ans.trace.decision.method == "summary (model, attributed)"
    assert [c.sentence_index for c in ans.citations] == [4, 71, 126]


def prompt_lines(body: dict) -> list[str]:
    return body["messages"][-1]["content"].splitlines()


def test_model_condenser_skips_a_question_that_stands_on_its_own(llm_many, server):
    history = [
        ("Which gangs will be designated as terrorist organizations?", "Los Lobos and Los Choneros [1]"),
        ("How much security assistance did the U.S. announce?", "$13.5 million [1]"),
    ]
    server.script(
        reply("Trump said the action against Tren de Aragua was essential in combating the flow of narcotics.")
    )
    ans = llm_many.answer("What did Trump say about Venezuela?", history=history)
    assert len(server.chat_requests) == 1  # the answer; no condense call that could drag in the old topic
    assert (
        ans.trace.question_step.follow_up is False
        and ans.trace.standalone_question == "What did Trump say about Venezuela?"
    )
    assert ans.answered and VENEZUELA in ans.citations[0].text


@pytest.mark.llama
@pytest.mark.parametrize("question", ["Summarize the article", "Who are the main people in the article?"])
def test_real_small_model_summary_cites_only_the_article(make_bot, articles_dir, llama_url, question):
    """SmolLM2 via llama.cpp (started by scripts/test): whatever it writes, the summary is answered and every
    citation is a verbatim sentence of the article; unsupported output falls back to the extractive summary."""
    write_articles(articles_dir, 2)
    bot = make_bot(
        openai_base_url=llama_url, openai_api_key="none", chat_model="local", request_timeout=120, max_retries=1
    )
    bot.ingest([articles_dir])
    ans = bot.answer(question, article_ids=[SAMPLE_ID])
    assert_answer_contract(bot, ans)
    assert ans.answered and cited_ids(ans) == {SAMPLE_ID} and ans.trace.raw_model_output is not None
    assert ans.trace.decision.method in ("summary (model, attributed)", "summary (extractive fallback)")

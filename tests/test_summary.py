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

from assistant.answering.retrieval import context
from assistant.answering.question.condense import follow_up
from assistant.answering.retrieval.context import format_sources
from assistant.answering.question.intent import detect
from assistant.errors import InputError
from assistant.records import Query
from tests.conftest import SAMPLE_ID
from tests.contract import assert_answer_contract
from tests.fake_openai import FakeOpenAI, number_of, reply, shown_sentences
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
    assert [s["sentence_index"] for s in ans.trace.sentences] == indices


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
    assert ans.trace.condense["follow_up"] is False and ans.trace.context == ""


def test_a_real_follow_up_still_reads_the_conversation(bot):
    ans = bot.answer("What does he want to change?", history=[("Who is Ecuador's president?", "Daniel Noboa")])
    assert ans.trace.condense["follow_up"] is True and "Noboa" in ans.trace.context
    assert "modify the constitution" in ans.trace.sentences[0]["text"]


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


def cite(template: str, **fragments: str):
    return reply(lambda body: template.format(**{k: number_of(body, v) for k, v in fragments.items()}))


def test_model_summary_is_verified_and_cited(llm_many, server):
    server.script(
        cite(
            "The U.S. will designate Los Lobos and Los Choneros, two of Ecuador's largest gangs, as "
            "foreign terrorist organizations [{a}]. It also announced $13.5 million in security "
            "assistance for Ecuador [{b}].",
            a=LOBOS,
            b=MONEY,
        )
    )
    ans = llm_many.answer("Summarize the article", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and len(ans.citations) == 2 and cited_ids(ans) == {SAMPLE_ID}
    assert LOBOS in ans.citations[0].text and MONEY in ans.citations[1].text
    assert ans.trace.decision.method == "summary (model, verified)"
    (body,) = server.chat_requests
    shown = shown_sentences(body)
    assert len(shown) == len(llm_many.article(SAMPLE_ID)["sentences"])  # the whole article, not a search
    system, user = (m["content"] for m in body["messages"])
    assert "Summarize the article" in user
    # the answer prompt's beginning (system message, numbered sentences): read from the model server's cache
    article_only = llm_many.retriever.retrieve(Query("Ecuador", "Ecuador"), [SAMPLE_ID])
    assert system == llm_many.answerer.messages("", [], [])[0][1]
    assert user.startswith(format_sources(context.choose(article_only, llm_many.retriever)))


def test_model_summary_without_supported_citations_falls_back_to_the_extractive_one(llm_many, server):
    server.script(reply("The article is about the weather in Paris [2]."))
    ans = llm_many.answer("What is this article about?", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and 3 <= len(ans.citations) <= 5 and any(LOBOS in c.text for c in ans.citations)
    assert ans.trace.decision.method == "summary (extractive fallback)" and ans.trace.fallback


def test_a_long_article_is_summarised_in_parts(make_bot, tmp_path, server):
    folder = tmp_path / "long"
    write_articles(folder, 1, sentences=130)
    bot = make_bot(
        openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0, request_timeout=5
    )
    bot.ingest([folder])
    fragments = {"a": "said on day 3 that", "b": "said on day 70 that", "c": "said on day 125 that"}
    server.script(
        cite("Officials described project 0-3 [{a}].", a=fragments["a"]),
        cite("Officials described project 0-70 [{b}].", b=fragments["b"]),
        cite("Officials described project 0-125 [{c}].", c=fragments["c"]),
        reply(
            lambda body: " ".join(
                line.split(": ", 1)[1]
                for line in body["messages"][0]["content"].splitlines()
                if line.startswith("Part ")
            )
        ),
    )
    ans = bot.answer("Summarize the article")
    assert len(server.chat_requests) == 4  # three parts of at most 60 sentences, then the combining call
    assert all(len(shown_sentences(b)) <= 60 for b in server.chat_requests[:3])
    assert ans.answered and ans.trace.decision.method == "summary (model, verified)"
    assert [c.sentence_index for c in ans.citations] == [4, 71, 126]


def test_model_condenser_skips_a_question_that_stands_on_its_own(llm_many, server):
    history = [
        ("Which gangs will be designated as terrorist organizations?", "Los Lobos and Los Choneros [1]"),
        ("How much security assistance did the U.S. announce?", "$13.5 million [1]"),
    ]
    server.script(
        cite("Trump said the operation against Tren de Aragua was essential against narcotics [{v}].", v=VENEZUELA)
    )
    ans = llm_many.answer("What did Trump say about Venezuela?", history=history)
    assert len(server.chat_requests) == 1  # the answer; no condense call that could drag in the old topic
    assert (
        ans.trace.condense["follow_up"] is False
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
    assert ans.trace.decision.method in ("summary (model, verified)", "summary (extractive fallback)")

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

import numpy as np
import pytest

from assistant.answering.question.condense import follow_up
from assistant.answering.question.intent import detect
from assistant.errors import InputError
from tests.conftest import SAMPLE_ID
from tests.contract import assert_answer_contract, traces_built
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


def test_the_summary_path_builds_its_trace_once(many, monkeypatch):
    built = traces_built(monkeypatch)  # each trace as it was when constructed: complete already
    ans = many.answer("Summarize this article", article_ids=[SAMPLE_ID])
    assert built == [ans.trace] and ans.trace.decision.method == "summary"
    timings = ans.trace.timings_ms
    assert timings.summary is not None and timings.question is not None and timings.read is timings.total is None
    assert list(ans.trace.to_dict()["timings_ms"]) == ["question", "summary"]


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


def user_message(body: dict) -> str:
    return str(body["messages"][-1]["content"])


def numbered_lines(body: dict) -> list[str]:
    return [line.split(". ", 1)[1] for line in user_message(body).splitlines() if line[:1].isdigit()]


def test_the_model_words_the_key_sentences_the_code_chose(llm_many, server, embedder):
    """The model is shown only the article's key sentences, the main event (the sentence that says what the title
    says) first, then the rest in article order; it words them, and each sentence it wrote is cited to its own."""
    server.script(
        reply(
            "The U.S. will designate Los Lobos and Los Choneros, two of Ecuador's largest criminal gangs, as foreign "
            "terrorist organizations. Secretary of State Marco Rubio said the U.S. will 'blow up' foreign crime groups "
            "if necessary."
        )
    )
    ans = llm_many.answer("Summarize the article", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and ans.trace.decision.method == "summary (model, attributed)"
    assert [c.sentence_index for c in ans.citations] == [2, 0] and ans.text.startswith("The U.S. will designate")
    (body,) = server.chat_requests
    shown = numbered_lines(body)
    article = [s.text for s in llm_many.article(SAMPLE_ID).sentences]
    assert shown[0] == article[2] and LOBOS in shown[0]  # the main event leads
    assert 3 <= len(shown) <= 5 and shown[1:] == [t for t in article if t in shown[1:]]  # the rest in article order
    assert MONEY not in user_message(body) and "Summarize the article" not in user_message(body)  # not the article
    assert body["seed"] == 7 and body["temperature"] == 0


def test_a_model_summary_is_attributed_with_the_stored_vectors_of_its_sentences(llm_many, server, monkeypatch):
    """The summary's sentences are read from the store with their vectors; attribution compares the model's
    sentences with those and embeds no stored sentence again."""
    info = next(a for a in llm_many.articles() if a.id == SAMPLE_ID)
    stored = {s.sentence.text for s in llm_many.store.sentences_of(SAMPLE_ID, info.content_hash)}
    embedded: list[str] = []
    real_embed = llm_many.embedder.embed

    def counted_embed(texts):
        embedded.extend(texts)
        return real_embed(texts)

    monkeypatch.setattr(llm_many.embedder, "embed", counted_embed)
    server.script(reply("The U.S. will designate Los Lobos and Los Choneros as terrorist groups."))
    ans = llm_many.answer("Summarize the article", article_ids=[SAMPLE_ID])
    assert ans.answered and ans.trace.decision.method == "summary (model, attributed)"
    assert any(t.endswith("as terrorist groups.") for t in embedded) and not stored & set(embedded)


def test_every_phrasing_of_a_summary_sends_the_same_prompt(llm_many, server):
    server.script(*(reply("The U.S. will designate Los Lobos and Los Choneros as terrorist groups.") for _ in range(3)))
    texts = [
        llm_many.answer(q, article_ids=[SAMPLE_ID]).text
        for q in ("What is this article about?", "Give me the key points.", "Can you recap the story?")
    ]
    bodies = server.chat_requests
    assert len(bodies) == 3 and bodies[0]["messages"] == bodies[1]["messages"] == bodies[2]["messages"]
    assert texts[0] == texts[1] == texts[2]


def test_the_main_event_is_cited_even_when_the_models_wording_of_it_does_not_stand(llm_many, server):
    server.script(
        reply(
            "The U.S. bombed Los Lobos in Quito last year. Secretary of State Marco Rubio said the U.S. will "
            "'blow up' foreign crime groups if necessary."
        )
    )
    ans = llm_many.answer("What is this article about?", article_ids=[SAMPLE_ID])
    assert_answer_contract(llm_many, ans)
    assert ans.answered and ans.trace.decision.method == "summary (model, attributed)"
    assert [c.sentence_index for c in ans.citations] == [2, 0] and "Quito" not in ans.text
    assert ans.text.startswith("He announced the U.S. would designate two of Ecuador's largest criminal gangs")


@pytest.mark.parametrize(
    "question,count", [("In one sentence, what is this article about?", 1), ("Briefly, what does the story say?", 3)]
)
def test_briefly_and_in_one_sentence_shorten_the_summary_but_keep_the_main_event(llm_many, server, question, count):
    server.script(reply("The U.S. will designate Los Lobos and Los Choneros as foreign terrorist organizations."))
    ans = llm_many.answer(question, article_ids=[SAMPLE_ID])
    (body,) = server.chat_requests
    assert len(numbered_lines(body)) == count and LOBOS in numbered_lines(body)[0]
    assert ans.answered and [c.sentence_index for c in ans.citations] == [2]


@pytest.mark.parametrize(
    "question,count", [("In one sentence, what is this article about?", 1), ("Briefly, what does the story say?", 3)]
)
def test_the_extractive_summary_is_shortened_too(many, question, count):
    ans = many.answer(question, article_ids=[SAMPLE_ID])
    assert ans.answered and len(ans.citations) == count and any(LOBOS in c.text for c in ans.citations)


def test_the_main_event_ranks_first_when_the_title_names_it_else_the_lead(embedder):
    from assistant.answering.summary.key_sentences import ranked

    texts = [s.strip() + "." for s in (DATA.parent.parent / "articles" / f"{SAMPLE_ID}.txt").read_text().split(".\n")]
    texts = [t for t in texts if len(t.split()) > 5]
    vectors = embedder.embed(texts)
    headline = "Ecuador gangs terrorist designation"
    with_title = ranked(vectors, texts, 4, headline, title_vector=embedder.embed([headline])[0])
    assert LOBOS in texts[with_title[0]] and len(with_title) == 4
    assert ranked(vectors, texts, 4, "story-3", title_vector=embedder.embed(["story-3"])[0])[0] == 0  # a file name
    assert ranked(vectors, texts, 4)[0] == 0
    # a topic, not a headline ("Ecuador"): the lead comes first, not the sentence that names the topic most
    topic = embedder.embed(["Los Lobos and Los Choneros"])[0]
    assert ranked(vectors, texts, 4, "three word title", title_vector=topic)[0] != 0
    assert ranked(vectors, texts, 4, "Ecuador", title_vector=topic)[0] == 0
    # no headline: the lead comes first even when centrality prefers another sentence
    unit = np.asarray(vectors) / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert int(np.argmax(unit @ unit.mean(axis=0))) != 0 and ranked(vectors, texts, 4, lead_weight=0.0)[0] == 0


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


def test_a_long_article_is_summarised_from_its_key_sentences_across_the_whole_article(make_bot, tmp_path, server):
    folder = tmp_path / "long"
    write_articles(folder, 1, sentences=130)
    bot = make_bot(
        openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0, request_timeout=5
    )
    bot.ingest([folder])
    server.script(reply(lambda body: " ".join(numbered_lines(body))))  # the model repeats what it was shown
    ans = bot.answer("Summarize the article")
    (body,) = server.chat_requests  # one request: the key sentences, not 130 sentences in parts
    assert len(numbered_lines(body)) == 5 and len(user_message(body)) < 2500
    assert ans.answered and ans.trace.decision.method == "summary (model, attributed)"
    indices = [c.sentence_index for c in ans.citations]
    assert len(indices) == 5 and max(indices) > 60  # from across the article, not its first part


def test_several_articles_are_worded_one_at_a_time_under_their_titles(llm_many, server):
    server.script(
        reply(lambda body: " ".join(numbered_lines(body))), reply(lambda body: " ".join(numbered_lines(body)))
    )
    ans = llm_many.answer("Summarize the articles", article_ids=[SAMPLE_ID, "town-0001"])
    assert_answer_contract(llm_many, ans)
    assert len(server.chat_requests) == 2 and cited_ids(ans) == {SAMPLE_ID, "town-0001"}
    lines = ans.text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("**Ecuador gangs terrorist designation**:")
    assert lines[1].startswith("**Council of Bexley district 1 approves plan 1**:")


def test_with_a_fixed_layout_each_summary_request_follows_a_one_token_request(llm_many, server, embedder):
    """Our llama.cpp server reuses the prefix the previous request shares; a one-token request whose system message
    differs at its first word makes the summary's prompt be evaluated the same way every time."""
    from assistant.answering.build import build_summarizer
    from assistant.answering.summary.model_summary import SummaryModel
    from assistant.llm.chat_model import build_chat_model

    chat = build_chat_model("fake", server.url, "test", 5, 0, streaming=True, max_tokens=320)
    model = SummaryModel(lambda: (chat, server.url), "fake", (), fixed_layout=True)
    summarizer = build_summarizer(llm_many.settings, llm_many.store, embedder, model, llm_many.thresholds)
    server.script(reply("."), reply("The U.S. will designate Los Lobos and Los Choneros as terrorist organizations."))
    intent = detect("Summarize the article", embedder)
    assert intent is not None
    events = list(summarizer.summarize("Summarize the article", intent, [SAMPLE_ID]))
    reset, summary = server.chat_requests
    assert reset["max_tokens"] == 1 and [m["content"] for m in reset["messages"]] == [".", "."]
    assert summary["messages"][0]["content"].split()[0] != "."
    assert events[-1].answer.answered and LOBOS in events[-1].answer.citations[0].text


def quoting_summarizer(bot, server, embedder):
    """The summariser as the factory builds it for the local model: a fixed layout, the main event quoted."""
    from assistant.answering.build import build_summarizer
    from assistant.answering.summary.model_summary import SummaryModel
    from assistant.llm.chat_model import build_chat_model

    chat = build_chat_model("fake", server.url, "test", 5, 0, streaming=True, max_tokens=320)
    model = SummaryModel(lambda: (chat, server.url), "fake", (), fixed_layout=True, quotes_main_event=True)
    return build_summarizer(bot.settings, bot.store, embedder, model, bot.thresholds)


def summarized(summarizer, embedder, question: str, scope: list[str]) -> list:
    intent = detect(question, embedder)
    assert intent is not None
    return list(summarizer.summarize(question, intent, scope))


def test_a_quoted_main_event_is_shown_before_the_model_reads_and_the_model_words_only_the_rest(
    llm_many, server, embedder
):
    """A model too slow to word the main event before the reader waits (the local model on a CPU): the main event's
    sentence is shown at once, verbatim and cited; the model is shown the other key sentences only, and a sentence
    of its that says the main event again is left out."""
    summarizer = quoting_summarizer(llm_many, server, embedder)
    server.script(
        reply("."),
        reply(
            "The U.S. will designate Los Lobos and Los Choneros as foreign terrorist organizations. "
            "Secretary of State Marco Rubio said the U.S. will 'blow up' foreign crime groups if necessary."
        ),
    )
    events = summarized(summarizer, embedder, "What is this article about?", [SAMPLE_ID])
    first, final = events[0], events[-1]
    article = [s.text for s in llm_many.article(SAMPLE_ID).sentences]
    assert isinstance(first, str) and first == f"{article[2].removesuffix('.')} [1]."  # before the model was asked
    reset, body = server.chat_requests
    assert reset["max_tokens"] == 1
    shown = numbered_lines(body)
    # two key sentences to word (QUOTED_AT_MOST: the quote and two), in article order
    assert article[2] not in shown and len(shown) == 2 and shown == [t for t in article if t in shown]
    answer = final.answer
    assert "".join(e for e in events if isinstance(e, str)) == answer.text
    # the key sentence whose wording was left out (it said the main event again) is said verbatim, after the model's
    assert [c.sentence_index for c in answer.citations][:2] == [2, 0] and answer.text.startswith(first)
    assert len(answer.citations) == 3 and answer.citations[2].text in shown
    assert answer.text.endswith(f"{answer.citations[2].text.removesuffix('.')} [3].")
    assert "will designate Los Lobos and Los Choneros as foreign" not in answer.text  # said once, in its own words
    assert final.decision.method == "summary (model, attributed)"


def test_quoted_in_one_sentence_is_the_main_event_without_a_model_request(llm_many, server, embedder):
    summarizer = quoting_summarizer(llm_many, server, embedder)
    events = summarized(summarizer, embedder, "In one sentence, what is this article about?", [SAMPLE_ID])
    answer = events[-1].answer
    assert server.chat_requests == [] and [c.sentence_index for c in answer.citations] == [2]
    assert LOBOS in answer.text


def test_quoted_when_nothing_the_model_wrote_stands_the_extractive_summary_answers(llm_many, server, embedder):
    summarizer = quoting_summarizer(llm_many, server, embedder)
    server.script(reply("."), reply("The article is about the weather in Paris."))
    events = summarized(summarizer, embedder, "What is this article about?", [SAMPLE_ID])
    final = events[-1]
    assert final.decision.method == "summary (extractive fallback)" and "Paris" not in final.answer.text
    assert 3 <= len(final.answer.citations) <= 5 and any(LOBOS in c.text for c in final.answer.citations)
    shown = "".join(e for e in events if isinstance(e, str))
    assert shown.endswith(final.answer.text)  # what was shown first (the quote) is followed by the whole answer


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

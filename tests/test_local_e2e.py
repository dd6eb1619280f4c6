"""End to end with the real bundled local model (Qwen2.5-Coder-1.5B on llama.cpp): a short answer cited to the
right sentence, world knowledge refused, a date question answered without a date refused, a follow-up, a summary,
and the model server killed in the middle of an answer. Few on purpose: ~2-15 s each on 2 cores. They assert what
must hold whatever the model's wording: the contract, which sentence is cited, refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant import Answer
from assistant.llm.choice import choose_answerer
from assistant.llm.local.llama_server import check_server, local_server
from assistant.llm.local.runtime import command_line, process_alive
from tests.conftest import SAMPLE_ID
from tests.contract import assert_answer_contract

pytestmark = pytest.mark.localmodel


@pytest.fixture(scope="module")
def local_bot(tmp_path_factory, embedder):
    from assistant import Assistant, Settings
    from tests.conftest import SAMPLE_DIR

    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "local"},
        index_dir=str(tmp_path_factory.mktemp("i")),
        request_timeout=120.0,
        model_keep_alive=0,  # the model stops with the tests
    )
    choice = choose_answerer(settings)
    if choice.name != "local":
        pytest.skip(f"the local model is not available here: {choice.reason}")
    bot = Assistant(settings=settings, embedder=embedder)
    assert bot.status().answerer == "local", bot.status().answerer_reason
    bot.ingest([SAMPLE_DIR])
    return bot


def test_a_short_answer_is_cited_to_the_sentence_that_holds_it(local_bot):
    ans = local_bot.answer("Who is the president of Ecuador?")
    assert_answer_contract(local_bot, ans)
    assert ans.answered and ans.trace.answerer == "local" and ans.trace.decision.method == "model"
    assert "Noboa" in ans.text and len(ans.text) < 80, ans.text  # a short answer, not a copied sentence
    assert [c.sentence_index for c in ans.citations] == [13]  # "... Ecuadorian President Daniel Noboa's ..."


def test_the_model_check_weighs_the_answer_on_a_server_of_its_own(local_bot):
    """On by default with the local model: asked of its own llama.cpp server (log-probabilities on), the answer
    server untouched; a right answer's yes-probability is over the bar and above a wrong one's for the same
    sentence."""
    ans = local_bot.answer("Who is the president of Ecuador?")
    check = local_bot.flow.model_check
    assert check is not None and ans.answered, ans.trace.decision
    said = [n for n in ans.trace.notes if n.startswith("model check: yes-probability")]
    assert said and ans.trace.timings_ms.check is not None, ans.trace.notes
    answers, checks = local_server(local_bot.settings).files.read(), check_server(local_bot.settings).files.read()
    assert answers is not None and checks is not None and answers.pid != checks.pid
    assert _after(command_line(checks.pid), "--logits_all") == "True"
    assert _after(command_line(answers.pid), "--logits_all") == "False"
    sentence = local_bot.article(SAMPLE_ID).sentences[13].text  # "... Ecuadorian President Daniel Noboa's ..."
    right = check.yes("Who is the president of Ecuador?", sentence, "Daniel Noboa")
    wrong = check.yes("Who is the president of Ecuador?", sentence, "Marco Rubio")
    assert right is not None and wrong is not None and right >= check.bar and wrong < right, (right, wrong)


def test_the_reader_asked_again_says_a_right_answer_again(local_bot):
    """ASSISTANT_READ_AGAIN=1 (off by default): new readings of the same prompt (temperature 0.8, fixed seeds) give
    the right answer again, so two settle it; the same seed reads the same way (a question is decided the same way)."""
    from assistant.answering.decision.agreement import FIRST_SEED, TEMPERATURE, ReadAgain
    from assistant.records import Query

    question = "Who is the president of Ecuador?"
    reader, query = local_bot.flow.model_reader, Query(question, question)
    assert reader is not None and local_bot.flow.read_again is None  # off by default
    shown = local_bot.retriever.retrieve(query).context
    reading = reader.read(query, [], shown)

    def reread(temperature: float, seed: int) -> str:
        return reader.again(query, [], shown, temperature=temperature, seed=seed)

    assert "Noboa" in reading.answer, reading
    assert ReadAgain(local_bot.thresholds.agreement_bar).verdict(reading.answer, question, reread) == (True, 1.0, 2)
    assert reread(TEMPERATURE, FIRST_SEED) == reread(TEMPERATURE, FIRST_SEED)


def _after(args: list[str] | None, flag: str) -> str | None:
    return args[args.index(flag) + 1] if args and flag in args else None


def test_a_cited_answer_from_the_local_model(local_bot):
    ans = local_bot.answer("Which gangs will the U.S. designate as foreign terrorist organizations?")
    assert_answer_contract(local_bot, ans)
    assert ans.answered and ans.trace.raw_model_output and "Los Lobos" in ans.text
    assert any("Los Lobos and Los Choneros" in c.text for c in ans.citations)


def test_world_knowledge_is_refused(local_bot):
    ans = local_bot.answer("Who won the 2022 FIFA World Cup?")
    assert_answer_contract(local_bot, ans)
    assert not ans.answered and ans.citations == [] and ans.trace.reading.answer  # the model answered; the code refused


def test_a_date_question_the_article_cannot_answer_is_refused(local_bot):
    ans = local_bot.answer("On what exact date did the strike take place?")
    assert_answer_contract(local_bot, ans)
    assert not ans.answered and ans.trace.decision.rule in {"not in the text", "lacks what was asked", "reader refused"}


def test_a_follow_up_with_the_local_model(local_bot):
    first = local_bot.answer("How much security assistance did the U.S. announce for Ecuador?")
    assert first.answered
    ans = local_bot.answer("And how much for drones?", history=[(first.trace.question, first.text)])
    assert_answer_contract(local_bot, ans)
    assert ans.answered and "6 million" in ans.text and ans.trace.question_step.follow_up
    assert any("$6 million allocated for drone technology" in c.text for c in ans.citations)


def test_a_two_article_question_is_answered_from_the_article_the_first_names(local_bot, tmp_path_factory, embedder):
    """The second hop with the model: the team's page names the arena, whose own page (which the question shares
    almost no word with) says when it opened; both are cited, each under its title."""
    from assistant import Assistant
    from tests.test_links import ARENAS, DOME, TEAM

    folder = tmp_path_factory.mktemp("wiki")
    for n, text in enumerate([TEAM, DOME, *ARENAS]):
        (folder / f"page{n}.md").write_text(text, "utf-8")
    bot = Assistant(str(tmp_path_factory.mktemp("index")), settings=local_bot.settings, embedder=embedder)
    assert bot.ingest([folder]).added == 6
    ans = bot.answer("When did the arena where the Harbour Rovers played open?")
    assert_answer_contract(bot, ans)
    assert ans.answered and "1989" in ans.text, (ans.text, ans.trace.decision)
    assert {c.title for c in ans.citations} == {"Harbour Rovers", "Kestrel Dome"}
    assert any(c.text.startswith("It was opened in 1989") for c in ans.citations)


@pytest.fixture(scope="module")
def among_distractors(local_bot, tmp_path_factory, embedder):
    """The sample article among three synthetic ones, in an index of its own; the same local model server."""
    from assistant import Assistant
    from tests.conftest import SAMPLE_DIR
    from tests.helpers import write_articles

    folder = tmp_path_factory.mktemp("articles")
    write_articles(folder, 3)
    bot = Assistant(str(tmp_path_factory.mktemp("index")), settings=local_bot.settings, embedder=embedder)
    assert bot.ingest([SAMPLE_DIR, folder]).added == 4
    return bot


@pytest.mark.parametrize(
    "question,headline",
    [
        ("Summarize the article", True),
        ("What is this article about?", True),
        ("Who are the main people in the article?", False),  # people, not necessarily the designation
    ],
)
def test_a_whole_article_question_to_the_local_model_cites_the_article_in_scope(among_distractors, question, headline):
    ans = among_distractors.answer(question, article_ids=[SAMPLE_ID])
    assert_answer_contract(among_distractors, ans)
    assert ans.answered and {c.article_id for c in ans.citations} == {SAMPLE_ID}
    assert ans.trace.decision.method == "summary (model, attributed)", ans.trace.notes
    assert ans.trace.raw_model_output, "the model was asked"
    cites_headline = any("Los Lobos and Los Choneros" in c.text for c in ans.citations)
    assert cites_headline or not headline, ans.text  # a summary cites the two gangs' designation, the main fact


def test_the_same_whole_article_question_gives_the_same_text_in_three_fresh_processes(among_distractors):
    """`assistant ask` three times, each a new process on the same index and the same shared model server, after
    different requests (a question; the same summary; a shorter summary whose prompt shares most of this one's): the
    same text. The server reuses the prefix the previous request shares, and llama.cpp's logits differ with the batch
    a token is evaluated in; the summary's prompt is evaluated the same way every time (model_summary's docstring)."""
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "ASSISTANT_ANSWERER": "local",
        "ASSISTANT_INDEX_DIR": among_distractors.settings.index_dir,
        "ASSISTANT_REQUEST_TIMEOUT": "300",
    }
    question = "Tell me what this story is about."
    before = [
        lambda: among_distractors.answer("Who is the president of Ecuador?"),
        lambda: None,  # right after the same summary
        lambda: among_distractors.answer("Briefly, what happened?", article_ids=[SAMPLE_ID]),
    ]
    texts = []
    for ask_first in before:
        ask_first()
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ask", question, "--article", SAMPLE_ID, "--json"],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        answer = json.loads(done.stdout)
        assert answer["trace"]["decision"]["method"] == "summary (model, attributed)", answer["trace"]["notes"]
        assert any("Los Lobos and Los Choneros" in c["text"] for c in answer["citations"])
        texts.append(answer["text"])
    assert texts[0] == texts[1] == texts[2], texts


def test_the_model_server_killed_mid_answer_is_restarted_or_the_answer_falls_back(local_bot):
    server = local_server(local_bot.settings)  # a handle on the same shared server the bot uses
    server.ensure_running()
    pid = server.pid
    assert pid is not None
    result: list[Answer | BaseException] = []

    def ask() -> None:
        try:
            result.append(local_bot.answer("What does the new classification allow the U.S. to do, in detail?"))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            result.append(exc)

    worker = threading.Thread(target=ask)
    worker.start()
    time.sleep(1.0)  # the request is on its way (the prompt is read for a few seconds)
    os.kill(pid, signal.SIGKILL)
    worker.join(180)
    assert not worker.is_alive() and len(result) == 1
    ans = result[0]
    assert isinstance(ans, Answer), ans  # no exception reaches the person
    assert_answer_contract(local_bot, ans)
    fell_back = ans.trace.decision.method == "extractive fallback"
    assert fell_back == ans.text.startswith("Note: the language model") == (ans.trace.reading.failure is not None)
    record = server.files.read()
    assert fell_back or (record is not None and record.pid != pid)  # the offline answer, or a new server answered
    again = local_bot.answer("Which gangs will the U.S. designate as foreign terrorist organizations?")
    assert again.answered and again.trace.decision.method == "model"
    record = server.files.read()
    assert record is not None and record.pid != pid and process_alive(record.pid)  # a new server took its place

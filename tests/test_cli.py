"""The `assistant` command, run in-process with a temporary index."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from assistant import Assistant
from assistant.cli.chat import chat
from assistant.cli.main import main
from assistant.indexing.watch.watch import watch
from assistant.settings import Settings
from tests.conftest import SAMPLE_ID
from tests.fake_openai import FakeOpenAI, reply
from tests.helpers import write_articles


@pytest.fixture
def env(monkeypatch, tmp_path, articles_dir):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_CHROMA_URL", "ASSISTANT_EMBEDDINGS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_ARTICLES_DIR", str(articles_dir))
    return tmp_path


def test_rebuild_ask_and_status(env, capsys):
    assert main(["rebuild", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 1
    assert main(["ask", "--json", "Which gangs will the U.S. designate as terrorist organizations?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answered"] and "Los Lobos" in out["citations"][0]["text"]
    assert "[1]" in out["text"] and out["trace"]["standalone_question"]
    assert main(["ask", "What is the boiling point of mercury in kelvin?"]) == 3
    assert "don't say" in capsys.readouterr().out
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["articles"] == 1 and status["embedding_model"] == "all-MiniLM-L6-v2-onnx-int8"
    assert status["backend"] == "offline extractive" and status["model_check"] is False  # verbatim: never checked
    assert status["read_again"] is False  # nor sampled


def test_ingest_reports_rejections_with_exit_code_4(env, capsys):
    bad = env / "bad.json"
    bad.write_text("{oops", "utf-8")
    assert main(["ingest", str(bad), str(env / "nope.md")]) == 4
    out = capsys.readouterr().out
    assert "malformed JSON" in out and "no such file" in out


def test_empty_question_is_a_clear_error(env, capsys):
    assert main(["ask", "   "]) == 1
    assert "question is empty" in capsys.readouterr().err


def test_unreachable_chroma_server_is_a_clear_error(env, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", "http://127.0.0.1:9")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the index is unavailable: the Chroma server at http://127.0.0.1:9 did not answer")
    assert err.count("\n") == 1


def test_bad_setting_is_a_clear_error(env, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_TOP_K", "many")
    assert main(["status"]) == 1
    assert "ASSISTANT_TOP_K" in capsys.readouterr().err


def test_secrets_are_masked():
    masked = Settings.from_env(env={"OPENAI_API_KEY": "sk-verysecretvalue1234", "ASSISTANT_AUTH": "ann:pw"}).masked()
    assert masked["openai_api_key"] == "****1234" and "secret" not in json.dumps(masked)
    assert masked["auth"] == "****"


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "assistant", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "rebuild" in done.stdout


def test_watch_rebuilds_as_files_arrive_change_and_vanish(make_bot, tmp_path):
    folder = tmp_path / "inbox"
    paths = write_articles(folder, 2)
    bot = make_bot()
    reports = []
    steps = [
        lambda: write_articles(folder, 1, start=7),
        lambda: paths[0].write_text("Council news\nThe mayor resigned on Friday.", "utf-8"),
        lambda: paths[1].unlink(),
        lambda: None,
    ]

    def sleep(_):
        if steps:
            steps.pop(0)()

    watch(bot, folder, 0, reports.append, max_rounds=5, sleep=sleep)
    summary = [(r.added, r.updated, r.removed) for r in reports]
    assert summary == [(2, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
    assert {a.id for a in bot.articles()} == {"town-0000", "town-0007"}


def test_module_level_answer_uses_the_environment(env):
    from assistant import answer

    Assistant().rebuild()
    ans = answer("How much money was allocated for drone technology?")
    assert ans.answered and ans.citations[0].article_id == SAMPLE_ID


def test_terminal_chat_keeps_the_history(bot, capsys):
    questions = iter(["Which gangs will the U.S. designate?", "And what will that let the U.S. do?", ""])
    chat(bot, read=lambda prompt: next(questions))
    out = capsys.readouterr().out
    assert "Los Lobos and Los Choneros" in out and "freeze the assets" in out
    assert "\n  [1] Ecuador gangs terrorist designation, sentence" in out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


LOBOS = "Los Lobos and Los Choneros, as foreign terrorist organizations"


@pytest.mark.parametrize("tty", [False, True])
def test_terminal_chat_with_a_model_ends_with_the_checked_answer(make_bot, articles_dir, capsys, tty):
    """The model's answer carries brackets it copied ("[99]"); the attributed answer cites the sentence that holds
    it as [1]: that is what the person reads last."""
    question = "Which gangs will the U.S. designate?"
    with FakeOpenAI() as server:
        bot = make_bot(
            openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0, request_timeout=5
        )
        bot.ingest([articles_dir])
        raw: list[str] = []

        def model(body: dict) -> str:
            raw.append("Los Lobos and Los Choneros will be designated as terrorist organizations [99].")
            return raw[-1]

        server.script(reply(model), reply(model))
        questions = iter([question, ""])
        terminal = Terminal()
        chat(bot, read=lambda prompt: next(questions), **({"out": terminal} if tty else {}))
        checked = bot.answer(question)
    out = terminal.getvalue() if tty else capsys.readouterr().out
    assert checked.text == "Los Lobos and Los Choneros will be designated as terrorist organizations [1]."
    assert raw[0] != checked.text and "[99]" in raw[0]
    assert out.rstrip("\n").split("\n")[-2:] == [
        checked.text,
        f"  [1] Ecuador gangs terrorist designation, sentence 3: {checked.citations[0].text}",
    ]
    assert LOBOS in checked.citations[0].text and len(checked.citations) == 1
    assert raw[0] not in out and "[99]" not in out  # the model's unchecked words never reach the screen
    assert out.count(checked.text) == 1


def test_a_question_that_is_not_utf8_is_a_clear_error(env, capsys):
    assert main(["rebuild"]) == 0
    capsys.readouterr()
    assert main(["ask", "Which gangs \udcff\udcfe will be designated?"]) == 1  # bytes FF FE as argv carries them
    assert capsys.readouterr().err == (
        "error: the question is not valid UTF-8 text; check the terminal's encoding "
        "(e.g. LANG=C.UTF-8) and type it again\n"
    )


def test_an_unknown_article_id_is_named(env, capsys):
    assert main(["rebuild"]) == 0
    capsys.readouterr()
    assert main(["ask", "Which gangs will be designated?", "--article", "nope", "--article", SAMPLE_ID]) == 1
    assert capsys.readouterr().err == f"error: no article with id 'nope' in the index; the index has: {SAMPLE_ID}\n"
    assert main(["ask", "Which gangs will be designated?", "--article", SAMPLE_ID]) == 0


def test_terminal_chat_goes_on_after_a_line_that_is_not_utf8(bot, capsys):
    lines = iter(
        [UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "Which gangs will the U.S. designate?", ""]
    )

    def read(prompt):
        line = next(lines)
        if isinstance(line, Exception):
            raise line
        return line

    chat(bot, read=read)
    out = capsys.readouterr().out
    assert "error: that line was not valid UTF-8 text" in out and "Los Lobos and Los Choneros" in out


def test_status_says_when_the_index_needs_a_sweep(env, capsys):
    """As a write killed halfway leaves it: the dirty flag set, records of a version no article points to."""
    assert main(["rebuild"]) == 0
    bot = Assistant()
    state = bot.store.state()
    bot.store.set_state(state["generation"], dirty=True)
    bot.store.sentences.upsert(
        ids=["x::0000000000000000::s0"],
        embeddings=[bot.embedder.embed(["x"])[0]],
        documents=["A sentence of a version that was never finished."],
        metadatas=[{"article_id": SAMPLE_ID, "content_hash": "0" * 64, "sentence_index": 0, "start": 0, "end": 10}],
    )
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert (
        "health           needs a sweep: a write was interrupted (a crash or a kill); 0 chunk and 1 sentence "
        "records belong to no current article."
    ) in out and "(run: assistant rebuild)" in out
    assert main(["rebuild"]) == 0
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["health"]["needs_sweep"] is False


def test_an_empty_index_names_where_it_looked(env, capsys):
    assert main(["ask", "Which gangs will be designated?"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no articles are indexed yet") and str((env / "index").resolve()) in err

"""The web chat's handlers without a browser: called as Gradio calls them, over a real index (the sample)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from assistant.web.app import build_app
from assistant.web.articles import ArticleHandlers
from assistant.web.chat import ALL, ChatHandlers
from tests.conftest import SAMPLE_ID

ASSISTANCE = "How much security assistance did the U.S. announce?"
LIGHTHOUSE = (
    "Port Elin lighthouse reopens\nThe Port Elin lighthouse reopened on Saturday after a two-year restoration.\n"
    "The restoration cost 2.4 million euros.\n"
)


class Recorder:
    """What a person would see as toasts."""

    def __init__(self):
        self.infos: list[str] = []
        self.warnings: list[str] = []

    def info(self, message: str, seconds: float = 5) -> None:
        self.infos.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


@pytest.fixture
def toasts():
    return Recorder()


@pytest.fixture
def chat(bot, toasts):
    return ChatHandlers(bot, toasts)


@pytest.fixture
def library(bot, toasts):
    return ArticleHandlers(bot, toasts)


def skipped(value) -> bool:
    return value == gr.skip()


def received(tmp_path: Path, name: str, data: bytes) -> str:
    """A file as Gradio hands it over: a path in a folder of its own, under the name the browser sent."""
    folder = tmp_path / "gradio" / str(len(list(tmp_path.glob("gradio/*"))))
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    return str(folder / name)


def test_a_question_is_checked_and_the_box_cleared(chat):
    box, question, button = chat.take_question("  How much?  ")
    assert question == "How much?" and box == gr.update(value="", interactive=False)
    assert button == gr.update(interactive=False)  # one question at a time: both wait for the answer
    assert chat.ready() == (gr.update(interactive=True), gr.update(interactive=True))
    with pytest.raises(gr.Error, match="question is empty"):
        chat.take_question("   ")


def test_an_answer_streams_then_lands_in_the_conversation_with_its_trace(chat):
    steps = list(chat.respond(ASSISTANCE, []))
    first, last = steps[0], steps[-1]
    assert "aa-streaming" in first[0][-1]["content"] and skipped(first[1])
    messages, turns = last
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "$13.5 million" in messages[1]["content"] and 'class="aa-marker"' in messages[1]["content"]
    assert turns[0]["question"] == ASSISTANCE and turns[0]["answer"].answered
    assert skipped(chat.trace(turns, False))  # the trace panel is closed: nothing sent
    assert f"<b>Standalone question:</b> {ASSISTANCE}" in chat.trace(turns, True)
    assert chat.show_trace(turns) == (True, chat.trace(turns, True)) and chat.hide_trace() is False

    follow, turns = list(chat.respond("And how much for drones?", turns))[-1]
    assert len(follow) == 2 and len(turns) == 2  # only the new turn goes to the page; the state keeps both
    assert "And how much for drones?" in follow[0]["content"]
    assert turns[1]["answer"].trace.to_dict()["question"] == "And how much for drones?"
    assert "And how much for drones?" in chat.trace(turns, True)


def test_a_question_about_one_article_says_so_in_the_chat(chat):
    messages, turns = list(chat.respond(ASSISTANCE, [], SAMPLE_ID))[-1]
    assert "about: Ecuador gangs terrorist designation" in messages[0]["content"]
    assert turns[0]["answer"].trace.to_dict()["article_ids"] == [SAMPLE_ID]


def test_a_failed_answer_is_a_message_in_the_chat_and_a_warning(chat, bot, toasts):
    bot.remove([SAMPLE_ID])  # the article chosen in the page is gone meanwhile
    messages, turns = list(chat.respond(ASSISTANCE, [], SAMPLE_ID))[-1]
    assert "aa-error" in messages[-1]["content"] and "No answer: No such article" in messages[-1]["content"]
    assert skipped(turns)
    assert toasts.warnings and toasts.warnings[0].startswith("No such article: 'ecuador-gangs-terrorist-designation'")


def test_the_chat_endpoint_ends_with_the_answer_and_its_sources(chat):
    outputs = list(chat.chat_api(ASSISTANCE))
    assert "\n\nSources:\n[1] Ecuador gangs terrorist designation, sentence " in outputs[-1]
    with pytest.raises(gr.Error, match="question is empty"):
        list(chat.chat_api(""))


def test_a_cited_sentence_opens_in_its_article(chat):
    html = chat.show_source([SAMPLE_ID, 0])
    assert 'class="aa-doc-title">Ecuador gangs terrorist designation' in html and "aa-hl" in html
    assert "No article with id &#x27;nope&#x27;" in chat.show_source(["nope", 0])
    assert "aa-error" in chat.show_source([SAMPLE_ID])  # a malformed click: a message, not a traceback


def test_clear_forgets_the_conversation(chat):
    turns, trace, source = chat.clear()
    assert turns == [] and "Ask a question to see how" in trace and "Click a citation" in source


def test_an_upload_is_indexed_and_each_refused_file_named(library, bot, toasts, tmp_path):
    files = [
        received(tmp_path, "port-elin.txt", LIGHTHOUSE.encode()),
        received(tmp_path, "notes.txt", b"Caf\xe9 \xff not UTF-8"),
        received(tmp_path, "report.pdf", b"%PDF-1.4"),
    ]
    table, removal, result, box = library.upload(files)
    assert "Port Elin lighthouse reopens" in table and box is None
    assert ("Port Elin lighthouse reopens (port-elin)", "port-elin") in removal["choices"]
    assert "1 added" in result["value"] and "notes.txt: not UTF-8 text" in result["value"]
    assert [w.split(":")[0] for w in toasts.warnings] == ["notes.txt was not added", "report.pdf was not added"]
    assert toasts.infos == [
        "Indexed: 1 added, 0 updated, 0 unchanged, 0 removed, 0 rejected. You can ask about it now."
    ]
    assert sorted(p.name for p in Path(bot.info().articles_dir).iterdir()) == [
        "ecuador-gangs-terrorist-designation.txt",
        "port-elin.txt",
    ]
    assert all(skipped(v) for v in library.upload([])[:3])


def test_a_new_article_becomes_the_scope_and_a_removed_one_ends_it(library, tmp_path):
    known = [SAMPLE_ID]
    library.upload([received(tmp_path, "port-elin.txt", LIGHTHOUSE.encode())])
    menu, ids = library.scope_options(known, ALL)
    assert menu["value"] == "port-elin" and ids == [SAMPLE_ID, "port-elin"]
    assert ("All articles", ALL) == menu["choices"][0]
    line, source = library.pick_scope("port-elin")
    assert "Asking about <b>Port Elin lighthouse reopens</b> only" in line and "aa-doc-title" in source

    library.remove(["port-elin"])
    menu, ids = library.scope_options(ids, "port-elin")
    assert menu["value"] == ALL and ids == [SAMPLE_ID]
    assert "all 1 articles" in library.pick_scope("port-elin")[0]


def test_removing_says_what_happened_and_that_the_files_stay(library, bot, toasts):
    assert all(skipped(v) for v in library.remove([]))
    assert toasts.warnings == ["Choose the articles to remove first."]
    table, removal = library.remove([SAMPLE_ID])
    assert "Ecuador" not in table and removal["choices"] == []
    assert toasts.infos == [f"Removed 1 article(s) from the index; their files stay in {bot.info().articles_dir}."]


def test_the_page_says_what_answers_and_why(bot):
    info = bot.info()
    assert (info.answerer, info.backend) == ("extractive", "offline extractive")
    assert "ASSISTANT_ANSWERER" in info.reason
    demo = build_app(bot)
    sidebar = " ".join(str(getattr(b, "value", "")) for b in demo.blocks.values())
    assert "offline extractive" in sidebar and info.embedding_model in sidebar and info.index in sidebar

"""The web chat's `/chat` endpoint through `gradio_client`, and the HTML it builds (escaped, linked)."""

from __future__ import annotations

import os

import pytest

from assistant import Answer, Assistant, Citation, Settings
from assistant.indexing.uploads import safe_name
from assistant.web.app import build_app
from assistant.web.render import answer_message, api_text, source_view, trace_view
from assistant.web.server import launch_options
from tests.conftest import SAMPLE_DIR
from tests.fake_openai import FakeOpenAI, reply
from tests.helpers import free_port

ASSISTANCE = "How much security assistance did the U.S. announce?"
MERCURY = "What is the boiling point of mercury in kelvin?"
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module", autouse=True)
def _no_proxy_for_localhost():
    """launch() and gradio_client call 127.0.0.1; a proxy from the environment must not see that."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("NO_PROXY", "no_proxy"):
            mp.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
        yield


def _launch(root, embedder, **overrides):
    """build_app over a fresh index holding the sample, launched as `serve` would, on a free port; the extractive
    answerer even where the local model is installed (the fast lane never starts it; `env={}` chose it there)."""
    given_a_model = "openai_base_url" in overrides  # then the automatic choice takes that server
    settings = Settings.from_env(
        env={} if given_a_model else {"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(root / "index"),
        articles_dir=str(root / "articles"),
        **overrides,
    )
    bot = Assistant(settings=settings, embedder=embedder)
    assert bot.ingest([SAMPLE_DIR]).added == 1
    demo = build_app(bot)
    _, url, _ = demo.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    return demo, url


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory, embedder):
    demo, url = _launch(tmp_path_factory.mktemp("web_api"), embedder)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def client(chat_url):
    from gradio_client import Client

    return Client(chat_url, verbose=False)


def test_chat_endpoint_returns_a_cited_answer(client):
    text = client.predict(ASSISTANCE, api_name="/chat")
    assert isinstance(text, str)
    answer, _, sources = text.partition("\n\nSources:\n")
    assert "$13.5 million" in answer and "[1]" in answer
    first = sources.splitlines()[0]
    assert first.startswith("[1] Ecuador gangs terrorist designation, sentence ")
    assert "$13.5 million in security assistance" in first


def test_chat_endpoint_says_when_the_articles_do_not_answer(client):
    text = client.predict(MERCURY, api_name="/chat")
    assert text.startswith("The articles don't say")
    assert "Sources:" not in text and "[1]" not in text


def test_chat_endpoint_reports_an_empty_question(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/chat")


def test_chat_endpoint_streams_with_submit(client):
    job = client.submit(ASSISTANCE, api_name="/chat")
    final = job.result(timeout=60)
    assert "Sources:" in final and job.outputs()[-1] == final


def test_login_from_the_environment_guards_chat(tmp_path, embedder):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    demo, url = _launch(tmp_path, embedder, auth="reader:s3cret-pass")
    try:
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False)
        text = Client(url, auth=("reader", "s3cret-pass"), verbose=False).predict(ASSISTANCE, api_name="/chat")
        assert "[1]" in text
    finally:
        demo.close()


def test_unreachable_model_server_is_an_error_a_person_can_act_on(tmp_path, embedder):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    dead = f"http://127.0.0.1:{free_port()}/v1"
    demo, url = _launch(
        tmp_path, embedder, openai_base_url=dead, openai_api_key="test", max_retries=0, request_timeout=5.0
    )
    try:
        with pytest.raises(AppError, match="OPENAI_BASE_URL"):
            Client(url, verbose=False).predict(ASSISTANCE, api_name="/chat")
    finally:
        demo.close()


def test_chat_endpoint_ends_with_the_checked_answer_of_a_model(tmp_path, embedder):
    """The model's answer carries a bracket it copied ("[99]"): the last thing `/chat` sends is the attributed
    answer, with its citations numbered as in its text."""
    from gradio_client import Client

    lobos = "Los Lobos and Los Choneros, as foreign terrorist organizations"
    with FakeOpenAI() as server:
        server.script(reply("Los Lobos and Los Choneros will be designated as terrorist organizations [99]."))
        demo, url = _launch(
            tmp_path,
            embedder,
            openai_base_url=server.url,
            openai_api_key="test",
            chat_model="fake",
            max_retries=0,
            request_timeout=5.0,
        )
        try:
            job = Client(url, verbose=False).submit("Which gangs will the U.S. designate?", api_name="/chat")
            final = job.result(timeout=60)
        finally:
            demo.close()
    assert job.outputs()[-1] == final
    text, sources = final.split("\n\nSources:\n")
    assert text == "Los Lobos and Los Choneros will be designated as terrorist organizations [1]."
    assert sources.startswith("[1] ") and lobos in sources and "[2]" not in sources and "[99]" not in final


# ---- rendering: no server needed
def _answer(text: str, sentence: str, title: str = "T") -> Answer:
    cite = Citation(article_id="a/../b c", title=title, sentence_index=2, text=sentence, start=0, end=len(sentence))
    return Answer(text=text, citations=[cite], answered=True)


def test_answer_html_escapes_text_and_links_markers():
    html = answer_message(_answer(f"It says {EVIL} [1] and <script>x()</script> [7].", EVIL, title=EVIL))
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count('href="#aa-src/a%2F..%2Fb%20c/2"') == 2  # the marker and the source entry
    assert "[7]" in html and 'class="aa-marker"' in html  # an unknown marker stays plain text
    assert "\n\n" not in html  # a blank line would switch the chatbot back to Markdown


def test_source_view_highlights_the_cited_sentence_escaped():
    from assistant.records import Sentence, StoredArticle

    parts = ["First one.", f"Then {EVIL} here.", "Last."]
    text = " ".join(parts)
    starts = [text.index(p) for p in parts]
    sentences = [Sentence("x", i, a, a + len(p), p) for i, (a, p) in enumerate(zip(starts, parts, strict=True))]
    html = source_view(StoredArticle("x", EVIL, text, "x.txt", None, None, None, tuple(sentences)), 1)
    assert "<img" not in html
    assert '<mark class="aa-s aa-hl" data-sentence="1">Then &lt;img' in html


def test_trace_and_api_text_escape():
    ans = _answer("A [1].", "S.")
    assert api_text(ans) == 'A [1].\n\nSources:\n[1] T, sentence 3: "S."'
    html = trace_view(
        {
            "standalone_question": EVIL,
            "passages": [{"title": EVIL, "text": EVIL, "score": 1}],
            "prompt": EVIL,
            "support": [{"sentence": EVIL, "verdict": "supported", "cited": [1]}],
        }
    )
    assert "<img" not in html


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\x.md", "x.md"),
        (".hidden.txt", "hidden.txt"),
        ("a/b/../c <d>.txt", "c -d-.txt"),
        ("Café notes.md", "Café notes.md"),
        ("..", "upload.txt"),
        ("", "upload.txt"),
    ],
)
def test_upload_names_stay_inside_the_folder(name, expected):
    assert safe_name(name) == expected

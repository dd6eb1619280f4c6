"""Programs and agents as clients of the web app: `/answer` (JSON) through `gradio_client`, and the MCP tools
through the official `mcp` SDK's client over streamable HTTP, on a server on 127.0.0.1 started here."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.errors import ConfigError
from assistant.web.app import build_app
from assistant.web.server import MCP_TOOLS, launch, launch_options, offers_add_by_url
from tests.conftest import SAMPLE_DIR, SAMPLE_ID
from tests.helpers import free_port

ASSISTANCE = "How much security assistance did the U.S. announce?"
MERCURY = "What is the boiling point of mercury in kelvin?"
LOGIN = ("reader", "s3cret-pass")
WAIT = 60.0  # the longest any one MCP exchange may take here


@pytest.fixture(scope="module", autouse=True)
def _no_proxy_for_localhost():
    with pytest.MonkeyPatch.context() as mp:
        for name in ("NO_PROXY", "no_proxy"):
            mp.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
        yield


def _serve(root, embedder, add_by_url_tool: bool = True, **overrides) -> tuple[Any, str, Assistant]:
    """build_app over a fresh index holding the sample, with MCP on, launched as `serve` does, on a free port."""
    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(root / "index"),
        articles_dir=str(root / "articles"),
        mcp=True,
        **overrides,
    )
    bot = Assistant(settings=settings, embedder=embedder)
    assert bot.ingest([SAMPLE_DIR]).added == 1
    demo = build_app(bot, add_by_url_tool=add_by_url_tool)
    url = launch(demo, {**launch_options(settings, port=free_port()), "quiet": True})
    return demo, url.rstrip("/"), bot


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder) -> Iterator[tuple[str, Assistant]]:
    demo, url, bot = _serve(tmp_path_factory.mktemp("agents"), embedder, allow_private_urls=True)
    yield url, bot
    demo.close()


def _verbatim(bot: Assistant, citation: dict[str, Any]) -> None:
    text = bot.article(citation["article_id"]).text
    assert text[citation["start"] : citation["end"]] == citation["text"]
    assert set(citation) == {"article_id", "title", "sentence_index", "text", "start", "end", "url", "published"}


# ---- /answer through gradio_client
def test_answer_endpoint_returns_the_answer_and_its_citations_as_data(served):
    from gradio_client import Client

    url, bot = served
    got = Client(url, verbose=False).predict(ASSISTANCE, api_name="/answer")
    assert isinstance(got, dict) and set(got) == {"text", "answered", "reason", "citations"}
    assert got["answered"] is True and "$13.5 million" in got["text"] and "[1]" in got["text"]
    assert got["reason"] and len(got["citations"]) >= 1
    first = got["citations"][0]
    assert first["article_id"] == SAMPLE_ID and "$13.5 million in security assistance" in first["text"]
    for citation in got["citations"]:
        _verbatim(bot, citation)


def test_answer_endpoint_declines_plainly_and_takes_history_and_an_article(served):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    url, _ = served
    client = Client(url, verbose=False)
    off = client.predict(MERCURY, api_name="/answer")
    assert off["answered"] is False and off["citations"] == [] and off["reason"]
    history = [["Which gangs will the U.S. designate?", "Los Lobos and Los Choneros [1]."]]
    follow = client.predict("How much security assistance did it announce?", history, SAMPLE_ID, api_name="/answer")
    assert follow["answered"] is True and "$13.5 million" in follow["text"]
    with pytest.raises(AppError, match="(?i)no such article"):
        client.predict(ASSISTANCE, None, "no-such-article", api_name="/answer")
    with pytest.raises(AppError, match="(?i)question is empty"):
        client.predict("   ", api_name="/answer")


def test_chat_endpoint_is_unchanged_beside_answer(served):
    from gradio_client import Client

    text = Client(served[0], verbose=False).predict(ASSISTANCE, api_name="/chat")
    assert isinstance(text, str) and "\n\nSources:\n[1] " in text


# ---- MCP, through the official SDK's client
async def _mcp(url: str, calls: list[tuple[str, dict[str, Any]]], cookies: httpx.Cookies | None = None) -> Any:
    """(the tools listed, each call's result), over streamable HTTP, every exchange bounded by WAIT."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with httpx.AsyncClient(timeout=WAIT, cookies=cookies, trust_env=False) as http:
        async with streamable_http_client(f"{url}/gradio_api/mcp/", http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await asyncio.wait_for(session.initialize(), WAIT)
                tools = await asyncio.wait_for(session.list_tools(), WAIT)
                results = [await asyncio.wait_for(session.call_tool(name, args), WAIT) for name, args in calls]
                return tools.tools, results


def _data(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    [content] = result.content
    data: dict[str, Any] = json.loads(content.text)  # the tool's result, as JSON
    return data


def test_mcp_client_lists_the_tools_and_gets_verbatim_cited_sentences(served):
    url, bot = served
    calls = [
        ("answer", {"question": ASSISTANCE}),
        ("search_sentences", {"query": "terrorist organizations", "k": 3}),
        ("list_articles", {}),
        ("answer", {"question": "   "}),
    ]
    tools, (answered, found, listed, empty) = asyncio.run(_mcp(url, calls))
    by_name = {t.name: t for t in tools}
    assert sorted(by_name) == sorted(MCP_TOOLS)  # not /chat: its flat text is `answer`'s data
    described = by_name["answer"].inputSchema["properties"]
    assert by_name["answer"].inputSchema["required"] == ["question"]
    assert described["question"]["type"] == "string" and "question" in described["question"]["description"]
    assert "list_articles" in described["article_id"]["description"]
    assert "cit" in by_name["answer"].description and by_name["search_sentences"].inputSchema["properties"]["k"][
        "type"
    ] == ("integer")

    got = _data(answered)
    assert got["answered"] is True and "$13.5 million" in got["text"]
    for citation in got["citations"]:
        _verbatim(bot, citation)
    sentences = _data(found)["sentences"]
    assert len(sentences) == 3 and "terrorist organizations" in sentences[0]["text"]
    assert [s["score"] for s in sentences] == sorted((s["score"] for s in sentences), reverse=True)
    for s in sentences:
        _verbatim(bot, {k: v for k, v in s.items() if k != "score"})
    [article] = _data(listed)["articles"]
    assert article["article_id"] == SAMPLE_ID and article["title"] == "Ecuador gangs terrorist designation"
    assert empty.isError and "question is empty" in empty.content[0].text.lower()


class Page(BaseHTTPRequestHandler):
    """A news page, and a file that is not one."""

    HTML = (
        b"<html><head><title>Lighthouse reopens</title></head><body><article><h1>Lighthouse reopens</h1>"
        b"<p>The Port Elin lighthouse reopened on Saturday after a two-year restoration.</p>"
        b"<p>The restoration cost 2.4 million euros, paid by the harbour board.</p></article></body></html>"
    )

    def do_GET(self):  # noqa: N802 (http.server's name)
        body, kind = (self.HTML, "text/html; charset=utf-8") if self.path == "/news" else (b"\x89PNG....", "image/png")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_mcp_add_article_by_url_indexes_a_page_and_refuses_what_ingest_refuses(served, site):
    url, bot = served  # this server allows private addresses (ASSISTANT_ALLOW_PRIVATE_URLS=1): the page is local
    calls = [
        ("add_article_by_url", {"url": f"{site}/news"}),
        ("add_article_by_url", {"url": f"{site}/photo.png"}),
        ("add_article_by_url", {"url": "file:///etc/passwd"}),
        ("answer", {"question": "How much did the lighthouse restoration cost?"}),
    ]
    _, (added, picture, local_file, asked) = asyncio.run(_mcp(url, calls))
    assert _data(added)["added"] == 1
    rejected = _data(picture)["rejected"]
    assert _data(picture)["added"] == 0 and len(rejected) == 1 and "image/png" in rejected[0]["reason"]
    assert local_file.isError and "https://" in local_file.content[0].text
    got = _data(asked)
    assert got["answered"] and "2.4 million euros" in got["citations"][0]["text"], got
    _verbatim(bot, got["citations"][0])


def test_add_article_by_url_refuses_private_addresses_by_default(tmp_path, embedder, site):
    demo, url, _ = _serve(tmp_path, embedder)
    try:
        _, [refused] = asyncio.run(_mcp(url, [("add_article_by_url", {"url": f"{site}/news"})]))
    finally:
        demo.close()
    data = _data(refused)
    assert data["added"] == 0 and "ASSISTANT_ALLOW_PRIVATE_URLS" in data["rejected"][0]["reason"]


def test_add_article_by_url_is_offered_only_with_a_login_or_on_this_machine(tmp_path, embedder):
    settings = Settings.from_env(env={})
    assert offers_add_by_url("127.0.0.1", settings) and offers_add_by_url("localhost", settings)
    assert not offers_add_by_url("0.0.0.0", settings)
    assert offers_add_by_url("0.0.0.0", Settings.from_env(env={"ASSISTANT_AUTH": "a:b"}))
    demo, url, _ = _serve(tmp_path, embedder, add_by_url_tool=False)
    try:
        tools, _ = asyncio.run(_mcp(url, []))
    finally:
        demo.close()
    assert sorted(t.name for t in tools) == ["answer", "list_articles", "search_sentences"]


def test_with_a_login_an_anonymous_mcp_client_is_refused_and_a_signed_in_one_is_served(tmp_path, embedder):
    demo, url, bot = _serve(tmp_path, embedder, auth=":".join(LOGIN))
    try:
        with httpx.Client(base_url=url, timeout=WAIT, trust_env=False) as http:
            assert http.post("/gradio_api/mcp/", json={}).status_code == 401
            with pytest.raises(Exception) as refused:  # the SDK reports the 401 inside its task group
                asyncio.run(asyncio.wait_for(_mcp(url, []), WAIT))
            assert "401" in repr(refused.value) or "401" in str(getattr(refused.value, "exceptions", ""))
            signed = http.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]})
            assert signed.status_code == 200
            tools, [got] = asyncio.run(_mcp(url, [("answer", {"question": ASSISTANCE})], cookies=http.cookies))
    finally:
        demo.close()
    assert "add_article_by_url" in {t.name for t in tools}
    for citation in _data(got)["citations"]:
        _verbatim(bot, citation)


def test_answer_endpoint_asks_for_the_login(tmp_path, embedder):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    demo, url, _ = _serve(tmp_path, embedder, auth=":".join(LOGIN))
    try:
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False)
        got = Client(url, auth=LOGIN, verbose=False).predict(ASSISTANCE, api_name="/answer")
    finally:
        demo.close()
    assert got["answered"] is True and got["citations"]


def test_mcp_setting_is_read_and_checked():
    assert Settings.from_env(env={"ASSISTANT_MCP": "1"}).mcp is True
    assert Settings.from_env(env={}).mcp is False
    with pytest.raises(ConfigError, match="ASSISTANT_MCP"):
        Settings.from_env(env={"ASSISTANT_MCP": "maybe"})
    assert launch_options(Settings.from_env(env={"ASSISTANT_MCP": "1"}))["mcp_server"] is True

"""The web chat's layout (Gradio 6): components, and which handler each event calls.

The handlers are plain methods over the `Assistant` facade (`chat.ChatHandlers`,
`articles.ArticleHandlers`); this module only places components and wires events to them.
Starting the server is `server.serve`.

Concurrency, chosen for a small machine (2 cores) where one Assistant is shared by everyone:
answering shares the concurrency group "answer" (the UI's chat and the `/chat` endpoint): 2 at
a time when answering runs on this machine (embedding the question, scoring sentences, the local
model), 4 with OpenAI or another remote model server, where an answer mostly waits on it. Indexing
(upload, remove) is group "index", 1 at a time: it embeds on every core and writes under the
index's write lock anyway. Adding by URL is group "fetch", `FETCH_LIMIT` at a time: it mostly waits on
another site (a slow one up to the fetch's time limits), so it must not hold the upload lane; its short
write takes the index's write lock like every other. The queue holds at most `QUEUE_SIZE` waiting events; beyond that a
person is told the app is busy instead of waiting without end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from assistant.assistant import Assistant
from assistant.web import render
from assistant.web.agents import AgentTools
from assistant.web.articles import ArticleHandlers, article_choices, scope_choices
from assistant.web.chat import ALL, ChatHandlers
from assistant.web.notify import Notify, Toasts

QUEUE_SIZE = 32
FETCH_LIMIT = 2  # pages fetched by address at once (each mostly waiting on the other site)
SAMPLE_ID = "ecuador-gangs-terrorist-designation"
EXAMPLES = [
    "How much security assistance did the U.S. announce?",
    "Which gangs will be designated as terrorist organizations?",
    "How much of the world's cocaine passes through Ecuador?",
]
FILE_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"]


def answer_limit(answerer: str) -> int:
    return 4 if answerer == "openai" else 2


def build_app(bot: Assistant, notify: Notify | None = None, *, add_by_url_tool: bool = True) -> gr.Blocks:
    """The page, the `/chat` and `/answer` endpoints, and what the MCP server offers as tools (`agents.py`):
    `answer`, `search_sentences`, `list_articles`, and `add_article_by_url` when `add_by_url_tool` (`serve` sets
    it only when a login is set or the server listens on this machine only)."""
    notify = notify or Toasts()
    chat, library = ChatHandlers(bot, notify), ArticleHandlers(bot, notify)
    info = bot.info()
    agents = AgentTools(bot, answer_limit(info.answerer))
    infos = bot.articles()
    examples: Any = [{"text": q} for q in EXAMPLES] if any(a.id == SAMPLE_ID for a in infos) else None
    private: dict[str, Any] = {"api_visibility": "private"}
    answering: dict[str, Any] = {"concurrency_id": "answer", "concurrency_limit": answer_limit(info.answerer)}
    indexing: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1}
    fetching: dict[str, Any] = {"concurrency_id": "fetch", "concurrency_limit": FETCH_LIMIT}

    def show_source(
        target: Sequence[object],
    ) -> str:  # a plain function: Gradio marks server functions with an attribute
        return chat.show_source(target)

    with gr.Blocks(title="Article Assistant", analytics_enabled=False) as demo:
        turns = gr.State([])  # [{"question": str, "answer": Answer, "about": str | None}], this tab's conversation
        trace_open = gr.State(False)  # the trace panel is open: each answer's trace is sent (else on opening)
        pending = gr.State("")  # the checked question on its way from the box to the answerer
        with gr.Sidebar(open=True, width=360, label="Articles"):
            gr.Markdown("### Articles")
            articles_html = gr.HTML(render.articles_table(infos), elem_id="aa-articles")
            files = gr.File(
                label="Add articles (.txt .md .html .json .jsonl)",
                file_count="multiple",
                file_types=FILE_TYPES,
                elem_id="aa-upload",
                height=150,
            )
            with gr.Row(equal_height=True):
                page_url = gr.Textbox(
                    placeholder="https://… a news page or an RSS/Atom feed",
                    show_label=False,
                    scale=4,
                    elem_id="aa-url",
                    max_lines=1,
                )
                add_url = gr.Button("Add by URL", size="sm", scale=1, min_width=90, elem_id="aa-url-add")
            ingest_html = gr.HTML("", elem_id="aa-ingest", visible=False)
            to_remove = gr.Dropdown(
                choices=article_choices(infos), multiselect=True, label="Remove from the index", elem_id="aa-remove"
            )
            remove_btn = gr.Button("Remove selected", variant="stop", size="sm", elem_id="aa-remove-btn")
            gr.HTML(render.backend_info(info.backend, info.index, info.embedding_model, info.reason))
        known = gr.State([a.id for a in infos])  # article ids the page has seen: an upload adds one
        gr.Markdown(
            "## Article Assistant\nAsk about the indexed articles; every answer cites the exact "
            "sentences it comes from. Click a citation to read it in place."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                with gr.Row(equal_height=False):
                    scope = gr.Dropdown(
                        choices=scope_choices(infos),
                        value=ALL,
                        label="Ask about",
                        scale=4,
                        elem_id="aa-scope",
                        filterable=True,
                    )
                    everything = gr.Button("All articles", size="sm", scale=1, min_width=110, elem_id="aa-scope-all")
                scope_html = gr.HTML(render.scope_line(None, len(infos)), elem_id="aa-scope-line")
                chatbot = gr.Chatbot(
                    elem_id="aa-chat",
                    height=520,
                    label="Chat",
                    examples=examples,
                    allow_tags=False,
                    latex_delimiters=[],
                    buttons=[],
                    feedback_options=None,
                    placeholder="Ask a question about the articles.",
                )
                # the turn being answered (streamed here, hidden), added by the page to the chat it shows
                live = gr.Chatbot(visible="hidden", elem_id="aa-live", allow_tags=False, latex_delimiters=[])
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Type a question and press Enter",
                        scale=5,
                        elem_id="aa-question",
                        max_lines=4,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="aa-send")
                with gr.Accordion("How this answer was found (trace)", open=False, elem_id="aa-trace") as trace_box:
                    trace_html = gr.HTML(render.trace_view({}))
            with gr.Column(scale=2):
                source = gr.HTML(
                    render.SOURCE_EMPTY,
                    elem_id="aa-source",
                    js_on_load=render.SOURCE_JS,
                    server_functions=[show_source],
                    max_height=640,
                )

        checked: dict[str, Any] = {
            "outputs": [question, pending, send],
            **private,
            "concurrency_limit": None,
            "show_progress": "hidden",
        }
        answer: dict[str, Any] = {
            "fn": chat.respond,
            "inputs": [pending, turns, scope],
            "outputs": [live, turns],
            **private,
            **answering,
            "show_progress": "minimal",
            "show_progress_on": chatbot,
        }
        new_turn: dict[str, Any] = {"fn": None, "js": render.LIVE_START, **private, "queue": False}
        traced: dict[str, Any] = {"fn": chat.trace, "inputs": [turns, trace_open], "outputs": trace_html, **private}
        for asked in (
            question.submit(chat.take_question, question, **checked),
            send.click(chat.take_question, question, **checked),
            chatbot.example_select(chat.picked_example, None, **checked),
        ):
            asked.success(**new_turn).success(**answer).then(**traced, queue=False, show_progress="hidden").then(
                chat.ready, None, [question, send], **private, queue=False, show_progress="hidden"
            )
        live.change(None, [chatbot, live], chatbot, js=render.LIVE_MERGE, **private, queue=False)
        trace_box.expand(chat.show_trace, turns, [trace_open, trace_html], **private, queue=False)
        trace_box.collapse(chat.hide_trace, None, trace_open, **private, queue=False)
        chatbot.clear(chat.clear, None, [turns, trace_html, source], **private, queue=False)
        changed_list: dict[str, Any] = {
            "fn": library.scope_options,
            "inputs": [known, scope],
            "outputs": [scope, known],
        }
        files.upload(
            library.upload,
            files,
            [articles_html, to_remove, ingest_html, files],
            **private,
            **indexing,
            show_progress="full",
        ).then(**changed_list, **private)
        for trigger in (add_url.click, page_url.submit):
            trigger(
                library.add_url,
                page_url,
                [articles_html, to_remove, ingest_html, page_url],
                **private,
                **fetching,
                show_progress="full",
            ).then(**changed_list, **private)
        remove_btn.click(library.remove, to_remove, [articles_html, to_remove], **private, **indexing).then(
            **changed_list, **private
        )
        demo.load(library.refresh, None, [articles_html, to_remove], **private)
        demo.load(library.first_scope, None, [scope, known], **private)
        scope.change(library.pick_scope, scope, [scope_html, source], **private, queue=False)
        everything.click(lambda: ALL, None, scope, **private, queue=False)
        gr.api(chat.chat_api, api_name="chat", **answering)  # type: ignore[attr-defined]  # exported at run time
        # for programs and agents (JSON; the MCP tools): outside the queue, bounded by `AgentTools` itself
        tools = [agents.answer, agents.search_sentences, agents.list_articles]
        for tool in tools + ([agents.add_article_by_url] if add_by_url_tool else []):
            gr.api(tool, api_name=tool.__name__, queue=False)  # type: ignore[attr-defined]
    queued: gr.Blocks = demo.queue(max_size=QUEUE_SIZE)
    return queued

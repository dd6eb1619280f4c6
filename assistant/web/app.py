"""The web chat (Gradio 6): a thin adapter that turns clicks into `Assistant` calls.

Concurrency, chosen for a small machine (2 cores) where one Assistant is shared by everyone:
answering shares the concurrency group "answer" (the UI's chat and the `/chat` endpoint): 2 at
a time offline, where answering is CPU-bound (embedding the question, scoring sentences), 4 with
a chat model, where an answer mostly waits on the model server. Indexing (upload, remove) is
group "index", 1 at a time: it embeds on every core and writes under the index's write lock
anyway. The queue holds at most `QUEUE_SIZE` waiting events; beyond that a person is told the
app is busy instead of waiting without end.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.question.condense import check_question
from assistant.assistant import Assistant
from assistant.errors import AssistantError, ConfigError
from assistant.indexing.files import max_bytes
from assistant.indexing.uploads import safe_name, save_upload
from assistant.records import Answer
from assistant.settings import Settings
from assistant.web import render

log = logging.getLogger(__name__)

QUEUE_SIZE = 32
SAMPLE_ID = "ecuador-gangs-terrorist-designation"
EXAMPLES = [
    "How much security assistance did the U.S. announce?",
    "Which gangs will be designated as terrorist organizations?",
    "How much of the world's cocaine passes through Ecuador?",
]
ALL = "__all__"  # the scope menu's value for "All articles"
GENERIC = "Something went wrong on the server; try again, and if it keeps happening see the server log."


def _say(exc: AssistantError) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:]


def build_app(bot: Assistant) -> gr.Blocks:
    settings = bot.settings
    answer_limit = 4 if settings.uses_llm else 2

    def history(turns: list[dict]) -> list[tuple[str, str]]:
        return [(t["question"], t["answer"].text) for t in turns]

    def chat_messages(turns: list[dict]) -> list[dict[str, str]]:
        out = []
        for t in turns:
            out += [
                {"role": "user", "content": render.user_message(t["question"], t.get("about"))},
                {"role": "assistant", "content": render.answer_message(t["answer"])},
            ]
        return out

    def take_question(question: str) -> tuple[str, str]:
        """Step 1, instant: check the question and clear the box (a gr.Error here only shows a toast)."""
        try:
            return "", check_question(question)
        except AssistantError as exc:
            raise gr.Error(_say(exc)) from None

    def respond(question: str, turns: list[dict], chosen: str | None = None):
        """Step 2: stream the answer. Failures become a message in the chat and a warning, never a
        gr.Error, which would cover the whole conversation with an error overlay."""
        turns = list(turns or [])
        article_ids = [chosen] if chosen and chosen != ALL else None
        about = _title(chosen) if article_ids else None
        shown = chat_messages(turns) + [{"role": "user", "content": render.user_message(question, about)}]
        text, final = "", None
        yield shown + [{"role": "assistant", "content": render.partial_answer("")}], gr.skip(), gr.skip()
        try:
            for event in bot.stream(question, history=history(turns), article_ids=article_ids):
                if isinstance(event, Answer):
                    final = event
                    break
                text += event
                yield shown + [{"role": "assistant", "content": render.partial_answer(text)}], gr.skip(), gr.skip()
        except AssistantError as exc:
            problem = _say(exc)
        except Exception:
            log.exception("answering failed")
            problem = GENERIC
        else:
            problem = GENERIC  # used only if no answer came, which cannot happen: every stream ends with one
        if final is not None:
            turns.append({"question": question, "answer": final, "about": about})
            yield chat_messages(turns), render.trace_view(final.trace.to_dict()), turns
            return
        gr.Warning(problem)
        yield shown + [{"role": "assistant", "content": render.error_message(problem)}], gr.skip(), gr.skip()

    def picked_example(evt: gr.SelectData) -> tuple[str, str]:
        return "", evt.value["text"]

    def chat_api(message: str) -> Iterator[str]:
        """Answer one question about the indexed articles: the text with markers [n], then 'Sources:'."""
        try:
            text = ""
            for event in bot.stream(message):
                if isinstance(event, Answer):
                    yield render.api_text(event)
                    return
                text += event
                yield text
        except AssistantError as exc:
            raise gr.Error(_say(exc)) from None
        except Exception:
            log.exception("answering failed (/chat)")
            raise gr.Error(GENERIC) from None

    def show_source(target: list) -> str:
        try:
            article_id, index = str(target[0]), int(target[1])
            return render.source_view(bot.article(article_id), index)
        except AssistantError as exc:
            return render.source_error(_say(exc))
        except Exception:
            log.exception("showing a source failed")
            return render.source_error(GENERIC)

    # ---- scope: the article (or all) the next question is about
    def _title(article_id: str | None) -> str:
        return next((a.title for a in bot.articles() if a.id == article_id), article_id or "")

    def scope_choices(infos) -> list[tuple[str, str]]:
        return [("All articles", ALL)] + [(f"{a.title} ({a.id})", a.id) for a in infos]

    def pick_scope(chosen: str | None):
        """The scope line, and the source pane opens the chosen article (or goes back to its hint)."""
        infos = bot.articles()
        if not chosen or chosen == ALL or all(a.id != chosen for a in infos):
            return render.scope_line(None, len(infos)), render.SOURCE_EMPTY
        try:
            return render.scope_line(_title(chosen), len(infos)), render.source_view(bot.article(chosen), None)
        except AssistantError as exc:
            return render.scope_line(_title(chosen), len(infos)), render.source_error(_say(exc))

    def scope_options(known: list[str] | None = None, chosen: str | None = None):
        """After the article list changed: a newly uploaded article becomes the scope; a removed one ends it."""
        infos = bot.articles()
        ids = [a.id for a in infos]
        new = [i for i in ids if known is not None and i not in known]
        value = new[0] if len(new) == 1 else chosen if chosen in ids else ALL
        return gr.update(choices=scope_choices(infos), value=value), ids

    def articles_outputs():
        infos = bot.articles()
        choices = [(f"{a.title} ({a.id})", a.id) for a in infos]
        return render.articles_table(infos), gr.update(choices=choices, value=[])

    def refresh():
        try:
            return articles_outputs()
        except AssistantError as exc:
            gr.Warning(_say(exc))
            return gr.skip(), gr.skip()

    def upload(files: list[str] | None, progress=gr.Progress()):  # noqa: B008 (Gradio's way to ask for a progress bar)
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), None
        folder = Path(settings.articles_dir)
        limit = max_bytes(settings.max_file_mb)
        copied: dict[str, str] = {}  # stored path -> the name shown to the person
        created: set[str] = set()  # files this upload wrote (only these are ever deleted again)
        refused: list[tuple[str, str]] = []
        for tmp in files:
            name = getattr(tmp, "orig_name", None) or Path(tmp).name
            try:  # checked before anything in the articles folder changes
                saved = save_upload(Path(tmp), name, folder, limit)
            except AssistantError as exc:
                refused.append((safe_name(name), str(exc)))
                continue
            except OSError as exc:
                refused.append((safe_name(name), f"could not be saved ({exc.strerror or exc})"))
                continue
            copied[str(saved.path)] = saved.path.name
            if saved.created:
                created.add(str(saved.path))
            if saved.note:
                gr.Info(saved.note, duration=8)
        try:
            report = bot.ingest(
                list(copied),
                progress=lambda done, total: progress(done / max(total, 1), desc=f"Embedding {done}/{total} sentences"),
            )
        except Exception as exc:  # a warning, not gr.Error: that would cover the panel with an overlay
            problem = _say(exc) if isinstance(exc, AssistantError) else GENERIC
            if not isinstance(exc, AssistantError):
                log.exception("indexing an upload failed")
            gr.Warning(f"The upload was not indexed: {problem}")
            return (
                gr.skip(),
                gr.skip(),
                gr.update(value=render.source_error(f"Not indexed: {problem}"), visible=True),
                None,
            )
        for r in report.rejected:
            refused.append((copied.get(r.path, Path(r.path).name), r.reason))
            if r.path in created:
                Path(r.path).unlink(missing_ok=True)  # this upload's own new file, refused on indexing
        for name, reason in refused:
            gr.Warning(f"{name} was not added: {reason}")
        if report.changed:
            gr.Info(f"Indexed: {report.summary()}. You can ask about it now.", duration=5)
        table, choices = articles_outputs()
        return table, choices, gr.update(value=render.ingest_result(report, refused), visible=True), None

    def remove(ids: list[str] | None):
        if not ids:
            gr.Warning("Choose the articles to remove first.")
            return gr.skip(), gr.skip()
        try:
            report = bot.remove(ids)
        except AssistantError as exc:
            gr.Warning(_say(exc))
            return gr.skip(), gr.skip()
        gr.Info(f"Removed {report.removed} article(s) from the index; their files stay in {settings.articles_dir}.")
        return articles_outputs()

    infos = bot.articles()
    index = settings.chroma_url or str(Path(settings.index_dir).resolve())
    examples: Any = [{"text": q} for q in EXAMPLES] if any(a.id == SAMPLE_ID for a in infos) else None
    private: dict[str, Any] = {"api_visibility": "private"}
    answering: dict[str, Any] = {"concurrency_id": "answer", "concurrency_limit": answer_limit}
    indexing: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1}

    with gr.Blocks(title="Article Assistant", analytics_enabled=False) as demo:
        turns = gr.State([])  # [{"question": str, "answer": Answer}], this browser tab's conversation
        pending = gr.State("")  # the checked question on its way from the box to the answerer
        with gr.Sidebar(open=True, width=360, label="Articles"):
            gr.Markdown("### Articles")
            articles_html = gr.HTML(render.articles_table(infos), elem_id="aa-articles")
            files = gr.File(
                label="Add articles (.txt .md .html .json .jsonl)",
                file_count="multiple",
                file_types=[".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"],
                elem_id="aa-upload",
                height=150,
            )
            ingest_html = gr.HTML("", elem_id="aa-ingest", visible=False)
            to_remove = gr.Dropdown(
                choices=[(f"{a.title} ({a.id})", a.id) for a in infos],
                multiselect=True,
                label="Remove from the index",
                elem_id="aa-remove",
            )
            remove_btn = gr.Button("Remove selected", variant="stop", size="sm", elem_id="aa-remove-btn")
            gr.HTML(render.backend_info(bot.backend, index, bot.embedder.model_name, bot.choice.reason))
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
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Type a question and press Enter",
                        scale=5,
                        elem_id="aa-question",
                        max_lines=4,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="aa-send")
                with gr.Accordion("How this answer was found (trace)", open=False, elem_id="aa-trace"):
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
            "outputs": [question, pending],
            **private,
            "concurrency_limit": None,
            "show_progress": "hidden",
        }
        answer: dict[str, Any] = {
            "fn": respond,
            "inputs": [pending, turns, scope],
            "outputs": [chatbot, trace_html, turns],
            **private,
            **answering,
            "show_progress": "minimal",
        }
        question.submit(take_question, question, **checked).success(**answer)
        send.click(take_question, question, **checked).success(**answer)
        chatbot.example_select(picked_example, None, **checked).success(**answer)
        chatbot.clear(
            lambda: ([], render.trace_view({}), render.SOURCE_EMPTY),
            None,
            [turns, trace_html, source],
            **private,
            queue=False,
        )
        files.upload(
            upload, files, [articles_html, to_remove, ingest_html, files], **private, **indexing, show_progress="full"
        ).then(scope_options, [known, scope], [scope, known], **private)
        remove_btn.click(remove, to_remove, [articles_html, to_remove], **private, **indexing).then(
            scope_options, [known, scope], [scope, known], **private
        )
        demo.load(refresh, None, [articles_html, to_remove], **private)
        demo.load(lambda: scope_options(None, ALL), None, [scope, known], **private)
        scope.change(pick_scope, scope, [scope_html, source], **private, queue=False)
        everything.click(lambda: ALL, None, scope, **private, queue=False)
        gr.api(chat_api, api_name="chat", **answering)
    demo.queue(max_size=QUEUE_SIZE)
    return demo


def launch_options(settings: Settings, host: str | None = None, port: int | None = None) -> dict[str, Any]:
    """`Blocks.launch` arguments: 127.0.0.1 unless told otherwise, login from ASSISTANT_AUTH, upload limit."""
    auth = tuple(settings.auth.split(":", 1)) if settings.auth else None
    return {
        "server_name": host or "127.0.0.1",
        "server_port": port or settings.port,
        "auth": auth,
        "auth_message": "Sign in with the user and password set in ASSISTANT_AUTH.",
        "max_file_size": max_bytes(settings.max_file_mb),
        "css": render.CSS,
        "theme": gr.themes.Soft(),
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
        "footer_links": ["api"],
        "run_history": False,
    }


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_exposure(host: str, settings: Settings, allow_anonymous: bool = False) -> None:
    """Beyond this machine, without a login, anyone who reaches the port can read, upload and remove
    articles: refuse unless the person says that is what they want (`--allow-anonymous`)."""
    if host in LOOPBACK or host.startswith("127.") or settings.auth:
        return
    if not allow_anonymous:
        raise ConfigError(
            f"--host {host} opens the web chat to the network, and ASSISTANT_AUTH is not set: anyone who can "
            "reach this machine could read, upload and remove articles. Set ASSISTANT_AUTH=user:password, "
            "or add --allow-anonymous if an open chat is what you want."
        )
    log.warning(
        "SERVING ON %s WITHOUT A LOGIN (--allow-anonymous): anyone who can reach this machine can read, "
        "upload and remove articles. Set ASSISTANT_AUTH=user:password to require one.",
        host,
    )


def serve(
    host: str | None = None, port: int | None = None, index_dir: str | None = None, allow_anonymous: bool = False
) -> None:
    """Start the web chat; with an empty index, index the articles folder first."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    for name in ("NO_PROXY", "no_proxy"):  # launch() calls its own URL; through a proxy that can hang
        hosts = [h.strip() for h in os.environ.get(name, "").split(",") if h.strip()]
        os.environ[name] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env(None, **({"index_dir": index_dir} if index_dir else {}))
    check_exposure(host or "127.0.0.1", settings, allow_anonymous)
    bot = Assistant(settings=settings)
    if not bot.articles() and Path(settings.articles_dir).is_dir():
        report = bot.ingest([settings.articles_dir])
        log.info("empty index: indexed %s: %s", settings.articles_dir, report.summary())
    # start the local model's server and have it read the newest article while the page loads
    threading.Thread(target=bot.warm_up, name="assistant-warm-up", daemon=True).start()
    build_app(bot).launch(**launch_options(settings, host, port))

"""The sidebar's and the scope menu's handlers: the article list, uploads, removal, what to ask about.

Plain methods over the `Assistant` facade (the upload workflow is `Assistant.upload`), wired to
components by `app.build_app`; tests call them without a browser.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from assistant.assistant import Assistant
from assistant.errors import AssistantError
from assistant.records import ArticleInfo, Upload
from assistant.web import render
from assistant.web.chat import ALL, Update
from assistant.web.notify import GENERIC, Notify, say

log = logging.getLogger(__name__)


def article_choices(infos: Sequence[ArticleInfo]) -> list[tuple[str, str]]:
    return [(f"{a.title} ({a.id})", a.id) for a in infos]


def scope_choices(infos: Sequence[ArticleInfo]) -> list[tuple[str, str]]:
    return [("All articles", ALL)] + article_choices(infos)


def received(files: Sequence[str]) -> list[Upload]:
    """Gradio's uploaded files (path strings, in a folder of their own under the name the browser sent)."""
    return [Upload(str(f), getattr(f, "orig_name", None) or Path(f).name) for f in files]


class ArticleHandlers:
    def __init__(self, bot: Assistant, notify: Notify):
        self.bot, self.notify = bot, notify

    def listing(self) -> tuple[str, Update]:
        """(the article table, the removal menu emptied) for the current index."""
        infos = self.bot.articles()
        return render.articles_table(infos), gr.update(choices=article_choices(infos), value=[])

    def refresh(self) -> tuple[str | Update, Update]:
        try:
            return self.listing()
        except AssistantError as exc:
            self.notify.warning(say(exc))
            return gr.skip(), gr.skip()

    def upload(
        self,
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
    ) -> tuple[str | Update, Update, Update, None]:
        """(table, removal menu, result panel, upload box emptied): every file checked and indexed on its own
        merits, each refused one named with its reason."""
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), None
        try:
            result = self.bot.upload(
                received(files),
                progress=lambda done, total: progress(done / max(total, 1), desc=f"Embedding {done}/{total} sentences"),
            )
        except Exception as exc:  # a warning, not gr.Error: that would cover the panel with an overlay
            problem = say(exc) if isinstance(exc, AssistantError) else GENERIC
            if not isinstance(exc, AssistantError):
                log.exception("indexing an upload failed")
            self.notify.warning(f"The upload was not indexed: {problem}")
            return (
                gr.skip(),
                gr.skip(),
                gr.update(value=render.source_error(f"Not indexed: {problem}"), visible=True),
                None,
            )
        for note in result.notes:
            self.notify.info(note, seconds=8)
        for r in result.refused:
            self.notify.warning(f"{r.path} was not added: {r.reason}")
        if result.ingest.changed:
            self.notify.info(f"Indexed: {result.ingest.summary()}. You can ask about it now.")
        refused = [(r.path, r.reason) for r in result.refused]
        table, choices = self.listing()
        return table, choices, gr.update(value=render.ingest_result(result.ingest, refused), visible=True), None

    def add_url(self, url: str | None) -> tuple[str | Update, Update, Update, str | Update]:
        """(table, removal menu, result panel, the box emptied or kept): the page, or the feed's pages, at `url`."""
        url = (url or "").strip()
        if not url:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if not url.lower().startswith(("http://", "https://")):
            self.notify.warning("Give the page's full address, starting with https:// (or http://).")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            report = self.bot.ingest([url])
        except Exception as exc:
            problem = say(exc) if isinstance(exc, AssistantError) else GENERIC
            if not isinstance(exc, AssistantError):
                log.exception("adding %s failed", url)
            self.notify.warning(f"The page was not added: {problem}")
            return (
                gr.skip(),
                gr.skip(),
                gr.update(value=render.source_error(f"Not added: {problem}"), visible=True),
                url,
            )
        for r in report.rejected:
            self.notify.warning(f"{r.path} was not added: {r.reason}")
        if report.changed:
            self.notify.info(f"Indexed: {report.summary()}. You can ask about it now.")
        refused = [(r.path, r.reason) for r in report.rejected]
        table, choices = self.listing()
        panel = gr.update(value=render.ingest_result(report, refused), visible=True)
        return table, choices, panel, "" if report.changed and not refused else url

    def remove(self, ids: list[str] | None) -> tuple[str | Update, Update]:
        if not ids:
            self.notify.warning("Choose the articles to remove first.")
            return gr.skip(), gr.skip()
        try:
            report = self.bot.remove(ids)
        except AssistantError as exc:
            self.notify.warning(say(exc))
            return gr.skip(), gr.skip()
        folder = self.bot.info().articles_dir
        self.notify.info(f"Removed {report.removed} article(s) from the index; their files stay in {folder}.")
        return self.listing()

    # ---- scope: the article (or all) the next question is about
    def pick_scope(self, chosen: str | None) -> tuple[str, str]:
        """The scope line, and the source pane opens the chosen article (or goes back to its hint)."""
        infos = self.bot.articles()
        titles = {a.id: a.title for a in infos}
        if not chosen or chosen == ALL or chosen not in titles:
            return render.scope_line(None, len(infos)), render.SOURCE_EMPTY
        line = render.scope_line(titles[chosen], len(infos))
        try:
            return line, render.source_view(self.bot.article(chosen), None)
        except AssistantError as exc:
            return line, render.source_error(say(exc))

    def scope_options(self, known: list[str] | None = None, chosen: str | None = None) -> tuple[Update, list[str]]:
        """After the article list changed: a newly uploaded article becomes the scope; a removed one ends it."""
        infos = self.bot.articles()
        ids = [a.id for a in infos]
        new = [i for i in ids if known is not None and i not in known]
        value = new[0] if len(new) == 1 else chosen if chosen in ids else ALL
        return gr.update(choices=scope_choices(infos), value=value), ids

    def first_scope(self) -> tuple[Update, list[str]]:
        """On page load: all articles, and the ids the page starts from."""
        return self.scope_options(None, ALL)

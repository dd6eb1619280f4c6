"""The chat's handlers: a question checked, its answer streamed, a cited sentence shown in its article.

Plain methods over the `Assistant` facade, wired to components by `app.build_app`; each returns the
values of its outputs (Gradio's `gr.skip()` for one left as it is), so tests call them without a browser.
A conversation is the page's state, kept on the server: a list of turns `{"question", "answer": Answer,
"about"}`. What goes to the browser each turn is only that turn (its question and answer, streamed) and,
when its panel is open, the trace: the page adds the turn to the chat it shows (`render.LIVE_MERGE`), so a
turn's response does not grow with the conversation (Gradio sends an output's whole value at least once
per event).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TypeAlias, TypedDict

import gradio as gr

from assistant.assistant import Assistant
from assistant.errors import AssistantError
from assistant.records import Answer
from assistant.web import render
from assistant.web.notify import GENERIC, Notify, say

log = logging.getLogger(__name__)

ALL = "__all__"  # the scope menu's value for "All articles"
# what `gr.update(...)` and `gr.skip()` make: a component's new properties (Gradio's type: dict[str, Any]), returned
# by a handler in place of a component's value
Update: TypeAlias = dict[str, object]
BUSY: Update = gr.update(value="", interactive=False)  # the question box while its answer comes
BUSY_BUTTON: Update = gr.update(interactive=False)


class Turn(TypedDict):
    """One exchange of a conversation, as the page's state holds it."""

    question: str
    answer: Answer
    about: str | None  # the title of the one article it was asked about


def history(turns: list[Turn]) -> list[tuple[str, str]]:
    return [(t["question"], t["answer"].text) for t in turns]


def chat_messages(turns: list[Turn]) -> list[dict[str, str]]:
    out = []
    for t in turns:
        out += [
            {"role": "user", "content": render.user_message(t["question"], t.get("about"))},
            {"role": "assistant", "content": render.answer_message(t["answer"])},
        ]
    return out


class ChatHandlers:
    def __init__(self, bot: Assistant, notify: Notify):
        self.bot, self.notify = bot, notify

    def title(self, article_id: str | None) -> str:
        return next((a.title for a in self.bot.articles() if a.id == article_id), article_id or "")

    def take_question(self, question: str) -> tuple[Update, str, Update]:
        """Step 1, instant: check the question, clear the box, and hold the box and the Ask button until the
        answer is in (`ready`): one turn at a time, so each turn's messages are joined to the chat in order.
        A gr.Error here only shows a toast."""
        try:
            return BUSY, self.bot.check_question(question), BUSY_BUTTON
        except AssistantError as exc:
            raise gr.Error(say(exc)) from None

    def picked_example(self, evt: gr.SelectData) -> tuple[Update, str, Update]:
        example: dict[str, str] = evt.value  # the example's {"text": ...} as `build_app` gave it
        return BUSY, example["text"], BUSY_BUTTON

    def ready(self) -> tuple[Update, Update]:
        """Step 4: the box and the Ask button take the next question."""
        return gr.update(interactive=True), gr.update(interactive=True)

    def respond(
        self, question: str, turns: list[Turn], chosen: str | None = None
    ) -> Iterator[tuple[list[dict[str, str]], list[Turn] | Update]]:
        """Step 2: stream the answer into (this turn's messages, turns); its trace follows (`trace`). Failures
        become a message in the chat and a warning, never a gr.Error, which would cover the whole conversation
        with an error overlay."""
        turns = list(turns or [])
        article_ids = [chosen] if chosen and chosen != ALL else None
        about = self.title(chosen) if article_ids else None
        shown = [{"role": "user", "content": render.user_message(question, about)}]
        text, final = "", None
        yield shown + [{"role": "assistant", "content": render.partial_answer("")}], gr.skip()
        try:
            for event in self.bot.stream(question, history=history(turns), article_ids=article_ids):
                if isinstance(event, Answer):
                    final = event
                    break
                text += event
                yield shown + [{"role": "assistant", "content": render.partial_answer(text)}], gr.skip()
        except AssistantError as exc:
            problem = say(exc)
        except Exception:
            log.exception("answering failed")
            problem = GENERIC
        else:
            problem = GENERIC  # used only if no answer came, which cannot happen: every stream ends with one
        if final is not None:
            turns.append({"question": question, "answer": final, "about": about})
            yield chat_messages(turns[-1:]), turns
            return
        self.notify.warning(problem)
        yield shown + [{"role": "assistant", "content": render.error_message(problem)}], gr.skip()

    def trace(self, turns: list[Turn] | None, trace_open: bool) -> str | Update:
        """Step 3: the last answer's trace, sent only while its panel is open (else rendered on opening)."""
        return self.show_trace(turns)[1] if trace_open else gr.skip()

    def chat_api(self, message: str) -> Iterator[str]:
        """Answer one question about the indexed articles: the text with markers [n], then 'Sources:'."""
        try:
            text = ""
            for event in self.bot.stream(message):
                if isinstance(event, Answer):
                    yield render.api_text(event)
                    return
                text += event
                yield text
        except AssistantError as exc:
            raise gr.Error(say(exc)) from None
        except Exception:
            log.exception("answering failed (/chat)")
            raise gr.Error(GENERIC) from None

    def show_source(self, target: Sequence[object]) -> str:
        """The source pane for a clicked citation: [article id, sentence index] (from the page's script)."""
        try:
            index = target[1]
            if not isinstance(index, int | float | str):
                raise TypeError(f"a sentence index, not {type(index).__name__}")
            article_id, index = str(target[0]), int(index)
            return render.source_view(self.bot.article(article_id), index)
        except AssistantError as exc:
            return render.source_error(say(exc))
        except Exception:
            log.exception("showing a source failed")
            return render.source_error(GENERIC)

    def show_trace(self, turns: list[Turn] | None) -> tuple[bool, str]:
        """The trace panel opened: (open, the last answer's trace)."""
        return True, render.trace_view(turns[-1]["answer"].trace.to_dict() if turns else {})

    def hide_trace(self) -> bool:
        return False

    def clear(self) -> tuple[list[Turn], str, str]:
        """The chat's clear button: no turns, an empty trace, the source pane's hint."""
        return [], render.trace_view({}), render.SOURCE_EMPTY

"""How the web handlers speak to a person besides their outputs: toasts, and the wording of errors.

The handlers take a `Notify`; the app passes `Toasts` (Gradio's gr.Info / gr.Warning), tests pass a
recorder, so every handler runs and is checked without a browser.
"""

from __future__ import annotations

from typing import Protocol

import gradio as gr

from assistant.errors import AssistantError

GENERIC = "Something went wrong on the server; try again, and if it keeps happening see the server log."


class Notify(Protocol):
    def info(self, message: str, seconds: float = 5) -> None: ...

    def warning(self, message: str) -> None: ...


class Toasts:
    """Gradio's toasts (shown in the page of the event being handled)."""

    def info(self, message: str, seconds: float = 5) -> None:
        gr.Info(message, duration=seconds)

    def warning(self, message: str) -> None:
        gr.Warning(message)


def say(exc: AssistantError) -> str:
    """Our error's message as a sentence; foreign exceptions are never shown (they get `GENERIC`)."""
    text = str(exc)
    return text[:1].upper() + text[1:]

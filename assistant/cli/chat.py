"""`assistant chat`: a conversation in the terminal; follow-up questions use the history."""

from __future__ import annotations

import sys

from assistant.errors import AssistantError
from assistant.records import Answer


def chat(bot, read=input, write=print) -> None:
    write(f"Article Assistant ({bot.answerer.backend}); {len(bot.articles())} articles. "
          "Ask a question; an empty line or Ctrl-D ends.")
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = read("you> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            final = None
            for event in bot.stream(question, history=history):
                if isinstance(event, Answer):
                    final = event
                else:
                    sys.stdout.write(event)
                    sys.stdout.flush()
            sys.stdout.write("\n")
        except AssistantError as exc:
            write(f"error: {exc}")
            continue
        for n, c in enumerate(final.citations, 1):
            write(f"  [{n}] {c.title}, sentence {c.sentence_index + 1}: {c.text}")
        history.append((question, final.text))

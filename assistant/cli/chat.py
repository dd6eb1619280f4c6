"""`assistant chat`: a conversation in the terminal; follow-up questions use the history."""

from __future__ import annotations

import sys

from assistant.errors import AssistantError
from assistant.records import Answer


def chat(bot, read=input, write=print, article_ids: list[str] | None = None) -> None:
    infos = bot.articles()
    article_ids = bot.check_scope(article_ids)  # an unknown id fails now, not at the first question
    if article_ids:
        known = {a.id: a.title for a in infos}
        about = "about " + "; ".join(f'"{known[a]}" ({a})' for a in article_ids)
    else:
        about = f"about all {len(infos)} articles"
    write(f"Article Assistant ({bot.answerer.backend}); asking {about}. "
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
            for event in bot.stream(question, history=history, article_ids=article_ids):
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

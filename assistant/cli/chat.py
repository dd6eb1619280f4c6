"""`assistant chat`: a conversation in the terminal; follow-up questions use the history.

What a person reads last for each question is the checked answer: its text with markers `[n]`,
then the citations numbered as in that text. On a terminal the answer streams as it is checked,
sentence by sentence (`Assistant.stream` yields only checked text); when the final decision changes
it (e.g. a refusal after all), the final answer follows, marked as the one that counts. Piped
output gets only the final answer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from assistant.errors import AssistantError
from assistant.records import Answer

if TYPE_CHECKING:
    from assistant.assistant import Assistant


def chat(
    bot: Assistant, read: Callable[[str], str] = input, out: TextIO | None = None, article_ids: list[str] | None = None
) -> None:
    out = out or sys.stdout
    live = out.isatty()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    infos = bot.articles()
    article_ids = bot.check_scope(article_ids)  # an unknown id fails now, not at the first question
    if article_ids:
        known = {a.id: a.title for a in infos}
        about = "about " + "; ".join(f'"{known[a]}" ({a})' for a in article_ids)
    else:
        about = f"about all {len(infos)} articles"
    say(f"Article Assistant ({bot.info().backend}); asking {about}. Ask a question; an empty line or Ctrl-D ends.")
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = read("you> ").strip()
        except EOFError:
            break
        except UnicodeDecodeError:
            say("error: that line was not valid UTF-8 text; check the terminal's encoding (e.g. LANG=C.UTF-8)")
            continue
        if not question:
            break
        draft, final = "", None
        try:
            for event in bot.stream(question, history=history, article_ids=article_ids):
                if isinstance(event, Answer):
                    final = event
                elif live:
                    draft += event
                    out.write(event)
                    out.flush()
        except AssistantError as exc:
            if draft:
                say()
                say("(the answer above was cut short: do not rely on it)")
            say(f"error: {exc}")
            continue
        if draft:
            say()
        if final is None:  # cannot happen: every stream ends with its Answer
            say("error: no answer came back; try again")
            continue
        if draft.strip() != final.text.strip():
            if draft:
                say("checked answer (this one counts):")
            say(final.text)
        for line in citation_lines(final):
            say(line)
        history.append((question, final.text))


def citation_lines(ans: Answer) -> list[str]:
    return [f"  [{n}] {c.title}, sentence {c.sentence_index + 1}: {c.text}" for n, c in enumerate(ans.citations, 1)]

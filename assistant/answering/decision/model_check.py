"""The model check: the chat model asked, after the word rules let an answer through, whether the sentences it rests
on say that the answer to the question is what it read ("yes" or "no", one token). Its yes-probability (the first
token's log-probabilities: P(yes) / (P(yes) + P(no))) below `Thresholds.model_check_bar` refuses.

The question is the one retrieval read (a follow-up rewritten by the model, or a question asked on its own; a
follow-up read with the conversation is not checked: on CoQA's fit half, checked without the conversation, the
model said no to right answers), the sentences those of the first kept claim, the answer the claims that stand.
A server that gives no log-probabilities (an OpenAI-compatible one need not) is read by its reply: "yes" is 1, "no"
is 0. Any failure of the check (timeout, a reply that is neither yes nor no) leaves the decision as the word rules
made it: the check can only refuse. With the local model it is asked of a server of its own
(`llm.local.llama_server.check_server`): log-probabilities need llama.cpp's `logits_all`, and the answer server
keeps the article text of the last question in its cache. Measured on the public sets' halves:
docs/evaluation.md, "The model check".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import replace

from assistant.answering.decision.decide import Decided
from assistant.errors import AssistantError
from assistant.llm.chat_model import ChatClient, ConnectedChat
from assistant.llm.prompts import Prompt
from assistant.records import Query, ScoredSentence

log = logging.getLogger(__name__)
CHECK_MAX_TOKENS = 2  # "yes" or "no"
CHECK_ALTERNATIVES = 20  # the first token's most likely alternatives asked for: "yes" and "no" are among them


def yes_probability(alternatives: Iterable[tuple[str, float]]) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first token's alternatives ("Yes", " yes", "YES" all count); None when
    neither is among them."""
    yes = no = 0.0
    for token, logprob in alternatives:
        word = token.strip().lower()
        if word in ("yes", "no"):
            p = math.exp(logprob)
            yes, no = (yes + p, no) if word == "yes" else (yes, no + p)
    return yes / (yes + no) if yes + no > 0 else None


def reply_word(reply: str) -> str:
    """The reply's first word, lower-cased, without quotes or punctuation around it."""
    reply = reply.strip().lower()
    return reply.lstrip("\"'*` ").split(maxsplit=1)[0].strip(".,!:;\"'*`") if reply else ""


class ModelCheck:
    def __init__(self, chat: ChatClient, prompts: tuple[Prompt, Prompt], bar: float):
        self.chat = chat  # a non-streaming chat model writing at most CHECK_MAX_TOKENS tokens
        self.system, self.user = prompts
        self.bar = bar  # a yes-probability below this refuses (`Thresholds.model_check_bar`)

    def warm_up(self) -> None:
        """Start the check's server now (a server of our own: `ConnectedChat`), so the first check does not wait
        for it; a failure is logged, and the first check says it (no verdict)."""
        if isinstance(self.chat, ConnectedChat):
            try:
                self.chat.connected()
            except AssistantError as exc:
                log.warning("the model check's server could not be started: %s", exc)

    def yes(self, question: str, sentence: str, answer: str) -> float | None:
        """The model's yes-probability; None when it could not say (the word rules' decision stands)."""
        messages = [
            ("system", self.system.render()),
            ("user", self.user.render(sentence=sentence, question=question, answer=answer)),
        ]
        try:
            scored = self.chat.scored(messages, CHECK_ALTERNATIVES)
        except Exception as exc:  # the check only ever refuses: a failed check is no check
            log.warning("the model check failed (%s); the word rules' decision stands", exc)
            return None
        p = yes_probability(scored.alternatives)
        if p is not None:
            return p
        word = reply_word(scored.text)
        return 1.0 if word == "yes" else 0.0 if word == "no" else None

    def review(self, decided: Decided, query: Query, shown: list[ScoredSentence]) -> tuple[Decided, str]:
        """The decision after the check, and what the check said (for the trace)."""
        if not decided.answered or not decided.kept:
            return decided, ""
        first = decided.kept[0]
        sentence = " ".join(shown[i].sentence.text for i in first.sentences)
        answer = " ".join(c.text for c in decided.kept)
        p = self.yes(query.standalone, sentence, answer)
        if p is None:
            return decided, "no verdict"
        said = f"yes-probability {p:.2f} (bar {self.bar:g})"
        if p >= self.bar:
            return decided, said
        refused = replace(
            decided,
            answered=False,
            rule="the model check says no",
            reason=(
                f"asked whether its sentence says that the answer is {answer!r}, the model said yes with "
                f"probability {p:.2f}, under the bar of {self.bar:g}"
            ),
            kept=(),
        )
        return refused, said

"""The model check: the chat model asked, after the word rules let an answer through, whether the sentence it rests
on says that the answer to the question is what it read ("yes" or "no", one token). A "no" refuses.

The question is the one retrieval read (a follow-up rewritten by the model, or a question asked on its own; a
follow-up read with the conversation is not checked: on CoQA's fit half, checked without the conversation, the
model said no to right answers), the sentence the text of the first kept claim's cited sentences, the answer the
claims that stand. Any failure of the check (timeout, a reply that is neither yes nor no) leaves the decision as
the word rules made it: the check can only refuse. Measured on the fit half of the public sets with the
yes-probability (`evaluation.model_check`): docs/evaluation.md, "The model check".
"""

from __future__ import annotations

import logging
from dataclasses import replace

from assistant.answering.decision.decide import Decided
from assistant.llm.chat_model import ChatClient
from assistant.llm.prompts import Prompt
from assistant.records import Query, ScoredSentence

log = logging.getLogger(__name__)
CHECK_MAX_TOKENS = 2  # "yes" or "no"


class ModelCheck:
    def __init__(self, chat: ChatClient, prompts: tuple[Prompt, Prompt]):
        self.chat = chat  # a non-streaming chat model writing at most CHECK_MAX_TOKENS tokens
        self.system, self.user = prompts

    def says(self, question: str, sentence: str, answer: str) -> bool | None:
        """True for yes, False for no; None when the model could not say (the word rules' decision stands)."""
        messages = [
            ("system", self.system.render()),
            ("user", self.user.render(sentence=sentence, question=question, answer=answer)),
        ]
        try:
            reply = self.chat.invoke(messages).strip().lower()
        except Exception as exc:  # the check only ever refuses: a failed check is no check
            log.warning("the model check failed (%s); the word rules' decision stands", exc)
            return None
        word = reply.lstrip("\"'*` ").split(maxsplit=1)[0].strip(".,!:;\"'*`") if reply else ""
        return True if word == "yes" else False if word == "no" else None

    def review(self, decided: Decided, query: Query, shown: list[ScoredSentence]) -> tuple[Decided, str]:
        """The decision after the check, and what the check said (for the trace)."""
        if not decided.answered or not decided.kept:
            return decided, ""
        first = decided.kept[0]
        sentence = " ".join(shown[i].sentence.text for i in first.sentences)
        answer = " ".join(c.text for c in decided.kept)
        verdict = self.says(query.standalone, sentence, answer)
        said = {True: "yes", False: "no", None: "no verdict"}[verdict]
        if verdict is not False:
            return decided, said
        refused = replace(
            decided,
            answered=False,
            rule="the model check says no",
            reason=f"asked whether its sentence says that the answer is {answer!r}, the model said no",
            kept=(),
        )
        return refused, said

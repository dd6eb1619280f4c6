"""The plain recipe (`assistant eval --plain`): the same chat model asked plainly, with no attribution, no
decision and no citations; its text taken as it is. The floor our pipeline must not read worse than.

Messages: the system message of `prompts/plain_system.txt` ("Answer the question using only the text. ...
NOT_IN_TEXT"); the text as its own user turn; the earlier turns of the conversation as user / assistant
turns; the question as the last user turn. The text is what our reader was shown for the same question
(the answer's trace: `Trace.shown`, written as the reader's plain text), or with `--oracle` the gold
documents' text (SQuAD v2: the gold paragraph, its document unit; the whole article would not fit the local
model's 4,096-token window).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TypedDict

from assistant.answering.build import ANSWER_MAX_TOKENS, chat_client
from assistant.answering.reading import text as reading_text
from assistant.assistant import Assistant
from assistant.errors import AssistantError, InputError
from assistant.evaluation.rows import DocRow, EvalRow
from assistant.evaluation.split import gold_doc_ids
from assistant.llm.chat_model import stream_text
from assistant.llm.prompts import Prompts
from assistant.records import Answer, ScoredSentence, Sentence, SentenceHit

RECIPE = (
    "the same chat model, system message 'Answer the question using only the text. Reply with the answer only, "
    "in a few words. If the text does not say, reply exactly: NOT_IN_TEXT' (prompts/plain_system.txt), the text "
    "as its own user turn, the earlier turns as user/assistant turns, the question as the last user turn; "
    "its text taken as it is: no attribution, no decision, no citations"
)
TEXT_SHOWN = "what our reader was shown for the question, as plain text"
TEXT_GOLD = "the gold documents' text (SQuAD v2: the gold paragraph)"

Documents = dict[str, DocRow]  # a set's documents by id


class PlainReply(TypedDict):
    raw: str
    answered: bool
    failure: str | None
    messages: list[tuple[str, str]]
    seconds: float


class PlainAsker:
    """Asks the Assistant's chat model plainly; an InputError when it answers offline (no chat model)."""

    def __init__(self, bot: Assistant):
        chat = chat_client(bot.settings, bot.choice, ANSWER_MAX_TOKENS)
        if chat is None:
            raise InputError(
                "--plain compares a chat model with itself asked plainly, and the answerer here is the offline "
                f"extractive one ({bot.choice.reason}); add --answerer local (or openai)"
            )
        self.chat = chat.connect  # the streaming client and where it is (the local server may move)
        self.system = Prompts(bot.settings.prompts_dir).load("plain_system").render().strip()

    def messages(self, text: str, question: str, history: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
        turns = [(role, said) for q, a in history for role, said in (("user", q), ("assistant", a))]
        return [("system", self.system), ("user", text), *turns, ("user", question)]

    def ask(self, text: str, question: str, history: Sequence[Sequence[str]]) -> PlainReply:
        """The model's reply: `raw` as written, `answered` unless it said NOT_IN_TEXT (or the like), wrote
        nothing or failed (`failure`)."""
        messages = self.messages(text, question, history)
        started, raw, failure = time.perf_counter(), "", None
        if text.strip():
            try:
                chat, where = self.chat()
                raw = "".join(stream_text(chat, messages, where))
            except AssistantError as exc:
                failure = str(exc)
        cleaned = reading_text.clean(raw)
        answered = failure is None and bool(cleaned) and not reading_text.is_refusal(cleaned)
        return {
            "raw": raw,
            "answered": answered,
            "failure": failure,
            "messages": messages,
            "seconds": time.perf_counter() - started,
        }


def shown_text(ans: Answer, documents: Documents) -> str:
    """What the reader was shown for this answer (the ranked sentences when it was shown none), written as the
    reader reads it (`answering/reading/text.plain`)."""
    hits: list[SentenceHit] = ans.trace.shown or ans.trace.sentences
    return reading_text.plain([_scored(h, _title(documents.get(h.article_id))) for h in hits])


def _title(doc: DocRow | None) -> str:
    return "" if doc is None else doc.get("title", "")


def _scored(hit: SentenceHit, title: str) -> ScoredSentence:
    sentence = Sentence(hit.article_id, hit.sentence_index, 0, len(hit.text), hit.text)
    return ScoredSentence(sentence, title, hit.score, hit.similarity, hit.coverage)


def gold_text(row: EvalRow, documents: Documents) -> str:
    """The gold documents, each "Article: <title>" then its text; a question that names its paragraph
    (SQuAD v2) gets that paragraph only."""
    ids = gold_doc_ids(row)
    missing = [i for i in ids if i not in documents]
    if missing:
        raise InputError(f"question {row['id']}: gold document {missing[0]!r} is not among the dataset's documents")
    parts = []
    for doc_id in ids:
        doc = documents[doc_id]
        body = str(doc["text"])
        if row.get("paragraph_index") is not None and len(ids) == 1:
            body = body.split("\n\n")[int(row["paragraph_index"])]
        parts.append(f"Article: {doc.get('title') or doc_id}\n{body.strip()}")
    return "\n\n".join(parts)

"""Typed records passed between the pipeline stages.

Each answering step returns its record (`QuestionStep`, `Retrieval`, `Reading`, `Attribution`, `Decision`,
`SummaryStep`); `AnswerFlow.stream` builds the frozen `Trace` from them once, when the answer is decided, with
its `Timings` (milliseconds per step). Nothing sets a field of a trace after it is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import NamedTuple, TypeAlias, TypedDict, TypeVar

import numpy as np

# JSON as our records write it: what `to_dict()`, a trace's or an evaluation's rows and the web's payloads hand to
# `json.dumps`. Read-only containers (Mapping, Sequence), so a record's `list[str]` or `dict[str, float]` is a
# JSONValue as it is. JSON read back (`json.loads`) is `object` until narrowed where it is used.
JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | Sequence["JSONValue"] | Mapping[str, "JSONValue"]
JSONObject: TypeAlias = Mapping[str, JSONValue]


@dataclass(frozen=True)
class Article:
    """One article, its text normalised once; every offset refers to `text`."""

    id: str
    title: str
    text: str
    source: str  # the file it came from, or the page's address
    url: str = ""  # the page's canonical address
    published: str = ""  # ISO 8601 date or datetime, as the page or record states it
    site: str = ""
    author: str = ""


class Sentence(NamedTuple):
    """One sentence of an article, `text == article.text[start:end]`. A named tuple, not a dataclass: an
    ingest makes one per sentence (400,000 for 1 MB of two-letter lines), at a third of the cost."""

    article_id: str
    index: int  # type: ignore[assignment]  # 0-based position in the article; shadows tuple.index, unused
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A window of consecutive sentences; the unit that is embedded and retrieved."""

    article_id: str
    index: int
    first_sentence: int
    last_sentence: int  # inclusive
    text: str


@dataclass(frozen=True)
class Rejection:
    path: str
    reason: str


class RejectionJSON(TypedDict):
    path: str
    reason: str


class IngestJSON(TypedDict):
    """`IngestReport.as_dict()`: what `assistant ingest --json` and the MCP tool `add_article_by_url` write."""

    added: int
    updated: int
    unchanged: int
    removed: int
    rejected: list[RejectionJSON]
    sentences_embedded: int
    seconds: float


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    sentences_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.rejected)} rejected"
        )
        return text

    def as_dict(self) -> IngestJSON:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": [{"path": r.path, "reason": r.reason} for r in self.rejected],
            "sentences_embedded": self.sentences_embedded,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Upload:
    """A file a front end received: where it is now (e.g. Gradio's temporary copy) and the name the person gave."""

    path: str
    name: str


@dataclass(frozen=True)
class UploadReport:
    """What became of uploaded files: the ingest of those that were saved, and every file refused (before
    saving, or by the indexer) with its reason, under the name the person knows it by."""

    ingest: IngestReport
    refused: tuple[Rejection, ...] = ()  # Rejection.path is the file's (safe) name, not a path on the server
    notes: tuple[str, ...] = ()  # e.g. that an upload was saved under another name


@dataclass(frozen=True)
class AssistantInfo:
    """What answers and why, and where things are: what the front ends show (web sidebar, `assistant chat`)."""

    answerer: str  # local | openai | extractive
    backend: str  # said to people, e.g. "offline extractive"
    reason: str  # why this answerer was chosen
    embedding_model: str
    index: str  # the index folder, or the Chroma server's URL
    articles_dir: str  # where uploads are saved and what `rebuild` reads by default


@dataclass(frozen=True)
class StoredArticle:
    """An article as the index holds it (`Assistant.article`): its text, title, where it came from and its sentences
    with their offsets, for showing a cited sentence in place."""

    id: str
    title: str
    text: str
    source: str
    url: str | None
    published: str | None
    site: str | None
    sentences: tuple[Sentence, ...]

    def to_dict(self) -> dict[str, object]:
        """For JSON: the fields, each sentence as {index, start, end, text}."""
        return {
            **{k: getattr(self, k) for k in ("id", "title", "text", "source", "url", "published", "site")},
            "sentences": [{"index": s.index, "start": s.start, "end": s.end, "text": s.text} for s in self.sentences],
        }


@dataclass(frozen=True)
class IndexHealth:
    """Whether a write was interrupted, and how many records no current article points to (readers ignore them; the
    next write sweeps them away): `Store.health`."""

    interrupted_write: bool
    orphan_chunks: int
    orphan_sentences: int

    @property
    def needs_sweep(self) -> bool:
        return self.interrupted_write or self.orphan_chunks > 0 or self.orphan_sentences > 0

    def to_dict(self) -> dict[str, object]:
        return {
            "interrupted_write": self.interrupted_write,
            "orphan_records": {"chunks": self.orphan_chunks, "sentences": self.orphan_sentences},
            "needs_sweep": self.needs_sweep,
        }


@dataclass(frozen=True)
class Status:
    """What `assistant status` shows (`Assistant.status`): the effective settings (secrets masked), what answers
    and why, the decision's numbers, the embedder, the index's place, counts and health."""

    settings: dict[str, object]
    answerer: str
    answerer_reason: str
    backend: str
    condense: str  # model | conversation | named
    model_check: bool  # a model's answer is also weighed by the model's yes-probability (ASSISTANT_MODEL_CHECK)
    read_again: bool  # a model's answer is refused when the reader, asked again, does not say it (ASSISTANT_READ_AGAIN)
    thresholds: dict[str, float | int | bool]
    embedding_model: str
    embedding_dim: int
    index: str
    articles: int
    chunks: int
    sentences: int
    health: IndexHealth

    def to_dict(self) -> dict[str, object]:
        """For JSON, as `assistant status --json` writes it."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}  # in the order they are declared
        return {**out, "health": self.health.to_dict()}


@dataclass(frozen=True)
class ArticleInfo:
    """What the index knows about a stored article."""

    id: str
    title: str
    source: str
    content_hash: str
    sentences: int
    chunks: int
    url: str | None = None
    published: str | None = None
    site: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class ArticleRecord:
    """A row of the store's articles collection (`Store.article_records`): its metadata, typed, and its text
    when it was asked for."""

    info: ArticleInfo
    text: str | None = None


@dataclass(frozen=True)
class SentenceRecord:
    """A row of the store's sentences collection (`Store.sentences_by_index`, `sentences_of`): the sentence and,
    when asked for, its stored vector."""

    sentence: Sentence
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the scores that made it."""

    chunk_id: str
    article_id: str
    title: str
    first_sentence: int
    last_sentence: int
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence with the evidence that it answers the question.

    `similarity`/`coverage` compare it with the question alone; the `context_` pair with the
    question plus the conversation so far (equal to the former when there is no history).
    """

    sentence: Sentence
    title: str
    score: float  # ranking score
    similarity: float  # cosine with the question
    coverage: float  # IDF-weighted share of the question's terms it contains
    context_similarity: float = 0.0
    context_coverage: float = 0.0
    missing_numbers: int = 0  # numbers in the question that it does not contain
    # its stored vector, as retrieval read it (attribution compares with it instead of embedding the text again)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Citation:
    article_id: str
    title: str
    sentence_index: int
    text: str
    start: int
    end: int
    url: str | None = None  # the article's page, when it came from one
    published: str | None = None  # ISO 8601 date or datetime; None when unknown


@dataclass(frozen=True)
class RankedSentence:
    """A sentence the retrieval step ranked for a query (`Assistant.search`): where it stands, as a citation
    would say it, and its ranking score (higher is better; comparable only within one search)."""

    citation: Citation
    score: float


MARKER = re.compile(r"\[(\d{1,4})\]")  # a citation marker in an answer's text: [n] is citations[n-1]
MARKER_WITH_SPACE = re.compile(r"\s*\[\d{1,4}\]")  # a marker and the space before it, to strip markers


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    answered: bool
    trace: Trace = field(default_factory=lambda: Trace(question=""))


Turn = tuple[str, str]  # (question, answer) of an earlier exchange


@dataclass(frozen=True)
class Query:
    question: str  # what the person asked
    standalone: str  # the question retrieval uses (condensed, or the question itself)
    context: str = ""  # earlier turns, for follow-ups answered without a model
    previous_answer: str = ""  # the last answer: a follow-up rarely wants the same sentence again


class Asks(StrEnum):
    """What a question asks for, when the decision step can check that an answer has it
    (`answering/question/kinds.py`)."""

    TIME = "a time"
    NUMBER = "a number"
    PERSON = "a person or organisation"
    PLACE = "a place"
    NAME = "a name"  # "What were the names of the people killed?": a proper name, not "11 drug-traffickers"


@dataclass(frozen=True)
class QuestionStep:
    """The question step: how the question was read before retrieval."""

    standalone: str  # the question retrieval uses
    context: str = ""  # earlier turns read with it (a follow-up answered without rewriting)
    follow_up: bool = False
    rewritten: bool = False  # a chat model rewrote it as a standalone question
    how: str = ""  # in words
    intent: str | None = None  # a whole-article question: "summary", "people" or "when"
    asks: Asks | None = None  # what it asks for, when the decision step can check it (computed once, here)


@dataclass(frozen=True)
class SourceRef:
    """Where a cited article came from, as the trace shows it: its page and date (None without one)."""

    article_id: str
    url: str | None
    published: str | None


@dataclass(frozen=True)
class PassageHit:
    """A retrieved passage, as the trace shows it."""

    article_id: str
    title: str
    sentences: tuple[int, int]  # first and last sentence index
    score: float
    dense: float | None
    bm25: float | None
    text: str


@dataclass(frozen=True)
class SentenceHit:
    """A ranked sentence, as the trace shows it."""

    article_id: str
    sentence_index: int
    score: float
    similarity: float
    coverage: float
    context_similarity: float
    context_coverage: float
    text: str
    missing_numbers: int = 0  # numbers the question names that it does not contain


@dataclass(frozen=True)
class QuerySignals:
    """What a sentence is compared with (`answering/retrieval/ranking.py`): the question's vectors and weighted
    terms."""

    vector: np.ndarray  # the question alone
    context_vector: np.ndarray  # the question read with the conversation (== vector without history)
    terms: dict[str, float]  # the question's terms and their IDF weights
    context_terms: dict[str, float]  # the conversation's other terms and their IDF weights
    previous_answer_words: frozenset[str] = frozenset()

    @property
    def numbers(self) -> frozenset[str]:
        return frozenset(t for t in self.terms if any(ch.isdigit() for ch in t))


@dataclass(frozen=True)
class Retrieval:
    """The retrieval step's record (`answering/retrieval/retriever.py`): the passages found, their sentences ranked,
    what the reader is shown, and the article records read once for all that follows."""

    query: Query
    passages: list[Passage]
    sentences: list[ScoredSentence]
    titles: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per part of the step
    signals: QuerySignals | None = None  # what the sentences were compared with
    sentence_hits: dict[tuple[str, int], float] = field(default_factory=dict)  # dense sentence channel
    context: list[ScoredSentence] = field(default_factory=list)  # what the reader is shown (`context.choose`)
    # the records of the articles found, read once (`Store.article_records`): citations take pages and dates here
    articles: dict[str, ArticleInfo] = field(default_factory=dict)

    def passage_hits(self, limit: int = 8) -> list[PassageHit]:
        return [
            PassageHit(
                p.article_id,
                p.title,
                (p.first_sentence, p.last_sentence),
                round(p.score, 4),
                _r(p.dense_score),
                _r(p.lexical_score),
                p.text,
            )
            for p in self.passages[:limit]
        ]

    def sentence_hits_for_trace(self, limit: int = 8) -> list[SentenceHit]:
        return [sentence_hit(s) for s in self.sentences[:limit]]

    def timings_ms(self) -> Timings:
        """The step's parts in milliseconds, as the trace's `Timings` (the other steps' fields empty)."""
        return Timings(**{k: round(v * 1000, 1) for k, v in self.timings.items()})


def sentence_hit(s: ScoredSentence) -> SentenceHit:
    """A ranked sentence as the trace shows it."""
    return SentenceHit(
        s.sentence.article_id,
        s.sentence.index,
        round(s.score, 4),
        round(s.similarity, 4),
        round(s.coverage, 4),
        round(s.context_similarity, 4),
        round(s.context_coverage, 4),
        s.sentence.text,
        s.missing_numbers,
    )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class Reading:
    """What a reader made of what it was shown. `answer` is empty when it refused or failed."""

    reader: str  # "model" or "extractive"
    answer: str
    refused: bool = False  # the reader said the articles do not say
    chosen: tuple[int, ...] = ()  # the extractive reader: the shown sentences it answered with
    prompt: str | None = None
    raw: str | None = None  # the model's text as it came
    failure: str | None = None  # why the model could not read (then the extractive reader stands in)
    seconds: float = 0.0


@dataclass(frozen=True)
class Claim:
    """One claim of an answer and the shown sentence(s) it rests on (`sentences`: positions in what was shown,
    `cited`: their (article id, sentence index))."""

    text: str
    sentences: tuple[int, ...]
    cited: tuple[tuple[str, int], ...]
    coverage: float  # share of the claim's new content terms found in those sentences
    missing: tuple[str, ...]  # names and numbers of the claim found neither there nor in the question
    new_terms: int  # content terms the claim adds to the question (0: a yes/no answer or a restatement)
    relevance: float  # how well those sentences address the question (confidence, best of them)
    fit: float  # cosine of "question + claim" with the sentence(s)
    how: str  # in words


@dataclass(frozen=True)
class Attribution:
    claims: tuple[Claim, ...]
    question_missing: tuple[str, ...] = ()  # names and numbers of the question the cited sentences' reach lacks
    counted: str = ""  # what a "how many X" question counts (X), when it asks one
    counted_similarity: float = 1.0  # how near a word of the cited sentences comes to it (1.0: it stands there)
    # names of the question that the sentences holding the answer itself do not reach, when a claim is stitched
    # from one sentence naming what the question asks about and another holding the answer (`attribute`)
    answer_apart: tuple[str, ...] = ()


@dataclass
class Decision:
    """Why the answer is what it is.

    `outcome`: "answered" or "refused". `rule`: the decision rule that refused, or "answered".
    `method`: how the text was made: "model" (the model's answer, attributed in code), "extractive" (the best
    sentences, verbatim), "extractive fallback" (the model failed), "summary ..." (a whole-article summary).
    `reason` says why in words.
    """

    outcome: str = "refused"
    method: str = "extractive"
    reason: str = ""
    rule: str = ""
    confidence: float | None = None
    threshold: float | None = None
    follow_up: bool = False


@dataclass(frozen=True)
class SummaryStep:
    """What the summary path did for a whole-article question (the Assistant puts it in the trace)."""

    answer: Answer
    decision: Decision
    sentences: list[SentenceHit]  # the sentences cited, in order
    notes: list[str] = field(default_factory=list)
    prompt: str | None = None
    reading: Reading | None = None
    attribution: Attribution | None = None
    sources: dict[str, SourceRef] = field(default_factory=dict)  # the pages and dates of the articles in scope


@dataclass(frozen=True)
class Timings:
    """How long each step of one answer took, in milliseconds (rounded to 0.1); None: the step did not run.

    The retrieval step's parts (`lexical_refresh` to `total`) come from `Retrieval.timings_ms()`; `total` is
    retrieval's whole step. `model_failed_after`: how long the model read before it failed (the extractive
    reader then answered). The trace writes the fields that ran as `timings_ms`: {name: milliseconds}.
    """

    question: float | None = None  # the question step (whole-article detection, condensing)
    lexical_refresh: float | None = None
    embed: float | None = None
    dense: float | None = None
    bm25: float | None = None
    rank: float | None = None
    context: float | None = None
    total: float | None = None
    model_failed_after: float | None = None
    read: float | None = None
    attribute: float | None = None
    check: float | None = None  # the chat model's yes/no on a model's answer
    again: float | None = None  # the reader asked again (`decision.agreement`)
    summary: float | None = None  # the summary path, in place of retrieval, reading and attribution

    def as_dict(self) -> dict[str, float]:
        """The steps that ran, in the order they ran: the trace's JSON form."""
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Trace:
    """What was done to answer one question: built once by `AnswerFlow.stream` from the steps' records when the
    answer is decided (one constructor call for the question path, one for the summary path); frozen after.

    `to_dict()` gives plain JSON for `ask --json`, the web chat's trace panel and `assistant eval`.
    """

    question: str
    answerer: str = ""  # "extractive", "openai" or "local"
    backend: str = ""  # in words: "offline extractive", "chat model gpt-4o-mini", ...
    standalone_question: str = ""
    context: str = ""  # earlier turns that retrieval read with the question (follow-ups)
    question_step: QuestionStep | None = None
    article_ids: list[str] = field(default_factory=list)  # the scope asked for ([] = all articles)
    passages: list[PassageHit] = field(default_factory=list)
    sentences: list[SentenceHit] = field(default_factory=list)
    shown: list[SentenceHit] = field(default_factory=list)  # what the reader read, in order
    prompt: str | None = None
    raw_model_output: str | None = None
    reading: Reading | None = None
    attribution: Attribution | None = None
    notes: list[str] = field(default_factory=list)  # what a person should know (e.g. a fallback)
    decision: Decision = field(default_factory=Decision)
    timings_ms: Timings = field(default_factory=Timings)  # written as {step: milliseconds}, the steps that ran
    latency_ms: float = 0.0
    answered: bool = False
    sources: list[SourceRef] = field(default_factory=list)  # the cited articles' pages and dates

    def to_dict(self) -> JSONObject:
        from dataclasses import asdict

        data: dict[str, JSONValue] = asdict(self)
        data["timings_ms"] = self.timings_ms.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Trace:
        """The trace back from `to_dict()`'s JSON, recorded traces too (unknown keys are ignored)."""
        return _build(cls, data)


Built = TypeVar("Built")


def _build(kind: type[Built], value: object) -> Built:
    """A `kind` (a dataclass) from its JSON form (`_value`); a TypeError when the JSON is not its shape."""
    built = _value(kind, value)
    if not isinstance(built, kind):
        raise TypeError(f"not the JSON form of a {kind.__name__}: {type(value).__name__}")
    return built


def _value(kind: object, value: object) -> object:
    """A value of the type `kind` (a class or a type form such as `list[str]`, `X | None`) from its JSON form:
    dataclasses by field, tuples and lists item by item."""
    import dataclasses
    import types
    import typing

    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _value(inner[0], value) if len(inner) == 1 else value
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and isinstance(value, dict):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: _value(hints[k], v) for k, v in value.items() if k in known})
    if origin is tuple or origin is list:
        if not isinstance(value, Iterable):
            raise TypeError(f"not the JSON form of a {kind}: {type(value).__name__}")
        if origin is list:
            return [_value(args[0], v) for v in value]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], v) for v in value)
        return tuple(_value(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value

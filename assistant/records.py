"""Typed records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


@dataclass(frozen=True)
class Article:
    """One article, its text normalised once; every offset refers to `text`."""

    id: str
    title: str
    text: str
    source: str  # the file it came from
    url: str = ""
    published: str = ""


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

    def as_dict(self) -> dict[str, Any]:
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
class ArticleInfo:
    """What the index knows about a stored article."""

    id: str
    title: str
    source: str
    content_hash: str
    sentences: int
    chunks: int


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


@dataclass(frozen=True)
class Citation:
    article_id: str
    title: str
    sentence_index: int
    text: str
    start: int
    end: int


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


@dataclass
class Decision:
    """Why the answer is what it is: every answerer fills it the same way.

    `outcome`: "answered" or "refused". `method`: how the final text was made: "extractive",
    "model" (the model's answer, its citations verified), "model, cited in code" (the model's words,
    supporting sentences picked by the code), "extractive fallback" (the model's answer could not
    stand), "summary" (a whole-article summary). `reason` says why in words.
    """

    outcome: str = "refused"
    method: str = "extractive"
    reason: str = ""
    confidence: float | None = None
    threshold: float | None = None
    follow_up: bool = False


@dataclass
class Trace:
    """What was done to answer one question. Filled by `Assistant.stream` and the answerer.

    `to_dict()` gives plain JSON for `ask --json`, the web chat's trace panel and `assistant eval`.
    """

    question: str
    answerer: str = ""  # "extractive", "openai" or "local"
    backend: str = ""  # in words: "offline extractive", "chat model gpt-4o-mini", ...
    standalone_question: str = ""
    context: str = ""  # earlier turns that retrieval read with the question (follow-ups)
    condense: dict[str, Any] = field(default_factory=dict)
    article_ids: list[str] = field(default_factory=list)  # the scope asked for ([] = all articles)
    passages: list[dict[str, Any]] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)
    prompt: str | None = None
    raw_model_output: str | None = None
    support: list[dict[str, Any]] = field(default_factory=list)  # verdict for each answer sentence
    quotes: list[dict[str, Any]] = field(default_factory=list)
    dropped_markers: list[int] = field(default_factory=list)
    fallback: str | None = None  # why the model's answer was replaced by the extractive one
    asked_again: dict[str, Any] = field(default_factory=dict)  # the second ask after a refusal (model path)
    notes: list[str] = field(default_factory=list)  # what a person should know (e.g. a fallback)
    decision: Decision = field(default_factory=Decision)
    timings_ms: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    answered: bool = False

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["decision"] = Decision(**(data.get("decision") or {}))
        return cls(**values)

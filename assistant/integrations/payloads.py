"""The answer, its citations, ranked sentences and articles as plain JSON values: one shape for `/answer`, the MCP
tools and the LangChain retriever's metadata."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from assistant.records import Answer, ArticleInfo, Citation, IngestJSON, IngestReport, RankedSentence


class CitationJSON(TypedDict):
    article_id: str
    title: str
    sentence_index: int
    text: str
    start: int
    end: int
    url: str | None
    published: str | None


class AnswerJSON(TypedDict):
    text: str
    answered: bool
    reason: str
    citations: list[CitationJSON]


class RankedJSON(TypedDict):
    """A citation's fields and the score. `text` is always written; the LangChain retriever takes it out (into the
    document's page content) and keeps the rest as the document's metadata."""

    article_id: str
    title: str
    sentence_index: int
    text: NotRequired[str]
    start: int
    end: int
    url: str | None
    published: str | None
    score: float


class ArticleJSON(TypedDict):
    article_id: str
    title: str
    sentences: int
    url: str | None
    published: str | None
    site: str | None
    author: str | None


class SentencesJSON(TypedDict):
    """The MCP tool `search_sentences`' result."""

    sentences: list[RankedJSON]


class ArticlesJSON(TypedDict):
    """The MCP tool `list_articles`' result."""

    articles: list[ArticleJSON]


def citation(c: Citation) -> CitationJSON:
    """article_id, title, sentence_index, text (verbatim), start, end (offsets in the article's text), url,
    published (None when unknown)."""
    return {
        "article_id": c.article_id,
        "title": c.title,
        "sentence_index": c.sentence_index,
        "text": c.text,
        "start": c.start,
        "end": c.end,
        "url": c.url,
        "published": c.published,
    }


def answer(ans: Answer) -> AnswerJSON:
    """text (markers [n] name citations[n-1]), answered, reason (why it answered or declined), citations."""
    return {
        "text": ans.text,
        "answered": ans.answered,
        "reason": ans.trace.decision.reason,
        "citations": [citation(c) for c in ans.citations],
    }


def ranked(found: RankedSentence) -> RankedJSON:
    """A ranked sentence: its citation fields and its score."""
    return {**citation(found.citation), "score": found.score}


def article(info: ArticleInfo) -> ArticleJSON:
    return {
        "article_id": info.id,
        "title": info.title,
        "sentences": info.sentences,
        "url": info.url,
        "published": info.published,
        "site": info.site,
        "author": info.author,
    }


def ingest(report: IngestReport) -> IngestJSON:
    return report.as_dict()

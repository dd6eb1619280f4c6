"""The answer, its citations, ranked sentences and articles as plain JSON values: one shape for `/answer`, the MCP
tools and the LangChain retriever's metadata."""

from __future__ import annotations

from typing import Any

from assistant.records import Answer, ArticleInfo, Citation, IngestReport, RankedSentence


def citation(c: Citation) -> dict[str, Any]:
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


def answer(ans: Answer) -> dict[str, Any]:
    """text (markers [n] name citations[n-1]), answered, reason (why it answered or declined), citations."""
    return {
        "text": ans.text,
        "answered": ans.answered,
        "reason": ans.trace.decision.reason,
        "citations": [citation(c) for c in ans.citations],
    }


def ranked(found: RankedSentence) -> dict[str, Any]:
    """A ranked sentence: its citation fields and its score."""
    return {**citation(found.citation), "score": found.score}


def article(info: ArticleInfo) -> dict[str, Any]:
    return {
        "article_id": info.id,
        "title": info.title,
        "sentences": info.sentences,
        "url": info.url,
        "published": info.published,
        "site": info.site,
        "author": info.author,
    }


def ingest(report: IngestReport) -> dict[str, Any]:
    return report.as_dict()

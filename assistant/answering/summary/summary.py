"""Whole-article answers: a cited summary, the main people and organisations, or the date context.

`ExtractiveSummarizer` (no model): the sentences that best cover each article in scope
(`key_sentences.central`), in article order, each cited verbatim. "Who is involved?" cites the
sentences that introduce the most-named people and organisations; "When did this happen?" cites the
sentences that name dates (and the stored `published` field), then the summary.
`model_summary.ModelSummarizer` writes the summary with a chat model and falls back to this one.

Which articles: the scope asked for; without one, the only article, or every article when the
question asks for them all ("summarize the articles"), or else the most recently added one (newest
source file), and the answer says which and how to pick another.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answering.attribution.citing import Numbering
from assistant.answering.base import pieces
from assistant.answering.question.intent import Intent
from assistant.answering.summary import key_sentences
from assistant.embeddings import Embedder
from assistant.errors import IndexEmptyError
from assistant.inputs import no_such_articles
from assistant.records import (
    Answer,
    ArticleInfo,
    ArticleRecord,
    Attribution,
    Claim,
    Decision,
    Reading,
    ScoredSentence,
    Sentence,
    SentenceHit,
    SourceRef,
    SummaryStep,
)
from assistant.store import Store

MAX_ARTICLES = 5  # articles summarised in one answer; more are named, not summarised
PER_ARTICLE = 2  # sentences per article when several are summarised
TOP_NAMES = 6


@dataclass(frozen=True)
class ArticleText:
    """An article in scope: its sentences in order, with their stored vectors."""

    id: str
    title: str
    published: str
    sentences: list[Sentence]
    vectors: np.ndarray
    url: str | None = None

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.sentences]


@dataclass(frozen=True)
class Scope:
    articles: list[ArticleText]
    note: str  # what a person should know about the choice ("" when it was theirs)
    rule: str  # the rule that chose them, for the trace


@dataclass(frozen=True)
class Plan:
    """What a whole-article answer says about one article, chosen in code: the lead-in written by the code (the names
    found, the date), and the sentences, most important first (`order`: the main event, then the rest in article
    order), which the extractive answer cites verbatim and a model only words."""

    article: ArticleText
    lead_in: str
    order: list[int]


SIZES = {"one": 1, "brief": 3}  # sentences of a summary asked "in one sentence" / "briefly" (at most)


class ExtractiveSummarizer:
    name = "summary"

    def __init__(self, store: Store, embedder: Embedder | None = None):
        self.store = store
        self.embedder = embedder  # embeds titles, so the sentence that says what the title says comes first
        self._newest: tuple[int, list[str], dict[str, str]] | None = None  # (generation, ids newest first, titles)

    def summarize(self, question: str, intent: Intent, scope: Sequence[str] | None) -> Iterator[str | SummaryStep]:
        chosen = self.store.snapshot(lambda: self.scope(scope, intent))  # no batch written meanwhile
        yield from self.answer(intent, chosen)

    def answer(self, intent: Intent, chosen: Scope) -> Iterator[str | SummaryStep]:
        """The extractive answer for articles already chosen: its text in pieces, then its record."""
        final = self.compose(intent, chosen)
        yield from pieces(final.answer.text)
        yield final

    # ---- which articles
    def scope(self, scope: Sequence[str] | None, intent: Intent) -> Scope:
        if scope:  # the person's choice: read just those records (no scan of the whole index)
            records = self.store.article_records(list(scope), with_text=False)
            if missing := [i for i in scope if i not in records]:
                raise no_such_articles(missing)
            ids = list(scope)[:MAX_ARTICLES]
            return Scope([self._load(i, records[i]) for i in ids], "", "the articles in scope")
        newest, titles = self._by_recency()
        if not newest:
            raise IndexEmptyError(
                "no articles are indexed yet: add some with `assistant ingest PATH` or "
                "`assistant rebuild`, or upload them in the web chat"
            )
        if len(newest) == 1:
            ids, note, rule = newest, "", "the only indexed article"
        elif intent.wants_all:
            ids, rule = newest, "every indexed article (the question asks for them all)"
            note = (
                ""
                if len(ids) <= MAX_ARTICLES
                else f"You have {len(ids)} articles indexed; these are the {MAX_ARTICLES} most recently added. "
            )
        else:
            ids, rule = newest[:1], "the most recently added article (no article was picked)"
            note = (
                f"You have {len(newest)} articles indexed and did not pick one, so this is about the most "
                f'recently added, "{titles[newest[0]]}". Pick another article to ask about it '
                "(the article menu in the web chat, --article ID in the terminal). "
            )
        records = self.store.article_records(ids[:MAX_ARTICLES], with_text=False)
        return Scope([self._load(i, records[i]) for i in ids[:MAX_ARTICLES] if i in records], note, rule)

    def _by_recency(self) -> tuple[list[str], dict[str, str]]:
        """Article ids, most recently added (newest source file) first; read again only when the index changed."""
        generation = self.store.state()["generation"]
        if self._newest is None or self._newest[0] != generation:
            infos = self.store.article_infos()
            ids = newest_first(infos)
            self._newest = (generation, ids, {i: infos[i].title for i in ids})
        return self._newest[1], self._newest[2]

    def _load(self, article_id: str, record: ArticleRecord) -> ArticleText:
        info = record.info
        digest, count = info.content_hash, info.sentences
        stored = self.store.sentences_by_index({article_id: (digest, range(count))}, with_vectors=True)
        vectors = np.asarray([s.vector for s in stored], dtype=np.float32).reshape(len(stored), -1)
        return ArticleText(
            article_id,
            info.title,
            info.published or "",
            [s.sentence for s in stored],
            vectors,
            info.url,
        )

    # ---- the answer
    def plan(self, intent: Intent, scope: Scope, at_most: int | None = None) -> list[Plan]:
        """For each article in scope, what to say: its lead-in and its sentences (`at_most` of them, when given),
        most important first."""
        several = len(scope.articles) > 1
        plans: list[Plan] = []
        for art in scope.articles:
            k = PER_ARTICLE if several else key_sentences.summary_size(len(art.sentences))
            k = min(k, SIZES.get(intent.size, k), at_most or k)
            plans.append(self._part(intent, art, k, several))
        return plans

    def compose(self, intent: Intent, scope: Scope) -> SummaryStep:
        parts = [(p.article, p.lead_in, sorted(p.order)) for p in self.plan(intent, scope)]  # in article order
        several = len(scope.articles) > 1
        shown = [ScoredSentence(art.sentences[i], art.title, 1.0, 0.0, 0.0) for art, _, ids in parts for i in ids]
        numbering = Numbering(shown)
        lines: list[str] = []
        position = 0
        for art, lead_in, indices in parts:
            claims = [_verbatim(shown, position + n) for n in range(len(indices))]
            position += len(indices)
            body = numbering.text(claims, verbatim=True) if claims else "(no sentences stored for this article)"
            lines.append(f"**{art.title}**: {lead_in}{body}" if several else f"{lead_in}{body}")
        text = "\n".join(lines)
        text = f"{scope.note}\n{text}" if scope.note and several else f"{scope.note}{text}"
        answer = Answer(text, numbering.citations, bool(numbering.citations))
        return summary_step(answer, intent, scope, shown, "summary")

    def _ranked(self, art: ArticleText, k: int) -> list[int]:
        """The k key sentences of the article, the main event first, the rest in article order."""
        if not art.texts:
            return []
        title_vector = None
        if self.embedder is not None and key_sentences.headline(art.title):  # a topic's vector would go unused
            title_vector = np.asarray(self.embedder.embed([" ".join(art.title.split())])[0], dtype=np.float32)
        order = key_sentences.ranked(art.vectors, art.texts, k, art.title, title_vector=title_vector)
        return order[:1] + sorted(order[1:])

    def _part(self, intent: Intent, art: ArticleText, k: int, several: bool) -> Plan:
        texts = art.texts
        where = "" if several else f'"{art.title}"'
        summary = self._ranked(art, k)
        if intent.kind == "people":
            top = [n for n, _ in key_sentences.names(texts).most_common(TOP_NAMES)]
            indices = key_sentences.covering_names(texts, top, k) if top else []
            if not top or not indices:
                return Plan(art, f"No people or organisations are named in {where or 'it'}; in short: ", summary)
            return Plan(
                art,
                f"The main people and organisations named{' in ' + where if where else ''}: "
                f"{', '.join(top)}. They appear here: ",
                indices,
            )
        if intent.kind == "when":
            dates = key_sentences.dated(texts)[:2]
            said = f"It is dated {art.published}. " if art.published else ""
            if dates:
                rest = [i for i in summary if i not in dates][: max(k - len(dates), 1)]
                return Plan(art, f"{said}The dates and days {where or 'it'} names: ", sorted(set(dates) | set(rest)))
            if said:
                return Plan(art, f"{said}What it reports: ", summary)
            return Plan(art, f"{where or 'It'} gives no date or day for these events; what it reports: ", summary)
        return Plan(art, f"In short, {where}: " if where else "", summary)


def newest_first(infos: Mapping[str, ArticleInfo]) -> list[str]:
    """Article ids, most recently added (newest source file) first; ties by title."""
    return sorted(infos, key=lambda i: (-_added(infos[i].source), infos[i].title.lower()))


def _added(source: str) -> float:
    try:
        return os.stat(source).st_mtime if source else 0.0
    except OSError:
        return 0.0


def summary_step(
    answer: Answer,
    intent: Intent,
    scope: Scope,
    cited: Sequence[ScoredSentence],
    method: str,
    *,
    notes: Sequence[str] = (),
    prompt: str | None = None,
    reading: Reading | None = None,
    attribution: Attribution | None = None,
) -> SummaryStep:
    """The record of a whole-article answer: what was recognised, which articles, which sentences (`notes` after the
    scope's note; a model's summary also gives its prompt, its reading and how its sentences were attributed)."""
    decision = Decision(
        outcome="answered" if answer.answered else "refused",
        method=method,
        reason=(
            f"whole-article question ({intent.kind}, recognised by {intent.how}); "
            f"{len(cited)} sentence(s) from {len(scope.articles)} article(s): {scope.rule}"
        ),
        rule="answered" if answer.answered else "nothing to summarise",
    )
    sentences = [
        SentenceHit(s.sentence.article_id, s.sentence.index, 0.0, 0.0, 0.0, 0.0, 0.0, s.sentence.text) for s in cited
    ]
    head = [scope.note.strip()] if scope.note else []
    sources = {a.id: SourceRef(a.id, a.url, a.published or None) for a in scope.articles}
    return SummaryStep(
        answer,
        decision,
        sentences,
        head + list(notes),
        prompt=prompt,
        reading=reading,
        attribution=attribution,
        sources=sources,
    )


def _verbatim(shown: Sequence[ScoredSentence], i: int) -> Claim:
    s = shown[i].sentence
    return Claim(s.text, (i,), ((s.article_id, s.index),), 1.0, (), 0, 0.0, 1.0, "the sentence itself")

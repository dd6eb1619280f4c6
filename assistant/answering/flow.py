"""The answering flow: question -> retrieval -> reading -> attribution -> decision, or the summary path.

Each step returns its record and `AnswerFlow.stream` builds the frozen `Trace` from them once, when the answer is
decided (one constructor call per path: the question's, the summary's); no step edits another's output or goes
back to an earlier one. Built once by the `Assistant` (which checks the question, history and
scope before handing them over).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial

from assistant.answering.attribution.attribute import attribute, attribute_extractive
from assistant.answering.attribution.citing import NOT_FOUND, compose, with_sources
from assistant.answering.base import Condenser, Summarizer, pieces
from assistant.answering.decision.agreement import ReadAgain
from assistant.answering.decision.decide import Decided, decide
from assistant.answering.decision.model_check import ModelCheck
from assistant.answering.question import intent as whole_article
from assistant.answering.question import kinds
from assistant.answering.reading import text as read_text
from assistant.answering.reading.extractive_reader import ExtractiveReader
from assistant.answering.reading.model_reader import ModelReader
from assistant.answering.retrieval.retriever import Retriever
from assistant.answering.thresholds import Thresholds
from assistant.embeddings import Embedder
from assistant.errors import AnswerMissingError
from assistant.llm.choice import AnswererChoice
from assistant.records import (
    Answer,
    Asks,
    Attribution,
    Decision,
    Query,
    QuestionStep,
    Reading,
    Retrieval,
    ScoredSentence,
    SourceRef,
    Timings,
    Trace,
    Turn,
    sentence_hit,
)


@dataclass
class AnswerFlow:
    embedder: Embedder  # reads whole-article questions by meaning
    checker: Embedder  # embeds what attribution compares with the shown sentences (they carry their stored vectors)
    retriever: Retriever
    condenser: Condenser
    model_reader: ModelReader | None  # None: the extractive reader answers
    choice: AnswererChoice
    thresholds: Thresholds
    summarizer: Summarizer
    extractive_reader: ExtractiveReader = ExtractiveReader()
    model_check: ModelCheck | None = None  # the chat model's yes/no on a model's answer the word rules let through
    read_again: ReadAgain | None = None  # the reader asked again: does it say the same?

    @property
    def answerer(self) -> str:
        return self.model_reader.name if self.model_reader is not None else "extractive"

    @property
    def backend(self) -> str:
        return self.model_reader.backend if self.model_reader is not None else "offline extractive"

    def stream(self, question: str, turns: list[Turn], scope: list[str] | None) -> Iterator[str | Answer]:
        """Text deltas, then the final `Answer` with its trace (built once, from the steps' records)."""
        started = time.perf_counter()
        t = time.perf_counter()
        # a whole-article question needs no condensing
        intent = whole_article.detect(question, self.embedder, self.thresholds.whole_article_bar)
        if intent:
            how = f"whole-article question ({intent.kind}, by {intent.how})"
            query, step = Query(question, question), QuestionStep(question, how=how, intent=intent.kind)
        else:
            query, step = self.condenser.condense(question, turns)
            step = replace(step, asks=kinds.asks(question) or kinds.asks(query.standalone))  # once, for every step
        question_ms = _ms(t)
        notes = [f"answerer: {self.choice}"]
        if intent:
            yield from self._summary(query, intent, scope, step, question_ms, notes, started)
            return
        retrieval = self.retriever.retrieve(query, scope)

        t = time.perf_counter()
        reading, shown, failed = self._read(query, turns, retrieval, step.asks)
        read_ms = _ms(t)
        if failed is not None:
            notes.append(
                f"The model ({self.backend}) could not answer: {failed.failure}. The offline answer was given instead."
            )

        t = time.perf_counter()
        extractive = reading.reader == "extractive"
        conversation = bool(turns) and not extractive  # the model reader has the earlier turns in its prompt
        attribution, decided = judge(query, reading, shown, self.checker, self.thresholds, step.asks, conversation)
        attribute_ms, check_ms, again_ms = _ms(t), None, None
        follow_up = bool(query.context)
        if (check := self.model_check) is not None and not extractive:
            decided, check_ms = _reviewed(
                "model check", decided, follow_up, notes, lambda d: check.review(d, query, shown)
            )
        if (again := self.read_again) is not None and (reader := self.model_reader) is not None and not extractive:

            def reread(temperature: float, seed: int) -> str:
                return reader.again(query, turns, shown, temperature=temperature, seed=seed)

            decided, again_ms = _reviewed(
                "read again",
                decided,
                follow_up,
                notes,
                lambda d: again.review(d, query.standalone, reading.answer, reread),
            )
        method = "model"
        if extractive:
            method = "extractive fallback" if self.model_reader is not None else "extractive"
        decision = Decision(
            outcome="answered" if decided.answered else "refused",
            method=method,
            reason=decided.reason,
            rule=decided.rule,
            confidence=decided.confidence,
            threshold=decided.threshold,
            follow_up=bool(query.context),
        )
        final, sources = Answer(NOT_FOUND, [], False), list[SourceRef]()  # nothing cited yet
        if decided.answered:
            text, citations = compose(decided.kept, shown, verbatim=extractive)
            # each citation's page and date from the article records retrieval read (the only read of them)
            articles = {a: SourceRef(a, info.url, info.published) for a, info in retrieval.articles.items()}
            citations, sources = with_sources(citations, articles)
            final = Answer(text, citations, True)
        if reading.failure is not None:
            note = (
                f"Note: the language model ({self.backend}) could not answer ({reading.failure}), "
                "so this is the offline answer."
            )
            final = replace(final, text=f"{note}\n\n{final.text}")
        timings = replace(
            retrieval.timings_ms(),
            question=question_ms,
            model_failed_after=None if failed is None else round(failed.seconds * 1000, 1),
            read=read_ms,
            attribute=attribute_ms,
            check=check_ms,
            again=again_ms,
        )
        yield from pieces(final.text)
        trace = self._trace(question, query, step, scope)(
            passages=retrieval.passage_hits(),
            sentences=retrieval.sentence_hits_for_trace(),
            shown=[sentence_hit(s) for s in shown],
            prompt=reading.prompt,
            raw_model_output=reading.raw,
            reading=reading,
            attribution=attribution,
            notes=notes,
            decision=decision,
            timings_ms=timings,
            latency_ms=_ms(started),
            answered=final.answered,
            sources=sources,
        )
        yield replace(final, trace=trace)

    def _summary(
        self,
        query: Query,
        intent: whole_article.Intent,
        scope: list[str] | None,
        step: QuestionStep,
        question_ms: float,
        notes: list[str],
        started: float,
    ) -> Iterator[str | Answer]:
        """The summary path's deltas, then its answer with the trace built from its record."""
        t, question = time.perf_counter(), query.question
        for event in self.summarizer.summarize(question, intent, scope):
            if isinstance(event, str):
                yield event
                continue
            summary_ms = _ms(t)
            citations, sources = with_sources(event.answer.citations, event.sources)
            trace = self._trace(question, query, step, scope)(
                sentences=event.sentences,
                prompt=event.prompt,
                raw_model_output=event.reading.raw if event.reading else None,
                reading=event.reading,
                attribution=event.attribution,
                notes=[*notes, *event.notes],
                decision=event.decision,
                timings_ms=Timings(question=question_ms, summary=summary_ms),
                latency_ms=_ms(started),
                answered=event.answer.answered,
                sources=sources,
            )
            yield replace(event.answer, citations=citations, trace=trace)
            return
        raise AnswerMissingError("the answerer finished without an answer; this is a bug: please report it")

    def _trace(self, question: str, query: Query, step: QuestionStep, scope: list[str] | None) -> partial[Trace]:
        """The `Trace` constructor with what both paths (question, summary) record alike: the question as asked and
        as read, who answered, the question step and the scope; each path gives the rest in its one call."""
        return partial(
            Trace,
            question=question,
            answerer=self.answerer,
            backend=self.backend,
            standalone_question=query.standalone,
            context=query.context,
            question_step=step,
            article_ids=scope or [],
        )

    def _read(
        self, query: Query, turns: list[Turn], retrieval: Retrieval, asks: Asks | None
    ) -> tuple[Reading, list[ScoredSentence], Reading | None]:
        """The model's reading of what retrieval chose; the extractive reader's when there is no model or it
        failed (then the model's failure is kept in the reading, and its failed reading returned third)."""
        failed = None
        if self.model_reader is not None:
            reading = self.model_reader.read(query, turns, retrieval.context)
            if reading.failure is None:
                return reading, retrieval.context, None
            failed = reading
        ranked = retrieval.sentences
        reading = self.extractive_reader.read(query, ranked, self.thresholds, asks)
        if failed is not None:
            reading = replace(reading, prompt=failed.prompt, raw=failed.raw, failure=failed.failure)
        return reading, list(ranked), failed


def judge(
    query: Query,
    reading: Reading,
    shown: list[ScoredSentence],
    checker: Embedder,
    thresholds: Thresholds,
    asks: Asks | None,
    conversation: bool = False,
) -> tuple[Attribution, Decided]:
    """Attribution, then the decision, on one reading of the `shown` sentences (`stream` and the evaluation's
    replay of recorded readings both judge through here); `asks`: what the question step found it asks for;
    `conversation`: the reader read the earlier turns with the question."""
    extractive = reading.reader == "extractive"
    if extractive:
        attribution = attribute_extractive(query, shown, reading.chosen, checker, thresholds)
    else:
        attribution = attribute(query, read_text.claims(reading.answer), shown, checker, thresholds)
    decided = decide(
        attribution,
        shown,
        question=query.standalone,
        refused_by_reader=reading.refused,
        asks=asks,
        follow_up=bool(query.context),
        extractive=extractive,
        thresholds=thresholds,
        conversation=conversation,
    )
    return attribution, decided


def _reviewed(
    step: str, decided: Decided, follow_up: bool, notes: list[str], review: Callable[[Decided], tuple[Decided, str]]
) -> tuple[Decided, float | None]:
    """A step after the decision that can only refuse (the model check, the reader asked again): the decision after
    it and its time, what it said noted as "<step>: ...". Asked only of an answer, and not of a follow-up read with the
    conversation: both were fitted on questions asked on their own (the check reads the question alone; asked again,
    CoQA's follow-ups refused right answers)."""
    if not decided.answered:
        return decided, None
    if follow_up:
        notes.append(f"{step}: not asked (a follow-up read with the conversation)")
        return decided, None
    started = time.perf_counter()
    decided, said = review(decided)
    notes.append(f"{step}: {said}")
    return decided, _ms(started)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)

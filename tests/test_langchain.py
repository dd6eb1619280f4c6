"""LangChain interop: `Assistant.as_retriever` passes LangChain's standard retriever tests (`langchain-tests`), and
both it and `Assistant.as_runnable` work inside the LCEL chains a LangChain user writes."""

from __future__ import annotations

import asyncio
import re

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import ParrotFakeChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant import Answer
from assistant.errors import InputError
from assistant.integrations.langchain import SentenceRetriever
from tests.conftest import SAMPLE_ID

ASSISTANCE = "How much security assistance did the U.S. announce?"
SENTENCE = (
    "To aid Ecuador in its fight against drug trafficking, the U.S. announced $13.5 million in security assistance "
    "and an additional $6 million allocated for drone technology."
)


@pytest.fixture(scope="module")
def sample_bot(tmp_path_factory, embedder):
    """An Assistant over an index in a tmp dir holding the sample article (built once for this module)."""
    from assistant import Assistant, Settings
    from tests.conftest import SAMPLE_DIR

    root = tmp_path_factory.mktemp("langchain")
    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"}, index_dir=str(root / "index"), articles_dir=str(root / "articles")
    )
    bot = Assistant(settings=settings, embedder=embedder)
    assert bot.ingest([SAMPLE_DIR]).added == 1
    return bot


class TestSentenceRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own standard tests for a retriever integration, unchanged."""

    @pytest.fixture(autouse=True)
    def _index(self, sample_bot):
        self.bot = sample_bot

    @property
    def retriever_constructor(self) -> type[SentenceRetriever]:
        return SentenceRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"assistant": self.bot, "k": 8}

    @property
    def retriever_query_example(self) -> str:
        return ASSISTANCE


def test_retriever_documents_are_ranked_verbatim_sentences_with_citation_metadata(sample_bot):
    retriever = sample_bot.as_retriever(k=4)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(ASSISTANCE)
    assert len(docs) == 4 and docs[0].page_content == SENTENCE
    text = sample_bot.article(SAMPLE_ID).text
    for doc in docs:
        meta = doc.metadata
        assert set(meta) == {"article_id", "title", "sentence_index", "start", "end", "url", "published", "score"}
        assert text[meta["start"] : meta["end"]] == doc.page_content and meta["article_id"] == SAMPLE_ID
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    assert [d.page_content for d in retriever.invoke(ASSISTANCE, k=2)] == [d.page_content for d in docs[:2]]


def test_retriever_scope_and_bad_requests(sample_bot):
    assert sample_bot.as_retriever(k=1, article_ids=[SAMPLE_ID]).invoke(ASSISTANCE)[0].page_content == SENTENCE
    with pytest.raises(InputError, match="no such article"):
        sample_bot.as_retriever(article_ids=["nope"]).invoke(ASSISTANCE)
    with pytest.raises(InputError, match="k=0"):
        sample_bot.as_retriever(k=0).invoke(ASSISTANCE)
    with pytest.raises(InputError, match="empty"):
        sample_bot.as_retriever().invoke("  ")


def test_runnable_invoke_stream_batch_and_ainvoke_give_the_answer(sample_bot):
    runnable = sample_bot.as_runnable()
    assert isinstance(runnable, Runnable)
    request = {"question": ASSISTANCE, "history": None, "article_ids": [SAMPLE_ID]}
    answer = runnable.invoke(request)
    assert isinstance(answer, Answer) and answer.answered and answer.citations[0].text == SENTENCE
    events = list(runnable.stream(request))
    assert isinstance(events[-1], Answer) and all(isinstance(e, str) for e in events[:-1]) and len(events) >= 2
    assert "".join(events[:-1]) == events[-1].text == answer.text
    off, same = runnable.batch([{"question": "What is the boiling point of mercury in kelvin?"}, request])
    assert not off.answered and off.citations == [] and same.text == answer.text
    assert asyncio.run(runnable.ainvoke(request)).text == answer.text
    follow = runnable.invoke(
        {"question": "And how much for drones?", "history": [("What did the U.S. announce for Ecuador?", answer.text)]}
    )
    assert follow.answered and "$6 million" in follow.citations[0].text
    with pytest.raises(InputError, match="unknown key"):
        runnable.invoke({"query": ASSISTANCE})


@pytest.mark.parametrize(
    "request_",
    [
        {"question": 5},
        {"question": ASSISTANCE, "history": 5},
        {"question": ASSISTANCE, "history": "a question"},
        {"question": ASSISTANCE, "history": [("q", "a"), 3]},
        {"question": ASSISTANCE, "article_ids": [1]},
        {"question": ASSISTANCE, "article_ids": 0},
    ],
)
def test_the_runnable_refuses_what_the_assistant_refuses_in_its_words(sample_bot, request_):
    with pytest.raises(InputError) as by_assistant:
        sample_bot.answer(**request_)
    with pytest.raises(InputError, match=re.escape(str(by_assistant.value))):
        sample_bot.as_runnable().invoke(request_)


def _format_docs(docs: list[Document]) -> str:
    return "\n".join(f"[{d.metadata['article_id']}#{d.metadata['sentence_index']}] {d.page_content}" for d in docs)


def test_both_inside_lcel_chains(sample_bot):
    """The chains a LangChain user writes: the retriever as the context of a prompt for their own chat model (a fake
    one that says back what it was sent), and the runnable piped into their own step."""
    retriever = sample_bot.as_retriever(k=3)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context only."), ("human", "Context:\n{context}\n\nQuestion: {question}")]
    )
    rag = {"context": retriever | _format_docs, "question": RunnablePassthrough()} | prompt | ParrotFakeChatModel()
    sent = (rag | StrOutputParser()).invoke(ASSISTANCE)
    assert f"[{SAMPLE_ID}#10] {SENTENCE}" in sent and sent.endswith(f"Question: {ASSISTANCE}")

    text_of = sample_bot.as_runnable() | RunnableLambda(lambda a: a.text)
    assert "$13.5 million" in text_of.invoke({"question": ASSISTANCE})
    assert list(text_of.stream({"question": ASSISTANCE})) == [text_of.invoke({"question": ASSISTANCE})]

"""One factory for the answering side: the condenser and the answerer the settings ask for."""

from __future__ import annotations

from typing import Any

from assistant.answering.base import Answerer, Condenser
from assistant.answering.chat_model import build_chat_model
from assistant.answering.condense import OfflineCondenser
from assistant.answering.extractive import DEFAULT_THRESHOLD, ExtractiveAnswerer
from assistant.answering.model_answerer import ModelAnswerer
from assistant.answering.model_condense import ModelCondenser
from assistant.answering.prompts import Prompts
from assistant.answering.retrieval import Retriever
from assistant.embeddings import CachedEmbedder
from assistant.settings import Settings

ANSWER_MAX_TOKENS = 384
CONDENSE_MAX_TOKENS = 96


def build_extractive(settings: Settings) -> ExtractiveAnswerer:
    threshold = settings.refusal_threshold if settings.refusal_threshold is not None else DEFAULT_THRESHOLD
    return ExtractiveAnswerer(threshold)


def build_answering(settings: Settings, embedder: Any, retriever: Retriever) -> tuple[Condenser, Answerer]:
    extractive = build_extractive(settings)
    if not settings.uses_llm:
        return OfflineCondenser(), extractive
    return build_model_answering(settings, embedder, retriever, extractive, name="openai", model=settings.chat_model,
                                 base_url=settings.openai_base_url, api_key=settings.openai_api_key)


def build_model_answering(settings: Settings, embedder: Any, retriever: Retriever, extractive: ExtractiveAnswerer, *,
                          name: str, model: str, base_url: str | None, api_key: str | None,
                          backend: str | None = None, condense: bool = True,
                          **options: Any) -> tuple[Condenser, Answerer]:
    """`condense=False`: follow-ups are read with the conversation instead of a second model call."""
    prompts = Prompts(settings.prompts_dir)  # read now: a missing template fails at start, not mid-chat
    system = prompts.load("answer_system", required={"not_found"})
    user = prompts.load("answer_user", required={"sources", "question"})
    condense_prompt = prompts.load("condense", required={"history", "question"})

    def chat(streaming: bool, max_tokens: int, retries: int):
        return build_chat_model(model, base_url, api_key, settings.request_timeout, retries,
                                streaming=streaming, max_tokens=max_tokens)

    where = base_url or "api.openai.com"
    # no retries inside a streamed answer: the whole answer is bounded by the timeout, not each try
    answerer = ModelAnswerer(name, backend or f"chat model {model}", chat(True, ANSWER_MAX_TOKENS, 0), where,
                             (system, user), extractive, CachedEmbedder(embedder), retriever,
                             deadline_s=settings.request_timeout, retries=settings.max_retries,
                             **options)
    condenser: Condenser = (ModelCondenser(chat(False, CONDENSE_MAX_TOKENS, settings.max_retries), condense_prompt)
                            if condense else OfflineCondenser())
    return condenser, answerer

"""Builds the answering flow in one place: the condenser and the model reader the settings ask for (the
extractive reader needs nothing built), the summariser, the model check and the thresholds, on the chat model
the settings choose (`llm.choice`) and reach (`llm.backends`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.answering.base import Condenser, Summarizer
from assistant.answering.decision.agreement import ReadAgain
from assistant.answering.decision.model_check import CHECK_MAX_TOKENS, ModelCheck
from assistant.answering.flow import AnswerFlow
from assistant.answering.question.condense import OfflineCondenser
from assistant.answering.question.model_condense import ModelCondenser
from assistant.answering.reading.model_reader import ModelReader
from assistant.answering.retrieval.retriever import Retriever
from assistant.answering.summary.model_summary import SUMMARY_MAX_TOKENS, ModelSummarizer, SummaryModel
from assistant.answering.summary.summary import ExtractiveSummarizer
from assistant.answering.thresholds import Thresholds
from assistant.embeddings import Embedder
from assistant.errors import AssistantError, LocalModelError
from assistant.llm.backends import (
    LOCAL_BACKEND,
    LOCAL_FALLBACK_ON,
    OPENAI_FALLBACK_ON,
    connect_local,
    local_check_client,
    local_streaming,
    openai_client,
)
from assistant.llm.chat_model import ChatClient, ConnectedChat, build_chat_model, preload
from assistant.llm.choice import AnswererChoice, choose_answerer, fall_back
from assistant.llm.local.llama_server import MODEL_ALIAS
from assistant.llm.prompts import Prompts
from assistant.settings import Settings
from assistant.store import Store

ANSWER_MAX_TOKENS = 96  # a short answer; a ramble past this is cut
CONDENSE_MAX_TOKENS = 96


def build_thresholds(settings: Settings) -> Thresholds:
    """The decision step's bars; `ASSISTANT_REFUSAL_THRESHOLD` moves the extractive one."""
    base = Thresholds()
    if settings.refusal_threshold is None:
        return base
    from dataclasses import replace

    return replace(base, extractive_relevance=settings.refusal_threshold)


Answering = tuple[Condenser, ModelReader | None, AnswererChoice]


@dataclass(frozen=True)
class Backend:
    """An answerer backend: its name (as `llm.choice.choose_answerer` names it, with the reason it is available or
    not), how its condenser and model reader are built on it (reached through `llm.backends`), and the summariser's
    chat model on it."""

    name: str
    build: Callable[[Settings, AnswererChoice], Answering]
    chat: Callable[[Settings, int], SummaryModel | None]  # the summariser's chat model, None when there is none


def _build_openai(settings: Settings, choice: AnswererChoice) -> Answering:
    condenser, reader = build_model_reading(
        settings,
        name="openai",
        model=settings.chat_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        condense=settings.condense not in ("conversation", "named"),
    )
    return condenser, reader, choice


def _build_local(settings: Settings, choice: AnswererChoice) -> Answering:
    try:
        wrap, connect = connect_local(settings)  # a handle on the machine's shared server (`llama_server`)
    except LocalModelError as exc:  # the model file is missing or wrong: say why, answer offline
        return offline_condenser(settings), None, fall_back(choice, exc)
    condenser, reader = build_model_reading(
        settings,
        name="local",
        model=MODEL_ALIAS,
        base_url=None,
        api_key=None,
        backend=LOCAL_BACKEND,
        condense=settings.condense == "model",  # measured on CoQA: docs/evaluation.md, "Follow-ups"
        wrap=wrap,
        connect=connect,  # checked before each request: started, reused, or replaced
        fallback_on=LOCAL_FALLBACK_ON,
    )
    return condenser, reader, choice


def _build_extractive(settings: Settings, choice: AnswererChoice) -> Answering:
    return offline_condenser(settings), None, choice


def offline_condenser(settings: Settings) -> OfflineCondenser:
    """Follow-ups read with the earlier turns, no model call; with ASSISTANT_CONDENSE=named their pronoun replaced by
    the last turn's name too."""
    return OfflineCondenser(name_subject=settings.condense == "named")


def build_answering(settings: Settings) -> Answering:
    """The condenser and the model reader the settings choose (`choice.choose_answerer`; None: the extractive
    reader answers), and that choice."""
    choice = choose_answerer(settings)
    return BACKENDS[choice.name].build(settings, choice)


def _openai_chat(settings: Settings, max_tokens: int) -> SummaryModel | None:
    chat = openai_client(settings, True, max_tokens)
    where = settings.openai_base_url or "api.openai.com"
    return SummaryModel(lambda: (chat, where), f"chat model {settings.chat_model}", OPENAI_FALLBACK_ON)


def _local_chat(settings: Settings, max_tokens: int) -> SummaryModel | None:
    return SummaryModel(
        local_streaming(settings, max_tokens),
        LOCAL_BACKEND,
        LOCAL_FALLBACK_ON,
        fixed_layout=True,
        quotes_main_event=True,
    )


BACKENDS = {
    backend.name: backend
    for backend in (
        Backend("openai", _build_openai, _openai_chat),
        Backend("local", _build_local, _local_chat),
        Backend("extractive", _build_extractive, lambda settings, max_tokens: None),
    )
}


def chat_client(settings: Settings, choice: AnswererChoice, max_tokens: int) -> SummaryModel | None:
    """For the summariser: the chosen chat model (streaming), its name and when to fall back; None offline."""
    return BACKENDS[choice.name].chat(settings, max_tokens)


def build_model_check(settings: Settings, choice: AnswererChoice, thresholds: Thresholds) -> ModelCheck | None:
    """The model check (`ASSISTANT_MODEL_CHECK`; unset: on for the local model only) on the chosen chat model (the
    local model's: on its check server); None when it is off or there is no chat model (the extractive reader's
    answers are verbatim sentences, never checked)."""
    on = settings.model_check if settings.model_check is not None else choice.name == "local"
    if not on or choice.name not in ("openai", "local"):
        return None
    prompts = Prompts(settings.prompts_dir)
    pair = (prompts.load("check_system"), prompts.load("check_user", required={"sentence", "question", "answer"}))
    if choice.name == "openai":
        return ModelCheck(openai_client(settings, False, CHECK_MAX_TOKENS), pair, thresholds.model_check_bar)
    return ModelCheck(local_check_client(settings, CHECK_MAX_TOKENS), pair, thresholds.model_check_bar)


def build_read_again(settings: Settings, choice: AnswererChoice, thresholds: Thresholds) -> ReadAgain | None:
    """The reader asked again (`ASSISTANT_READ_AGAIN=1`, off by default; its bar was fitted with the local model) on
    a model reader; None when it is off or the extractive reader answers (its sentences are not sampled)."""
    on = settings.read_again and choice.name in ("openai", "local")
    return ReadAgain(thresholds.agreement_bar) if on else None


def build_model_reading(
    settings: Settings,
    *,
    name: str,
    model: str,
    base_url: str | None,
    api_key: str | None,
    backend: str | None = None,
    condense: bool = True,
    wrap: Callable[[ChatClient, str | None], ChatClient] | None = None,
    connect: Callable[[], str] | None = None,
    fallback_on: tuple[type[AssistantError], ...] = OPENAI_FALLBACK_ON,
) -> tuple[Condenser, ModelReader]:
    """`condense=False`: follow-ups are read with the conversation instead of a second model call
    (`offline_condenser`).
    `wrap(client, url)`: what each client is used through (`LocalChat` for our own server).
    `connect` (our own server, see `ModelReader`) and `fallback_on` go to ModelReader; with `connect` the condenser
    connects through it too."""
    preload()  # the chat client's library, imported while the index opens
    prompts = Prompts(settings.prompts_dir)  # read now: a missing template fails at start, not mid-chat
    system = prompts.load("read_system")
    user = prompts.load("read_user", required={"articles", "conversation", "question"})
    condense_prompt = prompts.load("condense", required={"history", "question"})

    def chat(url: str | None, streaming: bool, max_tokens: int, retries: int) -> ChatClient:
        client = build_chat_model(
            model, url, api_key, settings.request_timeout, retries, streaming=streaming, max_tokens=max_tokens
        )
        return wrap(client, url) if wrap is not None else client

    def streaming_chat(url: str | None) -> ChatClient:
        # no retries inside the client: the answer as a whole is bounded by the timeout, not each try
        return chat(url, True, ANSWER_MAX_TOKENS, 0)

    reader = ModelReader(
        name,
        backend or f"chat model {model}",
        streaming_chat,
        base_url,
        (system, user),
        deadline_s=settings.request_timeout,
        retries=settings.max_retries,
        fallback_on=fallback_on,
        connect=connect,
    )
    if not condense:
        return offline_condenser(settings), reader
    condense_chat = (
        ConnectedChat(connect, lambda url: chat(url, False, CONDENSE_MAX_TOKENS, settings.max_retries))
        if connect is not None  # our own server: its address is known once it runs
        else chat(base_url, False, CONDENSE_MAX_TOKENS, settings.max_retries)
    )
    return ModelCondenser(condense_chat, condense_prompt), reader


def build_summarizer(
    settings: Settings,
    store: Store,
    checker: Embedder,
    model: SummaryModel | None,
    thresholds: Thresholds,
) -> Summarizer:
    """The extractive summariser offline; with a chat model (`model`, from `chat_client`), the model's, falling
    back to the extractive one. `checker` embeds the model's sentences a summary checks (its article's sentences come
    with their stored vectors) and the titles (the Assistant's `CachedEmbedder`, shared with the answering path)."""
    extractive = ExtractiveSummarizer(store, checker)
    if model is None:
        return extractive
    prompts = Prompts(settings.prompts_dir)  # read now: a missing template fails at start, not mid-chat
    system = prompts.load("summary_system")
    request = prompts.load("summary_request", required={"length", "count"})
    return ModelSummarizer(model, (system, request), extractive, checker, thresholds)


def build_flow(
    settings: Settings, store: Store, embedder: Embedder, checker: Embedder, retriever: Retriever
) -> AnswerFlow:
    """The answering flow the settings ask for, on the Assistant's store, embedder and retriever: the condenser,
    model reader and choice (`build_answering`), the thresholds, the summariser on the chosen chat model and the
    model check (only with a model reader). `checker` embeds what attribution compares with the shown sentences (the
    question with each claim; the sentences come with the vectors retrieval read)."""
    condenser, model_reader, choice = build_answering(settings)
    thresholds = build_thresholds(settings)
    summarizer = build_summarizer(
        settings, store, checker, chat_client(settings, choice, SUMMARY_MAX_TOKENS), thresholds
    )
    return AnswerFlow(
        embedder,
        checker,
        retriever,
        condenser,
        model_reader,
        choice,
        thresholds,
        summarizer,
        model_check=build_model_check(settings, choice, thresholds) if model_reader is not None else None,
        read_again=build_read_again(settings, choice, thresholds) if model_reader is not None else None,
    )

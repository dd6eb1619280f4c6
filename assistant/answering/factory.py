"""One factory for the answering side: the condenser and the model reader the settings ask for (the
extractive reader needs nothing built)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.answering.base import Condenser
from assistant.answering.decision.model_check import CHECK_MAX_TOKENS, ModelCheck
from assistant.answering.question.condense import OfflineCondenser
from assistant.answering.question.model_condense import ModelCondenser
from assistant.answering.reading.model_reader import ModelReader
from assistant.answering.summary.model_summary import SummaryModel
from assistant.answering.thresholds import Thresholds
from assistant.errors import AssistantError, LocalModelError, ModelTimeoutError, ModelUnavailableError
from assistant.llm.chat_model import ChatClient, ConnectedChat, build_chat_model, preload
from assistant.llm.choice import AnswererChoice, choose_answerer, fall_back
from assistant.llm.local.llama_server import MODEL_ALIAS, LlamaServer, local_server
from assistant.llm.local.local_chat import LocalChat
from assistant.llm.prompts import Prompts
from assistant.settings import Settings

LOCAL_BACKEND = "local model Qwen2.5-Coder-1.5B-Instruct Q4_K_M (llama.cpp)"
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
# the errors after which the offline answer stands in (others reach the person who asked), for questions and
# whole-article answers alike: a remote model's timeout; anything that stops our own local model's server
OPENAI_FALLBACK_ON: tuple[type[AssistantError], ...] = (ModelTimeoutError,)
LOCAL_FALLBACK_ON: tuple[type[AssistantError], ...] = (ModelTimeoutError, ModelUnavailableError, LocalModelError)


@dataclass(frozen=True)
class Backend:
    """An answerer backend: its name (as `choice.choose_answerer` names it, with the reason it is available or
    not) and how its condenser and model reader are built."""

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
        condense=settings.condense != "conversation",
    )
    return condenser, reader, choice


def _build_local(settings: Settings, choice: AnswererChoice) -> Answering:
    try:
        server = local_server(settings)  # a handle on the machine's shared server (`llama_server`)
    except LocalModelError as exc:  # the model file is missing or wrong: say why, answer offline
        return OfflineCondenser(), None, fall_back(choice, exc)
    condenser, reader = build_model_reading(
        settings,
        name="local",
        model=MODEL_ALIAS,
        base_url=None,
        api_key=None,
        backend=LOCAL_BACKEND,
        condense=settings.condense == "model",  # measured on CoQA: docs/evaluation.md, "Follow-ups"
        wrap=_local_wrapper(settings, server),
        connect=server.ensure_running,  # checked before each request: started, reused, or replaced
        fallback_on=LOCAL_FALLBACK_ON,
    )
    return condenser, reader, choice


def _local_wrapper(settings: Settings, server: LlamaServer) -> Callable[[ChatClient, str | None], ChatClient]:
    """Each client of the local server: its requests marked in flight, its failures in the local model's words."""

    def wrap(chat: ChatClient, url: str | None) -> ChatClient:
        return LocalChat(chat, server.files, url or "", settings.request_timeout, server.config.log_path)

    return wrap


def _build_extractive(settings: Settings, choice: AnswererChoice) -> Answering:
    return OfflineCondenser(), None, choice


def build_answering(settings: Settings) -> Answering:
    """The condenser and the model reader the settings choose (`choice.choose_answerer`; None: the extractive
    reader answers), and that choice."""
    choice = choose_answerer(settings)
    return BACKENDS[choice.name].build(settings, choice)


def _openai_client(settings: Settings, streaming: bool, max_tokens: int) -> ChatClient:
    """The OpenAI (or OpenAI-compatible) chat client the settings name, with their timeout and retries."""
    return build_chat_model(
        settings.chat_model,
        settings.openai_base_url,
        settings.openai_api_key,
        settings.request_timeout,
        settings.max_retries,
        streaming=streaming,
        max_tokens=max_tokens,
    )


def _openai_chat(settings: Settings, max_tokens: int) -> SummaryModel | None:
    chat = _openai_client(settings, True, max_tokens)
    where = settings.openai_base_url or "api.openai.com"
    return SummaryModel(lambda: (chat, where), f"chat model {settings.chat_model}", OPENAI_FALLBACK_ON)


def _local_chat(settings: Settings, max_tokens: int) -> SummaryModel | None:
    server = local_server(settings)
    wrap = _local_wrapper(settings, server)
    clients: dict[str, ChatClient] = {}

    def client() -> tuple[ChatClient, str]:
        url = server.ensure_running()
        if url not in clients:
            clients.clear()
            chat = build_chat_model(  # no retries: the server was just checked; one that drops is not tried
                MODEL_ALIAS,  # again on the same port (the next question starts another), the summary falls back
                url,
                None,
                settings.request_timeout,
                0,
                streaming=True,
                max_tokens=max_tokens,
            )
            clients[url] = wrap(chat, url)
        return clients[url], url

    return SummaryModel(client, LOCAL_BACKEND, LOCAL_FALLBACK_ON, fixed_layout=True, quotes_main_event=True)


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


def build_model_check(settings: Settings, choice: AnswererChoice) -> ModelCheck | None:
    """The model check (`ASSISTANT_MODEL_CHECK=1`) on the chosen chat model; None when it is off or there is no
    chat model (the extractive reader's answers are verbatim sentences, never checked)."""
    if not settings.model_check or choice.name not in ("openai", "local"):
        return None
    prompts = Prompts(settings.prompts_dir)
    pair = (prompts.load("check_system"), prompts.load("check_user", required={"sentence", "question", "answer"}))
    if choice.name == "openai":
        return ModelCheck(_openai_client(settings, False, CHECK_MAX_TOKENS), pair)
    server = local_server(settings)
    wrap = _local_wrapper(settings, server)

    def connected(url: str) -> ChatClient:
        client = build_chat_model(
            MODEL_ALIAS, url, None, settings.request_timeout, 0, streaming=False, max_tokens=CHECK_MAX_TOKENS
        )
        return wrap(client, url)

    return ModelCheck(ConnectedChat(server.ensure_running, connected), pair)


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
    **options: Any,
) -> tuple[Condenser, ModelReader]:
    """`condense=False`: follow-ups are read with the conversation instead of a second model call.
    `wrap(client, url)`: what each client is used through (`LocalChat` for our own server).
    `options` go to ModelReader; with `connect` (our own server) the condenser connects through it too."""
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
        **options,
    )
    if not condense:
        return OfflineCondenser(), reader
    connect = options.get("connect")
    condense_chat = (
        ConnectedChat(connect, lambda url: chat(url, False, CONDENSE_MAX_TOKENS, settings.max_retries))
        if connect is not None  # our own server: its address is known once it runs
        else chat(base_url, False, CONDENSE_MAX_TOKENS, settings.max_retries)
    )
    return ModelCondenser(condense_chat, condense_prompt), reader

"""How each chat model backend is reached (which one answers is `choice.choose_answerer`): the OpenAI (or
OpenAI-compatible) client the settings name, and the clients of our own llama.cpp server (`local/`), each request
marked in flight and its failures said in the local model's words; and the errors after which each backend's
answers give way to the offline ones. `answering/build.py` builds the answering flow's parts on these."""

from __future__ import annotations

from collections.abc import Callable

from assistant.errors import AssistantError, LocalModelError, ModelTimeoutError, ModelUnavailableError
from assistant.llm.chat_model import ChatClient, ConnectedChat, build_chat_model
from assistant.llm.local.llama_server import MODEL_ALIAS, LlamaServer, check_server, local_server
from assistant.llm.local.local_chat import LocalChat
from assistant.settings import Settings

LOCAL_BACKEND = "local model Qwen2.5-Coder-1.5B-Instruct Q4_K_M (llama.cpp)"

# the errors after which the offline answer stands in (others reach the person who asked), for questions and
# whole-article answers alike: a remote model's timeout; anything that stops our own local model's server
OPENAI_FALLBACK_ON: tuple[type[AssistantError], ...] = (ModelTimeoutError,)
LOCAL_FALLBACK_ON: tuple[type[AssistantError], ...] = (ModelTimeoutError, ModelUnavailableError, LocalModelError)

Wrap = Callable[[ChatClient, str | None], ChatClient]


def connect_local(settings: Settings) -> tuple[Wrap, Callable[[], str]]:
    """A handle on the machine's shared server (`local.llama_server`): what each of its clients is used through,
    and how to connect (checked before each request: started, reused, or replaced). Raises LocalModelError when
    the model file is missing or wrong."""
    server = local_server(settings)
    return _local_wrapper(settings, server), server.ensure_running


def _local_wrapper(settings: Settings, server: LlamaServer) -> Wrap:
    """Each client of the local server: its requests marked in flight, its failures in the local model's words."""

    def wrap(chat: ChatClient, url: str | None) -> ChatClient:
        return LocalChat(chat, server.files, url or "", settings.request_timeout, server.config.log_path)

    return wrap


def openai_client(settings: Settings, streaming: bool, max_tokens: int) -> ChatClient:
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


def local_streaming(settings: Settings, max_tokens: int) -> Callable[[], tuple[ChatClient, str]]:
    """The local model's streaming client and its address, connected on each call (the server starts on first use
    and may come back on another port: the client is made again then)."""
    server = local_server(settings)
    wrap = _local_wrapper(settings, server)

    def build(url: str) -> ChatClient:
        chat = build_chat_model(  # no retries: the server was just checked; one that drops is not tried
            MODEL_ALIAS,  # again on the same port (the next question starts another), the summary falls back
            url,
            None,
            settings.request_timeout,
            0,
            streaming=True,
            max_tokens=max_tokens,
        )
        return wrap(chat, url)

    return ConnectedChat(server.ensure_running, build).connected


def local_check_client(settings: Settings, max_tokens: int) -> ChatClient:
    """The client of the model check's own server of the local model (`llama_server.check_server`: log-probabilities,
    and the answer server's cache left to the answers), connected before each call."""
    return _whole_replies(settings, check_server(settings), max_tokens)


def _whole_replies(settings: Settings, server: LlamaServer, max_tokens: int) -> ChatClient:
    """A client of `server` for one whole reply (not streamed), connected before each call."""
    wrap = _local_wrapper(settings, server)

    def connected(url: str) -> ChatClient:
        client = build_chat_model(
            MODEL_ALIAS, url, None, settings.request_timeout, 0, streaming=False, max_tokens=max_tokens
        )
        return wrap(client, url)

    return ConnectedChat(server.ensure_running, connected)

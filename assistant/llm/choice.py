"""Which answerer answers, and why: one decision for `assistant status`, the web page and the trace.

ASSISTANT_ANSWERER=local|openai|extractive picks one. Unset: `openai` when OPENAI_API_KEY or
OPENAI_BASE_URL is set; else `local` when the model parts (or a checked copy) and llama.cpp's
server are installed; else `extractive`. The check is cheap: no joining, hashing or importing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from assistant.errors import ConfigError
from assistant.llm.local.local_model import SETUP_COMMAND, cache_dir_for, local_model_status
from assistant.settings import Settings

ANSWERERS = ("local", "openai", "extractive")
LLAMA_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


@dataclass(frozen=True)
class AnswererChoice:
    name: str  # "local", "openai" or "extractive": the answerer that will answer
    reason: str  # why, in words a person can act on

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def llama_server_status() -> tuple[bool, str]:
    """Is llama-cpp-python with its server extras importable? Looked up, not imported."""
    missing = [name for name in LLAMA_SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        return False, (f"llama.cpp's server is not installed (missing {', '.join(missing)}; run `{SETUP_COMMAND}`)")
    return True, "llama.cpp server installed"


def choose_answerer(
    settings: Settings,
    *,
    model_status: Callable[[], tuple[bool, str]] | None = None,
    server_status: Callable[[], tuple[bool, str]] = llama_server_status,
) -> AnswererChoice:
    requested = (settings.answerer or "").strip().lower() or None
    if requested is not None and requested not in ANSWERERS:
        raise ConfigError(
            f"ASSISTANT_ANSWERER={settings.answerer!r} is not understood; use local, openai or "
            "extractive, or leave it unset to choose automatically."
        )
    if requested == "extractive":
        return AnswererChoice("extractive", "chosen by ASSISTANT_ANSWERER=extractive")
    if requested == "openai" or (requested is None and settings.uses_llm):
        if not settings.uses_llm:
            raise ConfigError(
                "ASSISTANT_ANSWERER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible "
                "server); set it, or use ASSISTANT_ANSWERER=local or extractive."
            )
        where = f"at {settings.openai_base_url}" if settings.openai_base_url else "OpenAI"
        how = "chosen by ASSISTANT_ANSWERER=openai" if requested else "OPENAI_API_KEY or OPENAI_BASE_URL is set"
        return AnswererChoice("openai", f"chat model {settings.chat_model} {where} ({how})")
    if model_status is None:
        cache_dir = cache_dir_for(settings.model_cache)
        model_status = lambda: local_model_status(cache_dir)  # noqa: E731
    model_ok, model_reason = model_status()
    server_ok, server_reason = server_status() if model_ok else (False, "")
    how = "chosen by ASSISTANT_ANSWERER=local" if requested else "installed, no OpenAI key set"
    if model_ok and server_ok:
        return AnswererChoice("local", f"{model_reason} ({how})")
    why = model_reason if not model_ok else server_reason
    prefix = "ASSISTANT_ANSWERER=local, but " if requested else ""
    return AnswererChoice("extractive", f"{prefix}{why}")


def fall_back(choice: AnswererChoice, error: Exception) -> AnswererChoice:
    """The extractive choice after the local model failed to start, saying why (for the page and the trace)."""
    return AnswererChoice("extractive", f"falling back from {choice.name} because {error}")

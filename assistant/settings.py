"""Settings: read once from the environment into one object, then passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from assistant.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"  # shipped inside the package
SECRET_FIELDS = ("openai_api_key", "auth")


def _get(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    return value.strip() if value and value.strip() else default


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. {default}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}.")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. {default}.") from None


@dataclass(frozen=True)
class Settings:
    index_dir: str = "index"
    articles_dir: str = "articles"
    chroma_url: str | None = None
    embeddings: str = "local"  # "local" or "openai:<model>"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    chat_model: str = "gpt-4o-mini"
    top_k: int = 8
    collection: str = "articles"
    max_file_mb: float = 10.0
    request_timeout: float = 60.0
    lock_timeout: float = 30.0
    max_retries: int = 2
    refusal_threshold: float | None = None  # None: the calibrated default of the answerer
    prompts_dir: str = str(PROMPTS_DIR)
    auth: str | None = None  # "user:password" for the web chat
    answerer: str | None = None  # "local", "openai" or "extractive"; None: chosen by answering.choice
    model_cache: str | None = None  # directory of the joined local model; None: the user's cache dir

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        threshold = _get(env, "ASSISTANT_REFUSAL_THRESHOLD")
        settings = cls(
            index_dir=_get(env, "ASSISTANT_INDEX_DIR", "index"),
            articles_dir=_get(env, "ASSISTANT_ARTICLES_DIR", "articles"),
            chroma_url=_get(env, "ASSISTANT_CHROMA_URL"),
            embeddings=_get(env, "ASSISTANT_EMBEDDINGS", "local"),
            openai_api_key=_get(env, "OPENAI_API_KEY"),
            openai_base_url=_get(env, "OPENAI_BASE_URL"),
            chat_model=_get(env, "ASSISTANT_CHAT_MODEL", "gpt-4o-mini"),
            top_k=_int(env, "ASSISTANT_TOP_K", 8),
            collection=_get(env, "ASSISTANT_COLLECTION", "articles"),
            max_file_mb=_float(env, "ASSISTANT_MAX_FILE_MB", 10.0),
            request_timeout=_float(env, "ASSISTANT_REQUEST_TIMEOUT", 60.0),
            lock_timeout=_float(env, "ASSISTANT_LOCK_TIMEOUT", 30.0),
            max_retries=_int(env, "ASSISTANT_MAX_RETRIES", 2, minimum=0),
            refusal_threshold=float(threshold) if threshold is not None else None,
            prompts_dir=_get(env, "ASSISTANT_PROMPTS_DIR", str(PROMPTS_DIR)),
            auth=_get(env, "ASSISTANT_AUTH"),
            answerer=_get(env, "ASSISTANT_ANSWERER"),
            model_cache=_get(env, "ASSISTANT_MODEL_CACHE"),
        )
        settings = replace(settings, **overrides) if overrides else settings
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chroma_url:
            parsed = urlparse(self.chroma_url if "//" in self.chroma_url else f"http://{self.chroma_url}")
            if not parsed.hostname:
                raise ConfigError(
                    f"ASSISTANT_CHROMA_URL={self.chroma_url!r} is not a URL; use e.g. http://127.0.0.1:8000."
                )
        if not (self.embeddings == "local" or self.embeddings.startswith("openai:")):
            raise ConfigError(
                f"ASSISTANT_EMBEDDINGS={self.embeddings!r} is not understood; "
                "use 'local' (default) or 'openai:<model>', e.g. openai:text-embedding-3-small."
            )
        if self.auth and ":" not in self.auth:
            raise ConfigError("ASSISTANT_AUTH must look like user:password.")

    @property
    def uses_llm(self) -> bool:
        """A language model answers when an API key or a base URL is configured."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def backend_name(self) -> str:
        return f"chat model {self.chat_model}" if self.uses_llm else "offline extractive"

    def chroma_host_port(self) -> tuple[str, int, bool]:
        url = self.chroma_url or ""
        parsed = urlparse(url if "//" in url else f"http://{url}")
        ssl = parsed.scheme == "https"
        return parsed.hostname or "127.0.0.1", parsed.port or (443 if ssl else 8000), ssl

    def masked(self) -> dict[str, object]:
        """The effective settings with secrets masked, for `assistant status`."""
        out = asdict(self)
        for name in SECRET_FIELDS:
            value = out.get(name)
            if value:
                out[name] = "****" + str(value)[-4:] if len(str(value)) > 8 else "****"
        return out

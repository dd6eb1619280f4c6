"""Settings: read once from the environment into one object, then passed in."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"  # shipped inside the package
SECRET_FIELDS = ("openai_api_key", "auth")
CONDENSE_CHOICES = ("model", "conversation", "named")


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value and value.strip() else None


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return _get(env, name) or default


@dataclass(frozen=True)
class Limit:
    """What a numeric setting allows; checked when it is read and again by `Settings.validate`."""

    env: str
    kind: type  # int or float
    low: float
    high: float
    low_open: bool = False  # True: the value must be above `low`, not equal to it
    unit: str = ""
    example: str = ""

    def allowed(self) -> str:
        what = "a whole number" if self.kind is int else "a number"
        if self.low_open:
            return f"{what} greater than {self.low:g} and at most {self.high:g}{self.unit}"
        return f"{what} from {self.low:g} to {self.high:g}{self.unit}"

    def parse(self, raw: str) -> int | float:
        try:
            value: int | float = int(raw) if self.kind is int else float(raw)
        except ValueError:
            raise self.error(raw) from None
        self.check(value, raw)
        return value

    def check(self, value: object, shown: object = None) -> None:
        if not self.allows(value):
            raise self.error(value if shown is None else shown)

    def allows(self, value: object) -> bool:
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            return False
        if self.kind is int and not float(value).is_integer():
            return False
        return (value > self.low if self.low_open else value >= self.low) and value <= self.high

    def error(self, shown: object) -> ConfigError:
        return ConfigError(
            f"{self.env}={str(shown)!r} is not allowed: it must be {self.allowed()}. "
            f"Set it to e.g. {self.example}, or unset it for the default."
        )


LIMITS = {
    "top_k": Limit("ASSISTANT_TOP_K", int, 1, 100, example="8"),
    "max_file_mb": Limit("ASSISTANT_MAX_FILE_MB", float, 0, 1000, low_open=True, unit=" (MB)", example="10"),
    "request_timeout": Limit(
        "ASSISTANT_REQUEST_TIMEOUT", float, 0, 3600, low_open=True, unit=" (seconds)", example="60"
    ),
    "lock_timeout": Limit("ASSISTANT_LOCK_TIMEOUT", float, 0, 86400, low_open=True, unit=" (seconds)", example="30"),
    "max_retries": Limit("ASSISTANT_MAX_RETRIES", int, 0, 10, example="2"),
    "refusal_threshold": Limit(
        "ASSISTANT_REFUSAL_THRESHOLD", float, 0, 2, example="0.8 (lower answers more, higher refuses more)"
    ),
    "port": Limit("ASSISTANT_PORT", int, 1, 65535, example="7860"),
}
FALLBACKS = {"port": ("GRADIO_SERVER_PORT",)}  # Gradio's own variable, read when ASSISTANT_PORT is not set
COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


KEEP_ALIVE_DEFAULT = 600.0  # seconds: Ollama's convention (5 min there); 0 = the model stops with the command
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h)?", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_keep_alive(raw: str | None) -> float:
    """ASSISTANT_MODEL_KEEP_ALIVE: seconds, or a number with s, m or h ("90", "10m", "1h"); 0 stops the model with
    the command that started it."""
    if raw is None:
        return KEEP_ALIVE_DEFAULT
    match = _DURATION.fullmatch(raw.strip())
    seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()] if match else -1.0
    if not match or seconds > 7 * 86400:
        raise ConfigError(
            f"ASSISTANT_MODEL_KEEP_ALIVE={raw!r} is not allowed: it must be a time from 0 to 7 days, in seconds or "
            "with s, m or h. Set it to e.g. 10m (the default), 0 (stop the model with the command), or unset it."
        )
    return seconds


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (_get(env, name) or "0").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not understood; use 1 (yes) or 0 (no), or unset it (no).")


def _number(env: Mapping[str, str], field: str) -> int | float | None:
    limit = LIMITS[field]
    for name in (limit.env, *FALLBACKS.get(field, ())):
        raw = _get(env, name)
        if raw is not None:
            return replace(limit, env=name).parse(raw)
    return None


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
    port: int = 7860  # the web chat's port
    answerer: str | None = None  # "local", "openai" or "extractive"; None: chosen by llm.choice
    model_cache: str | None = None  # directory of the joined local model; None: the user's cache dir
    model_keep_alive: float = KEEP_ALIVE_DEFAULT  # seconds the shared local model stays loaded when idle
    allow_private_urls: bool = False  # fetch pages from loopback/private/link-local hosts (an intranet, tests)
    # a model's answer is also checked by the model's own yes-probability (ASSISTANT_MODEL_CHECK); None: on for the
    # local model (its bar was fitted on the public sets' fit halves with it), off for other chat models (not measured)
    model_check: bool | None = None
    # a model's answer is also refused when the reader, asked again (sampled), does not say it again
    # (ASSISTANT_READ_AGAIN=1; off by default: on the report halves and a held-out probe it gained no right outcome
    # for its time, docs/evaluation.md "The reader asked again")
    read_again: bool = False
    mcp: bool = False  # the web server also serves MCP tools (`assistant serve --mcp`, ASSISTANT_MCP=1)
    condense: str | None = None  # follow-ups: "model" (rewritten by the chat model), "conversation" (read with
    # the earlier turns, no extra call) or "named" (as "conversation", a pronoun replaced by the last turn's name);
    # None: "model" for OpenAI, "conversation" for the local model (measured)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: str | float | bool | None) -> Settings:
        """Every variable is checked as it is read: a bad one is a `ConfigError` naming it, its value
        and what is allowed. `overrides`: fields set in place of what the environment says (checked alike)."""
        env = os.environ if env is None else env
        numbers: dict[str, Any] = {name: value for name in LIMITS if (value := _number(env, name)) is not None}
        settings = cls(
            index_dir=_text(env, "ASSISTANT_INDEX_DIR", "index"),
            articles_dir=_text(env, "ASSISTANT_ARTICLES_DIR", "articles"),
            chroma_url=_get(env, "ASSISTANT_CHROMA_URL"),
            embeddings=_text(env, "ASSISTANT_EMBEDDINGS", "local"),
            openai_api_key=_get(env, "OPENAI_API_KEY"),
            openai_base_url=_get(env, "OPENAI_BASE_URL"),
            chat_model=_text(env, "ASSISTANT_CHAT_MODEL", "gpt-4o-mini"),
            collection=_text(env, "ASSISTANT_COLLECTION", "articles"),
            prompts_dir=_text(env, "ASSISTANT_PROMPTS_DIR", str(PROMPTS_DIR)),
            auth=_get(env, "ASSISTANT_AUTH"),
            **numbers,
            answerer=_get(env, "ASSISTANT_ANSWERER"),
            model_cache=_get(env, "ASSISTANT_MODEL_CACHE"),
            model_keep_alive=parse_keep_alive(_get(env, "ASSISTANT_MODEL_KEEP_ALIVE")),
            allow_private_urls=_flag(env, "ASSISTANT_ALLOW_PRIVATE_URLS"),
            mcp=_flag(env, "ASSISTANT_MCP"),
            model_check=_flag(env, "ASSISTANT_MODEL_CHECK") if _get(env, "ASSISTANT_MODEL_CHECK") is not None else None,
            condense=_get(env, "ASSISTANT_CONDENSE"),
            read_again=_flag(env, "ASSISTANT_READ_AGAIN"),
        )
        settings = _replaced(settings, overrides) if overrides else settings
        settings.validate()
        return settings

    def validate(self) -> None:
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if value is not None:
                limit.check(value)
        if not (isinstance(self.model_keep_alive, int | float) and 0 <= self.model_keep_alive <= 7 * 86400):
            raise ConfigError(
                f"model_keep_alive={self.model_keep_alive!r} is not allowed: use 0 to 604800 seconds, e.g. 600."
            )
        if self.chroma_url:
            parsed = urlparse(self.chroma_url if "//" in self.chroma_url else f"http://{self.chroma_url}")
            if not parsed.hostname or parsed.scheme not in ("http", "https"):
                raise ConfigError(
                    f"ASSISTANT_CHROMA_URL={self.chroma_url!r} is not a URL; use e.g. http://127.0.0.1:8000."
                )
        if self.openai_base_url:
            parsed = urlparse(self.openai_base_url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ConfigError(
                    f"OPENAI_BASE_URL={self.openai_base_url!r} is not an http(s) URL; use e.g. "
                    "http://127.0.0.1:8080/v1, or unset it to use OpenAI itself."
                )
        if not (self.embeddings == "local" or self.embeddings.startswith("openai:")):
            raise ConfigError(
                f"ASSISTANT_EMBEDDINGS={self.embeddings!r} is not understood; "
                "use 'local' (default) or 'openai:<model>', e.g. openai:text-embedding-3-small."
            )
        if not COLLECTION.fullmatch(self.collection or ""):
            raise ConfigError(
                f"ASSISTANT_COLLECTION={self.collection!r} is not allowed: use letters, digits, '.', '_' and '-' "
                "(starting with a letter or digit, at most 200 characters), e.g. articles."
            )
        if self.condense not in (None, *CONDENSE_CHOICES):
            raise ConfigError(
                f"ASSISTANT_CONDENSE={self.condense!r} is not understood; use 'model' (a chat model rewrites a "
                "follow-up as a standalone question), 'conversation' (it is read with the earlier turns) or 'named' "
                "(read with the earlier turns, its pronoun replaced by the name the last turn is about), "
                "or unset it for the default."
            )
        if self.auth is not None:
            user, _, password = self.auth.partition(":")
            if not user.strip() or not password:
                raise ConfigError(
                    "ASSISTANT_AUTH must look like user:password, with both parts non-empty "
                    "(its value is not shown: it is a secret)."
                )

    @property
    def uses_llm(self) -> bool:
        """A language model answers when an API key or a base URL is configured."""
        return bool(self.openai_api_key or self.openai_base_url)

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
            if value:  # an API key's last 4 characters tell keys apart; nothing of a password is shown
                long_key = name == "openai_api_key" and len(str(value)) >= 20
                out[name] = "****" + str(value)[-4:] if long_key else "****"
        return out


Fields = TypeVar("Fields", bound="DataclassInstance")


def _replaced(obj: Fields, changes: Mapping[str, object]) -> Fields:
    """`dataclasses.replace`, for changes whose values are not known field by field: `Settings.from_env`'s
    overrides, checked after by `Settings.validate` as the environment's values are."""
    return replace(obj, **changes)

"""Provider errors: the one place where openai/httpx exceptions become ours.

Used by the chat models and by the OpenAI embeddings alike.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from assistant.errors import (
    AssistantError,
    ModelAuthError,
    ModelError,
    ModelRateLimitError,
    ModelTimeoutError,
    ModelUnavailableError,
)


def translate_provider_error(exc: BaseException, what: str = "chat model") -> AssistantError:
    """An `AssistantError` with a message a person can act on, for any exception from a provider call."""
    if isinstance(exc, AssistantError):
        return exc
    import openai

    where = _where(exc)
    model_var = "ASSISTANT_EMBEDDINGS" if "embedding" in what else "ASSISTANT_CHAT_MODEL"
    status = getattr(exc, "status_code", None)
    detail = _detail(exc)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError) or status in (401, 403):
        return ModelAuthError(f"the {what}{where} refused the API key (HTTP {status}); check OPENAI_API_KEY{detail}")
    if isinstance(exc, openai.RateLimitError) or status == 429:
        if "quota" in detail.lower():
            return ModelRateLimitError(
                f"the {what}{where} says the account's quota is used up (HTTP 429); "
                f"check the plan and billing of OPENAI_API_KEY{detail}"
            )
        return ModelRateLimitError(
            f"the {what}{where} is rate-limiting requests (HTTP 429) and the retries "
            "ran out; wait a minute and ask again, or raise ASSISTANT_MAX_RETRIES"
        )
    if isinstance(exc, openai.APITimeoutError | TimeoutError) or _is_http_error(exc, "Timeout"):
        return ModelTimeoutError(
            f"the {what}{where} did not answer in time; try again, check that the "
            "server is not overloaded, or raise ASSISTANT_REQUEST_TIMEOUT"
        )
    if isinstance(exc, openai.APIConnectionError | ConnectionError) or _is_http_error(exc, "Error"):
        return ModelUnavailableError(
            f"cannot reach the {what}{where}; check OPENAI_BASE_URL and that the server is running"
        )
    if isinstance(status, int) and status >= 500:
        return ModelUnavailableError(f"the {what}{where} failed (HTTP {status}); try again later{detail}")
    if isinstance(exc, openai.NotFoundError) or status == 404:
        return ModelError(
            f"the {what}{where} does not know the model or path (HTTP 404); check "
            f"{model_var} and OPENAI_BASE_URL (it usually ends in /v1){detail}"
        )
    if isinstance(status, int):
        return ModelError(f"the {what}{where} rejected the request (HTTP {status}){detail}")
    return ModelError(f"the {what} call failed ({type(exc).__name__}{detail}); check OPENAI_BASE_URL and {model_var}")


def _where(exc: BaseException) -> str:
    try:
        url = str(exc.request.url)  # type: ignore[attr-defined]
    except Exception:
        return ""
    parts = urlsplit(url)
    return f" at {parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _detail(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    if not message and isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
    message = " ".join(str(message or "").split())
    return f" (server said: {message[:200]})" if message else ""


def _is_http_error(exc: BaseException, suffix: str) -> bool:
    cls = type(exc)
    return cls.__module__.split(".")[0] in ("httpx", "httpx2", "httpcore") and any(
        c.__name__.endswith(suffix) for c in cls.__mro__
    )

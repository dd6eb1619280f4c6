"""Our own error types. Each message says what happened and what to do about it.

Provider and database exceptions are translated into these in one place each
(`client.translate_chroma_error`, `providers.translate_provider_error`); the CLI and the web chat
show `str(error)` of these and nothing else.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: every error the public API raises on purpose."""


class ConfigError(AssistantError):
    """A setting is missing or malformed."""


class InputError(AssistantError):
    """A question, path or file the caller gave cannot be used."""


class IndexMismatchError(AssistantError):
    """The index was built with another embedding model or dimension."""


class IndexUnavailableError(AssistantError):
    """The Chroma store cannot be reached, opened or written."""


class IndexEmptyError(AssistantError):
    """No article is indexed yet, so there is nothing to answer from."""


class IndexBusyError(AssistantError):
    """Another process holds the index's write lock."""


class ModelError(AssistantError):
    """The language model (OpenAI or compatible server) failed."""


class ModelAuthError(ModelError):
    """The model server refused the credentials."""


class ModelRateLimitError(ModelError):
    """The model server asked us to slow down and retries ran out."""


class ModelTimeoutError(ModelError):
    """The model server did not answer in time."""


class ModelUnavailableError(ModelError):
    """The model server could not be reached or failed (5xx)."""


class AnswerMissingError(AssistantError):
    """An answerer ended without a final answer (a bug, reported rather than hidden)."""


class LocalModelError(AssistantError):
    """The bundled local model cannot be used: not installed, corrupt, no memory, or its server failed.

    The answerer choice turns it into "falling back to extractive because <message>"."""


def require_utf8(text: str, what: str) -> str:
    """`text` as it is when it can be UTF-8. A lone surrogate (a byte mis-decoded upstream, such as "\\udcff")
    cannot be tokenised, stored or shown: it becomes this clear InputError rather than a TypeError deep inside."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"the {what} is not valid UTF-8 text (it holds a lone surrogate, such as a mis-decoded byte); "
            "check the encoding of what sends it and send it again"
        ) from None
    return text

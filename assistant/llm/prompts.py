"""Prompt templates are files in `settings.prompts_dir` (the top-level `prompts/` folder), loaded by name.

A template is plain text with `{name}` placeholders (Python `str.format` syntax; write `{{` and
`}}` for literal braces). Values are inserted as they are: braces inside a value (an article's
text, a question) are never interpreted. A missing file, a placeholder the code does not fill, or
a template that lacks a placeholder the code needs fails loudly with a `ConfigError`.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError

SUFFIX = ".txt"


@dataclass(frozen=True)
class Prompt:
    name: str
    path: Path
    text: str
    variables: frozenset[str]

    def render(self, **values: object) -> str:
        missing = sorted(self.variables - values.keys())
        if missing:
            raise ConfigError(
                f"prompt template {self.path} uses {', '.join('{' + m + '}' for m in missing)}, "
                f"which the code does not fill (it fills: {', '.join(sorted(values)) or 'nothing'}); "
                "fix the template or restore it from the repository."
            )
        return self.text.format_map({k: values[k] for k in self.variables})


class Prompts:
    """Loads `<directory>/<name>.txt`. Nothing is read until a template is asked for."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def load(self, name: str, required: Iterable[str] = ()) -> Prompt:
        path = self.directory / f"{name}{SUFFIX}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"prompt template '{name}' not found at {path}; restore it from the repository's prompts/ "
                "folder or point ASSISTANT_PROMPTS_DIR at a folder that has it."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"prompt template {path} cannot be read ({exc.__class__.__name__}); "
                "check the file's permissions and that it is UTF-8 text."
            ) from None
        variables = _placeholders(path, text)
        lacking = sorted(set(required) - variables)
        if lacking:
            raise ConfigError(
                f"prompt template {path} lacks {', '.join('{' + v + '}' for v in lacking)}; "
                "without it the model would not see what it needs. Restore the template from the repository."
            )
        return Prompt(name, path, text, frozenset(variables))


def _placeholders(path: Path, text: str) -> set[str]:
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(
            f"prompt template {path} is malformed ({exc}); write literal braces as {{{{ and }}}}."
        ) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ConfigError(
                f"prompt template {path} has the placeholder {{{field}}}; use plain names like {{question}} "
                "(and {{ }} for literal braces)."
            )
        names.add(field)
    return names

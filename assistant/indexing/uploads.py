"""Uploads into the articles folder: a safe name, checked before anything in the folder changes.

An upload is read and parsed from where it was received; only a file that would be indexed is
written, under a new name when the folder already holds a different file of that name, so a good
article is never overwritten or deleted by an upload. Writes go to a hidden temporary file first and
are linked into place, which fails rather than replaces when the name has been taken meanwhile.

`add_uploads` is the whole workflow behind `Assistant.upload`: each file checked and saved on its own (a
refused file never stops the others), then the saved ones indexed together; a file this upload created
and the indexer refused is deleted again.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import stat
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError, InputError
from assistant.indexing.parse.loaders import SUPPORTED, load_file
from assistant.indexing.parse.sentences import PysbdBudget, split_sentences
from assistant.indexing.sources.files import read_bytes
from assistant.records import IngestReport, Rejection, Upload, UploadReport

MAX_NAME = 120  # characters in a stored upload's name, extension included
_MAX_NAME_BYTES = 200  # and UTF-8 bytes (file systems allow 255)
_MAX_SUFFIX = 12
_ATTEMPTS = 1000


@dataclass(frozen=True)
class Saved:
    path: Path  # where the upload now is, inside the articles folder
    created: bool  # False when the folder already held this very file
    note: str = ""  # said to the person, e.g. that the upload got another name


def safe_name(name: str, limit: int = MAX_NAME) -> str:
    """A file name that stays inside the articles folder: no folders, no `..`, not hidden, no leading
    dash, at most `limit` characters, and the extension kept when the name is cut."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = re.sub(r"[^\w.\- ]+", "-", base)
    base = re.sub(r"\.{2,}", ".", base).lstrip(" .-").rstrip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or len(suffix) > _MAX_SUFFIX:
        stem, suffix = base, ""
    suffix = f".{suffix}" if suffix else ""
    stem = stem[: max(limit - len(suffix), 1)]
    while stem and len((stem + suffix).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return f"{stem}{suffix}" if stem else "upload.txt"


def save_upload(received: Path, name: str, folder: Path, max_bytes: int) -> Saved:
    """Check the received file as the indexer would, then place it in `folder`; InputError says why not."""
    name = safe_name(name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"unsupported file type '{suffix or name}'; use one of {', '.join(SUPPORTED)}")
    data = read_bytes(received, max_bytes)
    articles = load_file(received, max_bytes, name=name)
    budget = PysbdBudget()
    if not any(split_sentences(a, budget) for a in articles):
        raise InputError("no sentences found in the text")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.parent != folder:
        raise InputError("that file name is not allowed; rename the file and upload it again")
    if _same_file(target, received):
        return Saved(target, created=False)
    stem, ext = target.stem, target.suffix
    for n in range(1, _ATTEMPTS + 1):
        candidate = target if n == 1 else folder / safe_name(f"{stem}-{n}{ext}")
        if _place(data, candidate):
            note = (
                ""
                if n == 1
                else (f"{name} was saved as {candidate.name}: the articles folder already holds a different {name}")
            )
            return Saved(candidate, created=True, note=note)
    raise InputError(f"the articles folder already holds {_ATTEMPTS} files named like {name}; rename the file")


def add_uploads(
    files: Sequence[Upload], folder: Path, max_bytes: int, ingest: Callable[[list[str]], IngestReport]
) -> UploadReport:
    """Save each upload that would be indexed into `folder` (see `save_upload`), then `ingest` the saved ones.

    An error of `ingest` itself (e.g. the index is busy) propagates; the saved files stay, so the same upload
    tried again finds them and indexes them."""
    shown: dict[str, str] = {}  # stored path -> the name shown to the person
    created: set[str] = set()  # files this upload wrote (only these are ever deleted again)
    refused: list[Rejection] = []
    notes: list[str] = []
    for upload in files:
        try:  # checked before anything in the articles folder changes
            saved = save_upload(Path(upload.path), upload.name, folder, max_bytes)
        except AssistantError as exc:
            refused.append(Rejection(safe_name(upload.name), str(exc)))
            continue
        except OSError as exc:
            refused.append(
                Rejection(safe_name(upload.name), f"could not be saved ({exc.strerror or 'file system error'})")
            )
            continue
        shown[str(saved.path)] = saved.path.name
        if saved.created:
            created.add(str(saved.path))
        if saved.note:
            notes.append(saved.note)
    report = ingest(list(shown)) if shown else IngestReport()
    for r in report.rejected:
        refused.append(Rejection(shown.get(r.path, Path(r.path).name), r.reason))
        if r.path in created:
            Path(r.path).unlink(missing_ok=True)  # this upload's own new file, refused on indexing
    return UploadReport(report, tuple(refused), tuple(notes))


def _same_file(target: Path, received: Path) -> bool:
    try:
        if not stat.S_ISREG(target.lstat().st_mode):
            return False
        return filecmp.cmp(target, received, shallow=False)
    except OSError:
        return False


def _place(data: bytes, target: Path) -> bool:
    """Write `data` under `target` unless that name exists (a file, a folder or a link); False if it does."""
    if os.path.lexists(target):
        return False
    part = target.with_name(f".upload-{uuid.uuid4().hex}.part")  # hidden: rebuild and watch skip it
    try:
        with open(part, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(part, target)  # atomic, and never replaces an existing name
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links
            if os.path.lexists(target):
                return False
            shutil.copyfile(part, target)
        return True
    finally:
        part.unlink(missing_ok=True)

"""Which files a folder means, and reading one file safely.

The rule: a folder given to `ingest`, `rebuild` or `watch` means that folder. Only regular files
whose resolved path lies inside it are read; a link that leads out of it is rejected ("links outside
the folder are not followed"), a link inside it is read once (as the file it points to), special
files (FIFOs, sockets, devices) and unreadable files are rejected without being opened, and hidden
files and folders (names starting with ".") are skipped, and so are Chroma stores (the index folder
itself, when it lies inside the articles folder). A file named explicitly is the caller's own
choice and is read wherever it lives, as long as it is a regular file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.errors import InputError
from assistant.records import Rejection

MB = 1_000_000  # the unit of ASSISTANT_MAX_FILE_MB, for files and uploads alike
OUTSIDE = "links outside the folder are not followed"
CHROMA_DB = "chroma.sqlite3"  # the file every Chroma store folder holds
INDEX_FOLDER = "a Chroma index folder, not a folder of articles; give the folder that holds the article files"
NOT_UTF8_NAME = "the file name is not valid UTF-8; rename the file (e.g. with convmv)"
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def max_bytes(max_file_mb: float) -> int:
    return int(max_file_mb * MB)


def size_problem(size: int, limit: int) -> str | None:
    """The one wording of the size limit, used for files and uploads."""
    if size <= limit:
        return None
    return (
        f"file is {_over(size, limit)} MB, over the {limit / MB:g} MB limit (ASSISTANT_MAX_FILE_MB, "
        "1 MB = 1,000,000 bytes); split it into smaller articles"
    )


def _over(size: int, limit: int) -> str:
    """`size` in MB with as many decimals as it takes to read as more than `limit` (10.5; 1.000001, not 1.0)."""
    for digits in range(1, 7):
        text = f"{size / MB:.{digits}f}"
        if float(text) * MB > limit:
            return text
    return f"{size / MB:.6f}"


def not_regular(mode: int) -> str | None:
    for test, kind in _KINDS:
        if test(mode):
            return f"{kind}, not a regular file; only regular files are read"
    return None if stat.S_ISREG(mode) else "not a regular file; only regular files are read"


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path | Rejection]:
    """Files to read from the given files and folders, each real file once; problems become rejections."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            is_dir = path.is_dir()
        except OSError:
            is_dir = False
        if is_dir and is_index(path):
            yield _printable(Rejection(str(path), INDEX_FOLDER))
            continue
        for item in _folder(path, seen) if is_dir else _explicit(path, seen):
            yield _printable(item)


def is_index(folder: Path) -> bool:
    """A Chroma store (this index, or another): its files are Chroma's own, never articles."""
    try:
        return (folder / CHROMA_DB).is_file()
    except OSError:
        return False


def _printable(item: Path | Rejection) -> Path | Rejection:
    """Linux allows any bytes in a name, and Python reads those that are not UTF-8 as lone surrogates, which no
    record can store and no terminal can print: such a file is rejected, its name shown with U+FFFD."""
    if isinstance(item, Rejection):
        return item if _utf8(item.path) else Rejection(shown(item.path), item.reason)
    return item if _utf8(str(item)) else Rejection(shown(str(item)), NOT_UTF8_NAME)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """`text` printable: bytes that are not UTF-8 (read as lone surrogates) become U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return text.encode("utf-8", "replace").decode("utf-8")


def _explicit(path: Path, seen: set[Path]) -> Iterator[Path | Rejection]:
    try:
        real = path.resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError) as exc:
        yield Rejection(str(path), _missing_reason(path, exc))
        return
    problem = not_regular(mode) or _unreadable(real)
    if problem:
        yield Rejection(str(path), problem)
    elif real not in seen:
        seen.add(real)
        yield path


def _folder(folder: Path, seen: set[Path]) -> Iterator[Path | Rejection]:
    root = folder.resolve()
    entries: list[tuple[Path, bool]] = []  # (path, is a link), regular files first so they claim their name
    rejected: list[Rejection] = []
    for here, dirs, files in os.walk(folder, onerror=None, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not is_index(Path(here) / d))
        for name in list(dirs):
            path = Path(here) / name
            if path.is_symlink():  # not walked: its files are reached by their real path, if inside
                dirs.remove(name)
                if not _inside(path, root):
                    rejected.append(Rejection(str(path), OUTSIDE))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(here) / name
            try:
                st = path.lstat()
            except OSError as exc:
                rejected.append(Rejection(str(path), f"cannot be read ({exc.strerror or exc})"))
                continue
            if stat.S_ISLNK(st.st_mode):
                entries.append((path, True))
            elif not stat.S_ISREG(st.st_mode):
                rejected.append(Rejection(str(path), not_regular(st.st_mode) or "not a regular file"))
            else:
                entries.append((path, False))
    entries.sort(key=lambda e: (e[1], str(e[0])))
    for path, is_link in entries:
        item = _link(path, root) if is_link else path
        if isinstance(item, Rejection):
            rejected.append(item)
            continue
        real = item.resolve()
        problem = _unreadable(real)
        if problem:
            rejected.append(Rejection(str(path), problem))
        elif real not in seen:
            seen.add(real)
            yield path
    yield from rejected


def _link(path: Path, root: Path) -> Path | Rejection:
    try:
        real = path.resolve(strict=True)
    except RuntimeError:
        return Rejection(str(path), "a symlink loop; remove or fix the link")
    except OSError as exc:
        return Rejection(str(path), _missing_reason(path, exc))
    if not real.is_relative_to(root):
        return Rejection(str(path), OUTSIDE)
    problem = not_regular(real.stat().st_mode)
    return Rejection(str(path), problem) if problem else path


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def _unreadable(path: Path) -> str | None:
    return None if os.access(path, os.R_OK) else "cannot be read (permission denied); check the file's permissions"


def _missing_reason(path: Path, exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == 40:  # ELOOP
        return "a symlink loop; remove or fix the link"
    if path.is_symlink():
        return "a link to a file that does not exist; remove or fix the link"
    return "no such file or folder; check the path"


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, opened without blocking (a FIFO swapped in meanwhile is refused, never waited on)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        problem = not_regular(st.st_mode) or size_problem(st.st_size, limit)
        if problem:
            raise InputError(problem)
        data = handle.read(limit + 1)
    problem = size_problem(len(data), limit)  # the file grew while we read it
    if problem:
        raise InputError(problem)
    return data

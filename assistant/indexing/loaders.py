"""Load article files (.txt, .md, .html, .json, .jsonl) into normalised `Article` records."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.errors import InputError
from assistant.records import Article, Rejection

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n{3,}")
_SLUG = re.compile(r"[^a-z0-9._-]+")


def normalise(text: str) -> str:
    """Unicode NFC, one space between words, at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def slug(name: str) -> str:
    """A stable article id from a file name: lower case, no spaces or odd characters."""
    value = _SLUG.sub("-", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower())
    return value.strip("-.") or "article"


def content_hash(article: Article) -> str:
    parts = [article.title, article.text, article.url, article.published]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path | Rejection]:
    """Files below the given files and folders, sorted; missing paths become rejections."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in rel):
                    yield child
        elif path.is_file():
            yield path
        elif path.exists():
            yield Rejection(str(path), "not a regular file")
        else:
            yield Rejection(str(path), "no such file or folder; check the path")


def read_text(path: Path, max_bytes: int) -> str:
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
            "(ASSISTANT_MAX_FILE_MB); split it into smaller articles"
        )
    data = path.read_bytes()
    if not data.strip():
        raise InputError("file is empty")
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not text; convert it to .txt, .md, .html or .json")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (undecodable byte at position {exc.start}); save the file as UTF-8"
        ) from None


def _title_and_body(text: str, fallback: str) -> tuple[str, str]:
    """The first line when it reads like a headline (short, no full stop); else the file name."""
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= 120 and first[-1] not in ".!?\"'":
        return first, text
    name = re.sub(r"[-_]+", " ", fallback).strip()
    return (name[:1].upper() + name[1:]) if name else "Untitled", text


_MD_RULES = [
    (re.compile(r"^```.*$", re.M), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.M), ""),
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),
    (re.compile(r"^\s*[-*+]\s+", re.M), ""),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"^\s*([-*_]\s*){3,}$", re.M), ""),
]


def _markdown(raw: str, fallback: str) -> tuple[str, str]:
    heading = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", raw, re.M)
    text = raw
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    text = normalise(text)
    title = normalise(heading.group(1)) if heading else _title_and_body(text, fallback)[0]
    return title, text


_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
               "article", "header", "footer", "blockquote", "pre", "table", "ul", "ol")


def _html(raw: str, fallback: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg", "head"]):
        if tag.name == "head":
            title_tag = tag.find("title")
            title_text = title_tag.get_text(" ", strip=True) if title_tag else ""
            tag.decompose()
            if title_text:
                soup.attrs["data-title"] = title_text
            continue
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = normalise(soup.get_text())
    h1 = soup.find("h1")
    title = soup.attrs.get("data-title") or (h1.get_text(" ", strip=True) if h1 else "")
    return (normalise(title) if title else _title_and_body(text, fallback)[0]), text


def _json_records(raw: str, suffix: str) -> list[dict]:
    if suffix == ".jsonl":
        records = []
        for lineno, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON on line {lineno}: {exc.msg}") from None
        return records
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return data if isinstance(data, list) else [data]


def _json(raw: str, path: Path) -> list[Article]:
    records = _json_records(raw, path.suffix.lower())
    if not records:
        raise InputError("no articles in this JSON file")
    articles = []
    for n, rec in enumerate(records, 1):
        where = f"record {n}" if len(records) > 1 else "the JSON object"
        if not isinstance(rec, dict):
            raise InputError(f"{where} is not an object with a 'text' field")
        text = rec.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where} has no non-empty 'text' string")
        text = normalise(text)
        raw_id = rec.get("id", rec.get("doc_id"))
        art_id = str(raw_id).strip() if raw_id not in (None, "") else (
            slug(path.stem) if len(records) == 1 else f"{slug(path.stem)}-{n}"
        )
        title = rec.get("title")
        title = normalise(str(title)) if title else _title_and_body(text, art_id)[0]
        articles.append(Article(
            id=art_id, title=title, text=text, source=str(path.resolve()),
            url=str(rec.get("url") or ""), published=str(rec.get("published") or ""),
        ))
    return articles


def load_file(path: Path, max_bytes: int) -> list[Article]:
    """The article(s) in one file; raises InputError with the reason it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"unsupported file type '{suffix or path.name}'; use one of {', '.join(SUPPORTED)}")
    raw = read_text(path, max_bytes)
    if suffix in (".json", ".jsonl"):
        return _json(raw, path)
    fallback = path.stem
    if suffix in (".md", ".markdown"):
        title, text = _markdown(raw, fallback)
    elif suffix in (".html", ".htm"):
        title, text = _html(raw, fallback)
    else:
        text = normalise(raw)
        title, _ = _title_and_body(text, fallback)
    if not text:
        raise InputError("no text left after removing markup")
    return [Article(id=slug(path.stem), title=title, text=text, source=str(path.resolve()))]

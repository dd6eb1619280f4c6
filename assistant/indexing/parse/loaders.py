"""Load article files (.txt, .md, .html, .json, .jsonl) into normalised `Article` records.

Any problem with one file (or one JSON record) becomes an `InputError` with the reason; the caller
rejects that file or record and goes on with the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

from assistant.errors import InputError
from assistant.indexing.parse.markup import markdown_text
from assistant.indexing.parse.pages import Page, read_page
from assistant.indexing.sources.files import read_bytes
from assistant.records import Article, Rejection

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
MAX_ID = 200  # characters in an article id (record ids add about 30)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n{3,}")
_SLUG = re.compile(r"[^a-z0-9._-]+")
_WORDY_SLUG = re.compile(r"[^\w.-]+")
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def normalise(text: str) -> str:
    """Unicode NFC, one space between words, at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def slug(name: str) -> str:
    """A stable article id from a file name, unique for different names in any script.

    Latin names are folded to ASCII ("Ñandú" -> "nandu"), as ids always were. A name with letters of
    another script keeps them ("東京の雨" -> "東京の雨"); when a name loses characters that no id can hold
    (emoji, symbols), a short hash of the whole name keeps two such names apart.
    """
    folded = unicodedata.normalize("NFKD", name)
    if all(ord(ch) < 128 or unicodedata.combining(ch) for ch in folded):
        return _SLUG.sub("-", folded.encode("ascii", "ignore").decode().lower()).strip("-.") or "article"
    composed = unicodedata.normalize("NFKC", name).lower()
    value = _WORDY_SLUG.sub("-", composed).strip("-.")
    lost = any(not (ch.isalnum() or ch.isspace() or ord(ch) < 128 or unicodedata.combining(ch)) for ch in composed)
    if lost or not value:
        digest = hashlib.sha256(unicodedata.normalize("NFC", name).encode("utf-8")).hexdigest()[:8]
        value = f"{value}-{digest}" if value else f"article-{digest}"
    return value[:MAX_ID]


def check_id(raw: object) -> str:
    """An article id given in a JSON record, trimmed; refused when empty, too long or with control characters."""
    value = str(raw).strip()
    if not value:
        raise InputError("has an empty 'id'; give it a non-empty id or leave 'id' out to number the records")
    if len(value) > MAX_ID:
        raise InputError(f"has an 'id' of {len(value)} characters; ids may have at most {MAX_ID}")
    if _CONTROL.search(value) or "\n" in value or "\r" in value:
        raise InputError("has an 'id' with control characters; use printable characters only")
    return value


def content_hash(article: Article) -> str:
    parts = [article.title, article.text, article.url, article.published]
    parts += [p for p in (article.site, article.author) if p]  # absent: the hash articles had before these fields
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped); UTF-16/32 and binary files are named as such."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise InputError(f"{name} text; save the file as UTF-8 (most editors offer it under 'Save as')")
    if not data.strip():
        raise InputError("file is empty")
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not text; convert it to .txt, .md, .html or .json")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (undecodable byte at position {exc.start}); save the file as UTF-8") from None


def read_text(path: Path, max_bytes: int) -> str:
    return decode(read_bytes(path, max_bytes))


def _title_and_body(text: str, fallback: str) -> tuple[str, str]:
    """The first line when it reads like a headline (short, no full stop); else the file name."""
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= 120 and first[-1] not in ".!?\"'":
        return first, text
    name = re.sub(r"[-_]+", " ", fallback).strip()
    return (name[:1].upper() + name[1:]) if name else "Untitled", text


def _parse_json(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON {where.format(line=exc.lineno, col=exc.colno)}: {exc.msg}") from None
    except RecursionError:
        raise InputError(
            f"JSON nested too deeply {where.format(line='?', col='?')}; an article is a flat object"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"JSON that cannot be read {where.format(line='?', col='?')} ({exc})") from None


def _json_records(raw: str, suffix: str) -> list[object]:
    if suffix == ".jsonl":
        return [_parse_json(line, f"on line {n}") for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    data = _parse_json(raw, "at line {line}, column {col}")
    return data if isinstance(data, list) else [data]


def _record(rec: object, n: int, total: int, path: Path, stem: str) -> Article:
    if not isinstance(rec, dict):
        raise InputError("is not an object with a 'text' field")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("has no non-empty 'text' string")
    text = normalise(text)
    if not text:
        raise InputError("has no text left after removing control characters")
    raw_id = rec.get("id", rec.get("doc_id"))
    if raw_id is None or raw_id == "":
        art_id = slug(stem) if total == 1 else f"{slug(stem)}-{n}"
    else:
        art_id = check_id(raw_id)
    title = rec.get("title")
    title = normalise(str(title)) if title else _title_and_body(text, art_id)[0]
    return Article(
        id=art_id,
        title=title,
        text=text,
        source=str(path.resolve()),
        url=str(rec.get("url") or ""),
        published=str(rec.get("published") or ""),
    )


def _json(raw: str, path: Path, name: Path, rejected: list[Rejection] | None) -> list[Article]:
    records = _json_records(raw, name.suffix.lower())
    if not records:
        raise InputError("no articles in this JSON file")
    articles = []
    for n, rec in enumerate(records, 1):
        where = f"record {n}" if len(records) > 1 else "the JSON object"
        try:
            articles.append(_record(rec, n, len(records), path, name.stem))
        except InputError as exc:
            if rejected is None or len(records) == 1:
                raise InputError(f"{where} {exc}") from None
            rejected.append(Rejection(f"{path} (record {n})", f"{where} {exc}"))
    if not articles:
        raise InputError("none of its records can be used (each is listed with its reason)")
    return articles


def load_file(
    path: Path, max_bytes: int, rejected: list[Rejection] | None = None, name: str | None = None
) -> list[Article]:
    """The article(s) in one file; raises InputError with the reason it cannot be used.

    With `rejected`, a JSON record that cannot be used is added there and the file's other records load.
    `name` reads the file as if it had that name (an upload, checked before it is stored).
    """
    named = Path(name) if name else path
    suffix = named.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"unsupported file type '{suffix or named.name}'; use one of {', '.join(SUPPORTED)}")
    raw = read_text(path, max_bytes)
    if suffix in (".json", ".jsonl"):
        return _json(raw, path, named, rejected)
    fallback = named.stem
    if suffix in (".md", ".markdown"):
        heading, body = markdown_text(raw)
    elif suffix in (".html", ".htm"):
        return [page_article(read_page(raw), slug(named.stem), str(path.resolve()))]
    else:
        heading, body = "", raw
    text = normalise(body)
    if not text:
        raise InputError("no text left after removing markup")
    title = normalise(heading) if heading else _title_and_body(text, fallback)[0]
    return [Article(id=slug(named.stem), title=title or fallback, text=text, source=str(path.resolve()))]


def page_article(page: Page, article_id: str, source: str) -> Article:
    """The article of a page read by `pages.read_page` (a saved .html file, or a page fetched by URL)."""
    text = normalise(page.text)
    if not text:
        raise InputError("no text left after removing markup")
    title = normalise(page.title) or _title_and_body(text, article_id)[0] or article_id
    return Article(
        id=article_id,
        title=title,
        text=text,
        source=source,
        url=page.url,
        published=page.published,
        site=normalise(page.site),
        author=normalise(page.author),
    )

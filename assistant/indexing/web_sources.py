"""Articles from the web: a page by its URL, or every item of an RSS or Atom feed.

A page's article id comes from its canonical address (host and path, readable: "courier.example.org-news-2026-
harbour-reopens"), so the same story fetched again is the same article: unchanged, it costs nothing; changed,
it replaces its records, as a file does. A feed item that fails is a rejection; the others are read.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urljoin, urlsplit

from assistant.errors import InputError
from assistant.indexing.fetch import FEED_TYPES, Fetched, fetch
from assistant.indexing.loaders import MAX_ID, decode, page_article, slug
from assistant.indexing.pages import read_page
from assistant.records import Article, Rejection

MAX_FEED_ITEMS = 50  # pages read from one feed per ingest


def url_id(url: str) -> str:
    """A readable, stable article id for a page address (query and fragment left out; a hash keeps long ones apart)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    value = slug(f"{host}{parts.path}".rstrip("/").replace("/", "-"))
    if len(value) > MAX_ID - 9 or parts.query:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
        value = f"{value[: MAX_ID - 9]}-{digest}"
    return value


def _text(fetched: Fetched) -> str:
    if fetched.charset:
        try:
            return fetched.body.decode(fetched.charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(fetched.body)


def _is_feed(fetched: Fetched) -> bool:
    if fetched.content_type in FEED_TYPES:
        return True
    head = fetched.body[:512].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head)


def load_url(url: str, *, max_bytes: int, timeout: float, allow_private: bool) -> tuple[list[Article], list[Rejection]]:
    """The article at `url`, or the articles of the feed at `url` (each item's page); raises InputError when the
    address itself cannot be used."""
    fetched = fetch(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
    if not _is_feed(fetched):
        return [_page(fetched)], []
    links = feed_links(fetched)
    if not links:
        raise InputError(f"{url} is a feed with no items that link to a page")
    articles: list[Article] = []
    rejected: list[Rejection] = []
    for link in dict.fromkeys(links):
        try:
            page = fetch(link, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
            if _is_feed(page):
                raise InputError("a feed item links to another feed, not a page")
            articles.append(_page(page))
        except InputError as exc:
            rejected.append(Rejection(link, str(exc)))
    return articles, rejected


def feed_links(fetched: Fetched) -> list[str]:
    """The page addresses of a feed's items (RSS 0.9x/1.0/2.0 or Atom), newest first as the feed lists them."""
    import feedparser

    feed = feedparser.parse(fetched.body)
    links = [urljoin(fetched.url, str(e.get("link") or "")) for e in feed.entries if e.get("link")]
    return list(dict.fromkeys(links))[:MAX_FEED_ITEMS]


def is_feed(fetched: Fetched) -> bool:
    return _is_feed(fetched)


def _page(fetched: Fetched) -> Article:
    page = read_page(_text(fetched), url=fetched.url)
    address = page.url or fetched.url
    return page_article(page, url_id(address), address)

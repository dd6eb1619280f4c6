"""Articles from the web: a page by its URL, or every item of an RSS or Atom feed.

Addresses are normalised first (`sources/addresses.py`: tracking parameters, fragments, doubled slashes, default ports
and the host's case left out), so one story is one article however it was linked. A page's article id and
cited address are those it was fetched from (after redirects), or the canonical address it states when that
names the same host ("courier.example.org-news-2026-harbour-reopens"); a canonical on another host is ignored.
The same story fetched again is the same article: unchanged, it costs nothing; changed, it replaces its
records, as a file does. Every feed item is one unit of failure: an item whose link is not a valid address,
or whose page cannot be fetched or read for any reason, is a rejection with that reason; the others are read.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit

from assistant.errors import InputError
from assistant.indexing.parse.loaders import MAX_ID, decode, page_article, slug
from assistant.indexing.parse.pages import read_page
from assistant.indexing.sources.addresses import normalise_url, shown
from assistant.indexing.sources.fetch import FEED_TYPES, Fetched, fetch
from assistant.records import Article, Rejection

log = logging.getLogger(__name__)
MAX_FEED_ITEMS = 50  # pages read from one feed per ingest


def url_id(url: str) -> str:
    """A readable, stable article id for a page address (query and fragment left out; a hash keeps long ones apart).

    The address is normalised first, so the ways of writing one address give one id; an address that is already
    in normal form gives the id it always had."""
    url = normalise_url(url)
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    value = slug(f"{host}{parts.path}".rstrip("/").replace("/", "-"))
    if len(value) > MAX_ID - 9 or parts.query:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
        value = f"{value[: MAX_ID - 9]}-{digest}"
    return value


@dataclass(frozen=True)
class FeedItems:
    """A feed's item links, normalised and each once, newest first as the feed lists them; and the items whose
    link is not a valid address (rejected, with the link as written)."""

    links: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def _text(fetched: Fetched) -> str:
    if fetched.charset:
        try:
            return fetched.body.decode(fetched.charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(fetched.body)


def is_feed(fetched: Fetched) -> bool:
    if fetched.content_type in FEED_TYPES:
        return True
    head = fetched.body[:512].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head)


def fetch_safely(url: str, *, max_bytes: int, timeout: float, allow_private: bool) -> Fetched:
    """`fetch`, with any failure it did not foresee turned into an InputError naming the address (the traceback
    is logged at debug level): one address's failure is never more than that address's rejection."""
    try:
        return fetch(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
    except InputError:
        raise
    except Exception as exc:
        log.debug("fetching %s failed", url, exc_info=True)
        raise InputError(f"{shown(url)} cannot be fetched ({type(exc).__name__}: {shown(str(exc))})") from None


def load_url(url: str, *, max_bytes: int, timeout: float, allow_private: bool) -> tuple[list[Article], list[Rejection]]:
    """The article at `url`, or the articles of the feed at `url` (each item's page); raises InputError when the
    address itself cannot be used."""
    fetched = fetch_safely(normalise_url(url), max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
    if not is_feed(fetched):
        return [_page(fetched)], []
    items = feed_items(fetched)
    if not items.links and not items.rejected:
        raise InputError(f"{url} is a feed with no items that link to a page")
    articles: list[Article] = []
    rejected = list(items.rejected)
    for link in items.links:
        try:
            page = fetch_safely(link, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
            if is_feed(page):
                raise InputError("a feed item links to another feed, not a page")
            articles.append(_page(page))
        except InputError as exc:
            rejected.append(Rejection(link, str(exc)))
        except Exception as exc:  # whatever reading one item raises, it is that item's rejection
            log.debug("reading %s failed", link, exc_info=True)
            rejected.append(Rejection(link, f"cannot be read as an article ({type(exc).__name__})"))
    return articles, rejected


def feed_items(fetched: Fetched) -> FeedItems:
    """The page addresses of a feed's items (RSS 0.9x/1.0/2.0 or Atom), at most MAX_FEED_ITEMS of them."""
    import feedparser

    feed = feedparser.parse(fetched.body)
    links: dict[str, None] = {}
    rejected: list[Rejection] = []
    for entry in feed.entries:
        raw = entry.get("link")
        if not raw:
            continue
        raw = str(raw)
        try:
            link = normalise_url(urljoin(fetched.url, raw))
        except (InputError, ValueError) as exc:  # urljoin raises ValueError on "http://[::1"
            reason = str(exc) if isinstance(exc, InputError) else f"not a valid address ({exc})"
            rejected.append(Rejection(shown(raw), f"the feed item's link is {reason}"))
            continue
        if link not in links and len(links) >= MAX_FEED_ITEMS:
            break
        links[link] = None
    return FeedItems(list(links), rejected)


def _page(fetched: Fetched) -> Article:
    """The page's article: stored as fetched from `fetched.url`, cited and identified by the address `read_page`
    grants it (the canonical one when it names the same host, else the fetched one)."""
    fetched_at = normalise_url(fetched.url)
    page = read_page(_text(fetched), url=fetched_at)
    try:
        address = normalise_url(page.url or fetched_at)
    except InputError:  # a canonical address that is no valid one ("https://site:99999/"): the fetched one
        address = fetched_at
    return page_article(replace(page, url=address), url_id(address), fetched_at)

"""`assistant watch --feed URL`: poll feeds and add the pages of new items.

Each poll is a conditional request (ETag / Last-Modified): an unchanged feed costs one small request. New
items' pages are ingested; an item whose page fails is reported and tried again on the next poll, an item whose
link is not a valid address is reported once, and a feed that fails, in whatever way, is reported and polled
again next time; none of them stops the other items or feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.errors import AssistantError, InputError
from assistant.indexing.parse.web_sources import feed_items, is_feed
from assistant.indexing.sources.addresses import normalise_url, shown
from assistant.indexing.sources.fetch import fetch
from assistant.records import IngestReport

log = logging.getLogger(__name__)


@dataclass
class _Feed:
    url: str
    etag: str = ""
    last_modified: str = ""
    done: set[str] = field(default_factory=set)  # item pages ingested (or unchanged)
    bad: set[str] = field(default_factory=set)  # item links that are no valid address (reported once)


@dataclass(frozen=True)
class FeedPoll:
    """What one poll of one feed did: a report of the new items' ingest, or why nothing was added."""

    feed: str
    report: IngestReport | None = None
    error: str = ""
    not_modified: bool = False


class FeedWatcher:
    def __init__(self, urls: Sequence[str], *, max_bytes: int, timeout: float, allow_private: bool) -> None:
        self.feeds = [_Feed(url) for url in dict.fromkeys(_address(u) for u in urls)]
        self.max_bytes, self.timeout, self.allow_private = max_bytes, timeout, allow_private

    def poll(self, ingest: Callable[[list[str]], IngestReport]) -> list[FeedPoll]:
        """Poll every feed once; `ingest` adds pages by URL (`Assistant.ingest`)."""
        return [self._poll(feed, ingest) for feed in self.feeds]

    def _poll(self, feed: _Feed, ingest: Callable[[list[str]], IngestReport]) -> FeedPoll:
        try:
            fetched = fetch(
                feed.url,
                max_bytes=self.max_bytes,
                timeout=self.timeout,
                allow_private=self.allow_private,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
            if fetched.not_modified:
                return FeedPoll(feed.url, not_modified=True)
            if not is_feed(fetched):
                raise InputError(f"{feed.url} is not an RSS or Atom feed")
            items = feed_items(fetched)
            new = [link for link in items.links if link not in feed.done]
            report = ingest(new) if new else IngestReport()
        except AssistantError as exc:
            return FeedPoll(feed.url, error=str(exc))  # polled again next time
        except Exception as exc:  # whatever one feed raises is that feed's error, never the watch's end
            log.debug("polling %s failed", feed.url, exc_info=True)
            return FeedPoll(feed.url, error=f"cannot be read ({type(exc).__name__}: {shown(str(exc))})")
        failed = {r.path for r in report.rejected}
        report.rejected.extend(r for r in items.rejected if r.path not in feed.bad)  # they can never succeed
        feed.bad |= {r.path for r in items.rejected}
        feed.done |= {link for link in new if link not in failed}  # a failed page is tried again next poll
        feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        if failed:  # the feed is unchanged next time, but its failed items must be fetched again
            feed.etag = feed.last_modified = ""
        return FeedPoll(feed.url, report=report)


def _address(url: str) -> str:
    try:
        return normalise_url(url)
    except InputError as exc:
        raise InputError(f"the feed address {shown(url)} is {exc}") from None

"""`assistant watch --feed URL`: poll feeds and add the pages of new items.

Each poll is a conditional request (ETag / Last-Modified): an unchanged feed costs one small request. New
items' pages are ingested; an item whose page fails is reported and tried again on the next poll, and a feed
that fails is reported and polled again next time; neither stops the other feeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.errors import AssistantError, InputError
from assistant.indexing.fetch import fetch
from assistant.indexing.web_sources import feed_links, is_feed
from assistant.records import IngestReport


@dataclass
class _Feed:
    url: str
    etag: str = ""
    last_modified: str = ""
    done: set[str] = field(default_factory=set)  # item pages ingested (or unchanged)


@dataclass(frozen=True)
class FeedPoll:
    """What one poll of one feed did: a report of the new items' ingest, or why nothing was added."""

    feed: str
    report: IngestReport | None = None
    error: str = ""
    not_modified: bool = False


class FeedWatcher:
    def __init__(self, urls: Sequence[str], *, max_bytes: int, timeout: float, allow_private: bool) -> None:
        self.feeds = [_Feed(url) for url in dict.fromkeys(urls)]
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
            new = [link for link in feed_links(fetched) if link not in feed.done]
            report = ingest(new) if new else IngestReport()
        except AssistantError as exc:
            return FeedPoll(feed.url, error=str(exc))  # polled again next time
        failed = {r.path for r in report.rejected}
        feed.done |= {link for link in new if link not in failed}  # a failed page is tried again next poll
        feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        if failed:  # the feed is unchanged next time, but its failed items must be fetched again
            feed.etag = feed.last_modified = ""
        return FeedPoll(feed.url, report=report)

"""A news page's own text and its metadata, through trafilatura's main-text extraction.

Navigation, cookie banners, related links, newsletter boxes and footers are left out; what remains is
the article's text, with its title, author, date, site and canonical address when the page states them.
A page with no article text is refused with that reason (a front page, a login wall, a feed of links).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from assistant.errors import InputError

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$", re.MULTILINE)
_BROKEN_LINE = re.compile(r"(?<=[^\s.!?:;\"'”’)\]])[ \t]*\n[ \t]*(?=[a-z])")
NO_TEXT = (
    "no article text found in the page (only navigation, banners or links); add the article's own page, "
    "or save its text as a .txt file"
)


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    url: str  # the canonical address the page states, else the one it was fetched from ("" for a file without one)
    published: str  # ISO 8601 date ("" when the page does not say)
    site: str
    author: str


def read_page(html: str, url: str | None = None) -> Page:
    """The article in an HTML page. `url`: where it was fetched from (resolves relative canonical links)."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_links=False,
            include_images=False,
            # the date the page states in its markup, never one guessed from its text ("Line 19995" read as 1995)
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # lxml and the extractor raise many types on broken markup
        log.debug("extraction failed", exc_info=True)
        raise InputError(f"the page cannot be read as HTML ({type(exc).__name__})") from None
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    text = _BROKEN_LINE.sub(" ", text)  # a <br> inside a sentence ("said<br>the bridge") is no sentence end
    if not _SENTENCE_END.search(text):  # menus and headline lists: no line ends a sentence
        raise InputError(NO_TEXT)
    if not text:
        raise InputError(NO_TEXT)
    title = (getattr(doc, "title", None) or "").strip()
    return Page(
        title=title,
        text=text,
        url=(getattr(doc, "url", None) or url or "").strip(),
        published=(getattr(doc, "date", None) or "").strip(),
        site=(getattr(doc, "sitename", None) or "").strip(),
        author=(getattr(doc, "author", None) or "").strip(),
    )

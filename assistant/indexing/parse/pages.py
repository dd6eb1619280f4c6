"""A news page's own text and its metadata, through trafilatura's main-text extraction.

Navigation, cookie banners, related links, newsletter boxes and footers are left out; what remains is
the article's text, with its title, author, date, site and canonical address when the page states them.
A page with no article text is refused with that reason (a front page, a login wall, a feed of links).

Text a reader of the page never sees is never indexed: before extraction, every element that is `hidden`,
`aria-hidden="true"`, styled `display: none` or `visibility: hidden`, a `<noscript>` or a `<template>` is
removed with what it holds (text put there for machines, e.g. instructions to a model, or a claim the page
does not show). When the markup cannot be parsed for that, the page goes to trafilatura as it came.

Whose page it is: a page fetched from an address keeps that address unless the canonical address it states
(`<link rel=canonical>`, `og:url`) names the same host; a canonical address on another host is ignored, and
neither the date nor the site name is taken from it. A saved file has no other address: its canonical one is used.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import InputError
from assistant.indexing.sources.addresses import same_site

if TYPE_CHECKING:
    from lxml.html import HtmlElement

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$", re.MULTILINE)
_BROKEN_LINE = re.compile(r"(?<=[^\s.!?:;\"'”’)\]])[ \t]*\n[ \t]*(?=[a-z])")
_HIDDEN_STYLE = re.compile(r"(?:^|;)(?:display:none|visibility:(?:hidden|collapse))(?:!important)?(?:;|$)")
_SITE_IN_URL = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")  # how trafilatura names a site from its address
NO_TEXT = (
    "no article text found in the page (only navigation, banners or links); add the article's own page, "
    "or save its text as a .txt file"
)


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    # the canonical address the page states when it names the host it was fetched from (or, for a file, any), else
    # the address it was fetched from ("" for a file without one)
    url: str
    published: str  # ISO 8601 date ("" when the page does not say)
    site: str
    author: str


def read_page(html: str, url: str | None = None) -> Page:
    """The article in an HTML page. `url`: where it was fetched from (None for a saved file)."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            visible(html),
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
    stated = (getattr(doc, "url", None) or "").strip()
    published = (getattr(doc, "date", None) or "").strip()
    site = (getattr(doc, "sitename", None) or "").strip()
    if url and stated and not same_site(stated, url):  # another site's address: not this page's
        published = _date(html, url)
        named = _SITE_IN_URL.match(stated)
        if named and site == named[1]:  # the site name read from that address
            own = _SITE_IN_URL.match(url)
            site = own[1] if own else ""
        stated = url
    return Page(
        title=title,
        text=text,
        url=stated or url or "",
        published=published,
        site=site,
        author=(getattr(doc, "author", None) or "").strip(),
    )


def visible(html: str) -> str | HtmlElement:
    """The page's markup without what a reader never sees (see the module's note), as a parsed tree; the markup
    unchanged when it cannot be parsed (trafilatura then reads it in its own way)."""
    try:
        from trafilatura.utils import load_html

        tree = load_html(html)
        if tree is None:
            return html
        for element in list(tree.iter()):
            if isinstance(element.tag, str) and _hidden(element) and element.getparent() is not None:
                element.drop_tree()  # its tail is the parent's text: kept
    except Exception:  # a parser's failure must never cost the page: trafilatura gets it as it came
        log.debug("the hidden-text pass failed", exc_info=True)
        return html
    return tree


def _hidden(element: HtmlElement) -> bool:
    if element.tag.lower() in ("noscript", "template") or element.get("hidden") is not None:
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = element.get("style")
    return bool(style) and bool(_HIDDEN_STYLE.search(re.sub(r"\s+", "", style.lower())))


def _date(html: str, url: str) -> str:
    """The date the page states in its markup, or in the address it was fetched from (not another site's)."""
    from htmldate import find_date

    try:
        found = find_date(visible(html), url=url, extensive_search=False, original_date=True)
    except Exception:
        log.debug("date extraction failed", exc_info=True)
        return ""
    return str(found or "").strip()

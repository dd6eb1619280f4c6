"""Markdown and HTML to plain text, in time linear in the input (no pattern rescans a long line, no tree edits)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Every pattern stops at the first character that could end or restart it, so each character is scanned
# a bounded number of times: a file of 40,000 `[` or `*` costs what any other file of that size costs.
_MD_RULES = [
    (re.compile(r"^```[^\n]*$", re.M), ""),
    (re.compile(r"!\[([^\[\]\n]*)\]\((?:[^()\n]|\([^()\n]*\))*\)"), r"\1"),
    (re.compile(r"\[([^\[\]\n]+)\]\((?:[^()\n]|\([^()\n]*\))*\)"), r"\1"),  # one level of (...) in the URL
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M), ""),
    (re.compile(r"^[ \t]{0,3}>[ \t]?", re.M), ""),
    (re.compile(r"^[ \t]*[-*+][ \t]+", re.M), ""),
    (re.compile(r"\*\*((?:[^*\n]|\*(?!\*))+?)\*\*"), r"\1"),
    (re.compile(r"__((?:[^_\n]|_(?!_))+?)__"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`\n]*)`"), r"\1"),
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),
]
_HEADING = re.compile(r"^[ \t]{0,3}#[ \t]+([^\n]+)$", re.M)


def markdown_text(raw: str) -> tuple[str, str]:
    """(title from the first `# ` heading or "", text with the markup removed)."""
    heading = _HEADING.search(raw)
    title = heading.group(1).rstrip().rstrip("#").rstrip() if heading else ""
    text = raw
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    return title, text


_BLOCK = frozenset(
    {
        "p",
        "div",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "dd",
        "dt",
        "figcaption",
        "main",
        "aside",
        "nav",
        "hr",
    }
)
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "head", "object"})


class _Text(HTMLParser):
    """Text of an HTML page in one pass: block elements end a line, `<br>` is a space (a sentence goes on)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.h1: list[str] = []
        self.skip: dict[str, int] = {}
        self.where = ""  # "title" or "h1" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip[tag] = self.skip.get(tag, 0) + 1
        if tag == "title":
            self.where = "title"
        elif tag == "h1" and not self.h1:
            self.where = "h1"
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "br":
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "br":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skip.get(tag):
            self.skip[tag] -= 1
        if tag in ("title", "h1"):
            self.where = ""
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.where == "title":
            self.title.append(data)
        if any(self.skip.values()):
            return
        if self.where == "h1":
            self.h1.append(data)
        self.parts.append(data)


def html_text(raw: str) -> tuple[str, str]:
    """(title from <title> or the first <h1>, or "", the page's visible text)."""
    parser = _Text()
    parser.feed(raw)
    parser.close()
    title = " ".join("".join(parser.title).split()) or " ".join("".join(parser.h1).split())
    return title, "".join(parser.parts)

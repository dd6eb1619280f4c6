"""Markdown to plain text, in time linear in the input (no pattern rescans a long line). HTML pages are read by
`pages.py` (trafilatura: the article's own text, without navigation, banners or footers)."""

from __future__ import annotations

import re

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

"""Rule-based sentence splitting (pysbd, no download) with character offsets, in time linear in the text.

pysbd reads about 0.2 MB/s and slows down quadratically on a long line, so it never sees more than
`MAX_PIECE` characters at once. A line is first cut where a sentence surely ends (a full stop after a
word that is no abbreviation, then a capital letter); a piece with no other sentence punctuation is a
sentence as it stands, and only the pieces that need judgement ("U.S.", "$13.5", "(a) ... (b) ...")
go to pysbd, in windows of at most `MAX_PIECE` characters. Offsets are exact: every sentence is
`article.text[start:end]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from assistant.records import Article, Sentence

MAX_PIECE = 1000  # the most pysbd sees at once, and the longest sentence kept whole
_SURE_END = re.compile(r"(?<![.\w@/&'’-])([A-Za-z]{2,}|[0-9]{2,})[.!?]+[\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z])")
# an inner stop before a space (not "3.14" or "example.com"), an ellipsis, a bullet, a list item "(a)" "2)"
_NEEDS_PYSBD = re.compile(r"[.!?][\"'”’)\]]*[\s[]|[…•]|(?:^|[\s(])[0-9A-Za-z]{1,4}\)")
_QUOTES = re.compile(r"[\"“”]")
_TRAILING = ".!?\"'”’)]"


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    from pysbd.lang.english import English

    return frozenset(a.lower() for a in English.Abbreviation.ABBREVIATIONS)


def split_sentences(article: Article) -> list[Sentence]:
    """Sentences of the article in order, each with `article.text[start:end] == sentence.text`.

    Lines are split first (a headline has no full stop), then each line as described above.
    """
    text = article.text
    out: list[Sentence] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        for start, end in _line_spans(line):
            raw = line[start:end]
            start += len(raw) - len(raw.lstrip())
            end -= len(raw) - len(raw.rstrip())
            if end > start:
                out.append(Sentence(article.id, len(out), line_start + start, line_start + end,
                                    text[line_start + start:line_start + end]))
    return out


def _line_spans(line: str) -> Iterator[tuple[int, int]]:
    """Sure ends cut the line; none inside double quotes, where pysbd keeps a quoted speech together."""
    cursor = 0
    abbreviations = _abbreviations()
    quotes, counted = 0, 0
    for m in _SURE_END.finditer(line):
        if m.group(1).lower() in abbreviations:
            continue
        quotes += len(_QUOTES.findall(line, counted, m.start(2)))
        counted = m.start(2)
        if quotes % 2:
            continue
        yield from _piece(line, cursor, m.start(2))
        cursor = m.end()
    yield from _piece(line, cursor, len(line))


def _piece(line: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Spans of the sentences in line[start:end]."""
    body = line[start:end].rstrip().rstrip(_TRAILING)
    if not _NEEDS_PYSBD.search(body):
        yield from _bounded(line, start, end)
        return
    cursor = start
    while cursor < end:
        stop = min(end, cursor + MAX_PIECE)
        spans = _pysbd_spans(line[cursor:stop])
        if not spans:
            return
        if stop == end:
            yield from ((cursor + a, cursor + b) for a, b in spans)
            return
        if len(spans) >= 2:  # the last sentence may go on past the window: it starts the next one
            yield from ((cursor + a, cursor + b) for a, b in spans[:-1])
            cursor += spans[-1][0]
        else:
            cut = _cut(line, cursor, stop)
            yield cursor, cut
            cursor = cut


def _bounded(line: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """One sentence, or, beyond MAX_PIECE characters, pieces cut at a space."""
    while end - start > MAX_PIECE:
        cut = _cut(line, start, start + MAX_PIECE)
        yield start, cut
        start = cut
    yield start, end


def _cut(line: str, start: int, stop: int) -> int:
    """Where to end an over-long piece: after the last space in its second half, else at `stop`."""
    space = line.rfind(" ", start + MAX_PIECE // 2, stop)
    return space + 1 if space > start else stop


def _pysbd_spans(window: str) -> list[tuple[int, int]]:
    """pysbd's sentences as spans of `window`; text pysbd skipped or altered becomes a span of its own."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segmenter().segment(window):
        piece = piece.strip()
        found = window.find(piece, cursor) if piece else -1
        if found < 0:
            continue  # pysbd altered this piece: the text is kept by the gap rule below
        if window[cursor:found].strip():
            spans.append((cursor, found))
        spans.append((found, found + len(piece)))
        cursor = found + len(piece)
    if window[cursor:].strip():
        spans.append((cursor, len(window)))
    return spans

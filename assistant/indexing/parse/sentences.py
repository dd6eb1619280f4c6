"""Rule-based sentence splitting (pysbd, no download) with character offsets, in time linear in the text.

pysbd reads about 0.2 MB/s and slows down quadratically on a long line, so its input is bounded.
A line is first cut where a sentence surely ends (a full stop after a word that is no abbreviation,
outside double quotes, then a capital letter). A piece with no other stop that might end a sentence
("Dr. Smith", "the U.S. envoy", "C. Robert" and "3.14" cannot) is a sentence as it stands; only pieces
that need judgement ("in the U.S. The", quoted speech, "(a) ... (b) ...") go to pysbd, in windows of at
most `MAX_PIECE` characters and at most `PYSBD_BUDGET` characters per file (`PysbdBudget`), after which
a simpler rule that follows pysbd's main rules decides (pysbd_rules.py; on HotpotQA's 991 paragraphs it alone splits 975
as pysbd does). A run of fragments without words ("x. x. x. …", a column of numbers; see fragments.py)
is kept in units of up to `MAX_PIECE` characters instead. Offsets are exact: every sentence is
`article.text[start:end]`.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.indexing.parse.fragments import degenerate_runs
from assistant.indexing.parse.pysbd_rules import abbreviations, is_initial, prepositive, simple_spans
from assistant.records import Article, Sentence

if TYPE_CHECKING:
    import pysbd

MAX_PIECE = 1000  # the most pysbd sees at once, and the longest sentence kept whole
PYSBD_BUDGET = 20_000  # characters of a file pysbd may read (0.1 s at most); then a simpler rule decides ...
STOP_CHARS = 16  # ... where each stop counts as this many more: pysbd weighs one as long as 16 characters
_SURE_END = re.compile(r"(?<![.\w@/&'’-])([A-Za-z]{2,}|[0-9]{2,})[.!?]+[\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z])")
_INNER_STOP = re.compile(r"[.!?][\"'”’)\]]*[\s[]\s*")  # a stop before a space: not "3.14" or "example.com"
_WORD_BEFORE = re.compile(r"[\w.]{0,30}$")
# an ellipsis, a bullet, or what pysbd reads as a list item: lower-case letters or a roman numeral ("(a)", "iv)")
# or a number of one or two digits ("2)"); not "(CNN)" or "(born 1966)"
_OTHER_CUES = re.compile(r"[…•]|(?:^|[\s(])(?:[a-z]{1,5}|[0-9]{1,2})\)")
_QUOTES = re.compile(r"[\"“”]")
_ANY_CUE = re.compile(r"[.!?…•)]")  # a line without these (past its last stop) has no sure end, needs no judgement
_TRAILING = ".!?\"'”’)]"


class PysbdBudget:
    """How many more characters pysbd may read in a file; past that the simpler rule decides. The articles
    of one file (the records of a JSON file) share one, spent in the order they are split, so a file of
    many records that all need judgement splits as fast as one article."""

    def __init__(self) -> None:
        self.chars = PYSBD_BUDGET


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _needs_judgement(body: str) -> bool:
    """True when the piece holds a stop that might end a sentence; abbreviations that surely don't
    ("Dr. Smith", "the U.S. envoy", "5 p.m. on", "No. 5") need no pysbd."""
    if not _ANY_CUE.search(body):
        return False
    if _OTHER_CUES.search(body):
        return True
    body = " " + body  # the space before the first word, as `_candidates` reads it
    for m in _candidates().finditer(body):
        stop, following = body[m.start()], body[m.end() : m.end() + 1]
        before = _WORD_BEFORE.search(body, max(0, m.start() - 30), m.start())
        word = before.group().lower().rstrip(".") if before else ""
        if stop != "." or not word or not following:
            return True
        if is_initial(body, m.start()):
            continue  # "C. Robert", "Philip S. Goldberg": pysbd never ends a sentence after one capital
        after_space = before is not None and (before.start() == 0 or body[before.start() - 1].isspace())
        if following.isalnum() and after_space and word in prepositive():
            continue  # "Dr. Smith", "No. 5"; not "Lieut-Col. D." (pysbd reads no abbreviation there)
        if (following.islower() or following.isdigit()) and ("." in word or word in abbreviations()):
            continue
        return True
    return False


@lru_cache(maxsize=1)
def _candidates() -> re.Pattern[str]:
    """The stops of `_INNER_STOP` except the two commonest that surely end no sentence, skipped inside the regex
    engine (a text of initials and titles, "Mr. A. B. Mr. A. B.", has nothing else): a full stop after a capital
    other than "I" that stands alone after a space, before a space and more text ("C. Robert"; `is_initial`), and
    a full stop after a title of `prepositive` that stands after a space, before a space and a letter or digit
    ("Dr. Smith", "No. 5"). Every other stop is checked in Python as before. Read in " " + the piece."""
    by_length: dict[int, list[str]] = {}
    for word in sorted(prepositive()):
        by_length.setdefault(len(word), []).append(re.escape(word))
    no_title = "".join(rf"(?<!\s(?i:{'|'.join(words)})\.)" for words in by_length.values())
    tail = r"[\"'”’)\]]*[\s[]\s*"
    return re.compile(
        rf"[!?]{tail}"
        rf"|\.(?:(?!\s+\S)|(?<!\s[A-HJ-Z]\.))"  # not an initial
        rf"(?:(?!\s+[^\W_])|{no_title}){tail}"  # nor a title before a name
    )


class TooManySentences(Exception):
    """Raised by `split_sentences` as soon as the article has more than `max_sentences`."""


def split_sentences(
    article: Article, budget: PysbdBudget | None = None, max_sentences: int | None = None
) -> list[Sentence]:
    """Sentences of the article in order, each with `article.text[start:end] == sentence.text`. `budget`
    is the article's file's (see PysbdBudget); without one, the article is a file of its own. Past
    `max_sentences` it stops and raises TooManySentences (a line or a sure end at a time: 10 MB of two-letter
    lines would be four million sentences, and as many records to write).

    Runs of fragments without words are set apart first, then lines are split (a headline has no full
    stop), then each line as described above.
    """
    text = article.text
    spans: list[tuple[int, int]] = []
    if budget is None:
        budget = PysbdBudget()
    cap = max_sentences if max_sentences is not None else len(text)  # a sentence holds a character at least
    cursor = 0
    out: list[Sentence] = []
    with _collector_paused():
        for start, end in degenerate_runs(text):  # fragments without words: units of up to MAX_PIECE characters
            _split_lines(text, cursor, start, spans, budget, cap)
            _units(text, start, end, spans)
            _check(spans, cap)
            cursor = end
        _split_lines(text, cursor, len(text), spans, budget, cap)
        article_id, add = article.id, out.append
        for start, end in spans:  # spans may carry spaces at either end (a cut after a space, an untrimmed line)
            raw = text[start:end]
            body = raw.strip()
            if len(body) != len(raw):
                if not body:
                    continue
                start += len(raw) - len(raw.lstrip())
                end = start + len(body)
            add(Sentence(article_id, len(out), start, end, body))
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while an article is split. Its spans and Sentence records form no
    cycles, but each is an object the collector tracks, and 333,333 of them (1 MB of two-letter lines) set
    off four collections of every object in the process: half the time of the split. The collection that
    is due runs once, at the first allocations after. Left alone when the collector is off already (by the
    program, or by this in another thread, which turns it back on when it is done)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check(spans: list[tuple[int, int]], cap: int) -> None:
    if len(spans) > cap:  # a span that turns out blank is rare: the count is the sentences', or a few more
        raise TooManySentences(f"more than {cap:,} sentences")


def _split_lines(text: str, begin: int, end: int, spans: list[tuple[int, int]], budget: PysbdBudget, cap: int) -> None:
    """Appends the spans (offsets in `text`) of the sentences of every line of `text[begin:end]`."""
    pos = begin
    for line in text[begin:end].split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line or line.isspace():
            continue
        if len(line) <= MAX_PIECE and not _ANY_CUE.search(line.rstrip().rstrip(_TRAILING)):
            spans.append((line_start, pos - 1))  # no stop before its end: the line is one sentence
            if len(spans) > cap:
                _check(spans, cap)
        else:
            _line_spans(line, line_start, spans, budget, cap)


def _line_spans(line: str, offset: int, spans: list[tuple[int, int]], budget: PysbdBudget, cap: int) -> None:
    """Sure ends cut the line; none inside double quotes, where pysbd keeps a quoted speech together."""
    cursor = 0
    known = abbreviations()
    quoted = _QUOTES.search(line) is not None
    quotes, counted = 0, 0
    for m in _SURE_END.finditer(line):
        if m.group(1).lower() in known:
            continue
        if quoted:
            quotes += len(_QUOTES.findall(line, counted, m.start(2)))
            counted = m.start(2)
            if quotes % 2:
                continue
        _piece(line, cursor, m.start(2), offset, spans, budget)
        _check(spans, cap)
        cursor = m.end()
    _piece(line, cursor, len(line), offset, spans, budget)
    _check(spans, cap)


def _piece(line: str, start: int, end: int, offset: int, spans: list[tuple[int, int]], budget: PysbdBudget) -> None:
    """Appends the spans of the sentences in line[start:end], shifted by `offset`; pysbd reads at most
    `budget.chars` more characters (each stop counting as `STOP_CHARS` more)."""
    body = line[start:end].rstrip().rstrip(_TRAILING)
    if not _needs_judgement(body):
        while end - start > MAX_PIECE:  # one sentence, or, beyond MAX_PIECE characters, pieces cut at a space
            cut = _cut(line, start, start + MAX_PIECE)
            spans.append((offset + start, offset + cut))
            start = cut
        spans.append((offset + start, offset + end))
        return
    cursor = start
    while cursor < end:
        if budget.chars <= 0:
            _simple_piece(line, cursor, end, offset, spans)
            return
        stop = min(end, cursor + MAX_PIECE)
        window = line[cursor:stop]
        found = _pysbd_spans(window)
        budget.chars -= len(window) + STOP_CHARS * len(_INNER_STOP.findall(window))
        if not found:
            return
        base = offset + cursor
        if stop == end:
            spans.extend((base + a, base + b) for a, b in found)
            return
        if len(found) >= 2:  # the last sentence may go on past the window: it starts the next one
            spans.extend((base + a, base + b) for a, b in found[:-1])
            cursor += found[-1][0]
        else:
            cut = _cut(line, cursor, stop)
            spans.append((base, offset + cut))
            cursor = cut


def _simple_piece(line: str, start: int, end: int, offset: int, spans: list[tuple[int, int]]) -> None:
    """Appends the spans of the sentences in line[start:end] by the simpler rule, read whole (it is linear),
    shifted by `offset`; a sentence longer than MAX_PIECE is cut at a space."""
    for a, b in simple_spans(line[start:end]):
        a, b = a + start, b + start
        while b - a > MAX_PIECE:
            cut = _cut(line, a, a + MAX_PIECE)
            spans.append((offset + a, offset + cut))
            a = cut
        spans.append((offset + a, offset + b))


def _units(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """A run of fragments without words (see fragments.py) in units of at most MAX_PIECE characters, each
    cut after the last space or line break in its second half."""
    while end - start > MAX_PIECE:
        half, stop = start + MAX_PIECE // 2, start + MAX_PIECE
        cut = max(text.rfind(" ", half, stop), text.rfind("\n", half, stop))
        cut = cut + 1 if cut > start else stop
        spans.append((start, cut))
        start = cut
    spans.append((start, end))


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

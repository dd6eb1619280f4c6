"""Rule-based sentence splitting (pysbd, no download) with character offsets."""

from __future__ import annotations

from functools import lru_cache

from assistant.records import Article, Sentence


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(article: Article) -> list[Sentence]:
    """Sentences of the article in order, each with `article.text[start:end] == sentence.text`.

    Lines are split first (a headline has no full stop), then pysbd splits each line.
    """
    text = article.text
    out: list[Sentence] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        cursor, line_end = line_start, line_start + len(line)
        for piece in _segmenter().segment(line):
            piece = piece.strip()
            found = text.find(piece, cursor, line_end) if piece else -1
            if found < 0:
                continue  # pysbd altered this piece: the rest of the line is kept below
            if text[cursor:found].strip():  # text pysbd skipped or altered becomes its own sentence
                out.append(_sentence(article, len(out), text, cursor, found))
            out.append(Sentence(article.id, len(out), found, found + len(piece), piece))
            cursor = found + len(piece)
        if text[cursor:line_end].strip():
            out.append(_sentence(article, len(out), text, cursor, line_end))
    return out


def _sentence(article: Article, index: int, text: str, start: int, end: int) -> Sentence:
    raw = text[start:end]
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    return Sentence(article.id, index, start, end, text[start:end])

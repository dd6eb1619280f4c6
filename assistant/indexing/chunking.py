"""Chunks: overlapping windows of consecutive sentences."""

from __future__ import annotations

from assistant.records import Article, Chunk, Sentence

WINDOW = 3  # sentences per chunk
STRIDE = 2  # so consecutive chunks share one sentence


def make_chunks(article: Article, sentences: list[Sentence], window: int = WINDOW,
                stride: int = STRIDE) -> list[Chunk]:
    chunks: list[Chunk] = []
    n = len(sentences)
    start = 0
    while start < n:
        end = min(start + window, n) - 1
        text = article.text[sentences[start].start:sentences[end].end]
        chunks.append(Chunk(article.id, len(chunks), start, end, text))
        if end == n - 1:
            break
        start += stride
    return chunks

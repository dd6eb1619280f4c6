"""Chunks: overlapping windows of consecutive sentences."""

from __future__ import annotations

from assistant.records import Article, Chunk, Sentence

WINDOW = 3  # sentences per chunk
STRIDE = 2  # so consecutive chunks share one sentence


def make_chunks(article: Article, sentences: list[Sentence], window: int = WINDOW, stride: int = STRIDE) -> list[Chunk]:
    chunks: list[Chunk] = []
    n = len(sentences)
    start = 0
    while start < n:
        end = min(start + window, n) - 1
        text = article.text[sentences[start].start : sentences[end].end]
        chunks.append(Chunk(article.id, len(chunks), start, end, text))
        if end == n - 1:
            break
        start += stride
    return chunks


def chunk_span(chunk_index: int, n_sentences: int, window: int = WINDOW, stride: int = STRIDE) -> tuple[int, int]:
    """(first, last) sentence of chunk `chunk_index` (last inclusive), as `make_chunks` cut it."""
    first = chunk_index * stride
    return first, min(first + window, n_sentences) - 1


def chunks_covering(
    sentence_index: int, n_sentences: int, n_chunks: int, window: int = WINDOW, stride: int = STRIDE
) -> list[int]:
    """Indices of the chunks that contain a sentence (one or two with the defaults)."""
    lowest = max(0, -(-(sentence_index - window + 1) // stride))  # ceil((i - window + 1) / stride)
    highest = min(sentence_index // stride, n_chunks - 1)
    return [c for c in range(lowest, highest + 1) if chunk_span(c, n_sentences, window, stride)[1] >= sentence_index]

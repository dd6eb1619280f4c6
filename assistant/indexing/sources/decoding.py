"""A response body's Content-Encoding undone in bounded pieces, so a small compressed body cannot fill memory.

Each coding (`gzip`, `deflate`, and `br` where a `brotli` that can bound its output is installed) is decoded
lazily, at most `PIECE` bytes at a time (brotli's bound is looser: somewhat more, besides its window of at
most 16 MB); the caller counts what comes out and stops at its limit, so a bomb costs a piece, not its
expanded size. Stacked codings ("gzip, gzip") are decoded layer by layer, each layer's output counted
against the same limit by the caller (`limited`), at most `MAX_CODINGS` of them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

PIECE = 64 * 1024  # the most any decoder hands out at once
MAX_CODINGS = 3  # "gzip, gzip" is seen in the wild; more layers than this are refused

try:  # brotli >= 1.2 can stop its output at a limit; an older one could not be bounded, so `br` is not offered
    import brotli as _brotli

    _BROTLI: Any = _brotli if hasattr(_brotli.Decompressor, "can_accept_more_data") else None
except ImportError:  # pragma: no cover - brotli comes with gradio
    _BROTLI = None


class DecodingError(Exception):
    """The body is not in the coding it claims, or in one we do not decode (the reason is the message)."""


def accept_encoding() -> str:
    """The Accept-Encoding header to send: only the codings `decode` can undo within bounds."""
    return "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"


def codings(header: str) -> list[str]:
    """The codings of a Content-Encoding header in the order they must be undone (the last applied first);
    DecodingError for an unknown coding or too many of them."""
    names = [name.strip().lower() for name in header.split(",")]
    names = [name for name in names if name and name != "identity"]
    known = {"gzip", "x-gzip", "deflate"} | ({"br"} if _BROTLI is not None else set())
    for name in names:
        if name not in known:
            raise DecodingError(f"is sent with Content-Encoding {name}, which is not supported")
    if len(names) > MAX_CODINGS:
        raise DecodingError(f"is sent compressed {len(names)} times over (Content-Encoding: {header.strip()})")
    return names[::-1]


def decode(pieces: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """The pieces with one coding undone, each at most PIECE bytes, read from `pieces` only as needed."""
    if coding in ("gzip", "x-gzip"):
        return _zlib(pieces, zlib.MAX_WBITS | 16, coding)
    if coding == "deflate":
        return _deflate(pieces)
    if coding == "br":
        return _br(pieces)
    raise DecodingError(f"is sent with Content-Encoding {coding}, which is not supported")


def limited(pieces: Iterable[bytes], max_bytes: int, over: Callable[[], Exception]) -> Iterator[bytes]:
    """The pieces, raising `over()` as soon as more than max_bytes have come."""
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > max_bytes:
            raise over()
        yield piece


def _zlib(pieces: Iterable[bytes], wbits: int, coding: str, first: bytes = b"") -> Iterator[bytes]:
    decoder = zlib.decompressobj(wbits)
    try:
        for piece in _prepend(first, pieces):
            data = piece
            while True:  # max_length keeps each output within PIECE; the rest waits in unconsumed_tail
                out = decoder.decompress(data, PIECE)
                data = decoder.unconsumed_tail
                if out:
                    yield out
                if decoder.eof or (not data and len(out) < PIECE):  # a full piece may have more behind it
                    break
            if decoder.eof:
                return  # anything after the end of the stream is ignored, as browsers and httpx do
    except zlib.error as exc:
        raise DecodingError(f"is not valid {coding} data ({exc})") from None


def _deflate(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """`deflate` is meant to be zlib-wrapped, but some servers send it raw: the first two bytes tell which."""
    source = iter(pieces)
    head = b""
    for piece in source:
        head += piece
        if len(head) >= 2:
            break
    wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return _zlib(source, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, "deflate", first=head)


def _br(pieces: Iterable[bytes]) -> Iterator[bytes]:
    decoder = _BROTLI.Decompressor()
    try:
        for piece in pieces:
            out = decoder.process(piece, output_buffer_limit=PIECE)
            while out:  # the rest of this input's output, a piece (about PIECE bytes: the limit is loose) at a time
                yield out
                out = decoder.process(b"", output_buffer_limit=PIECE)
            if decoder.is_finished():
                return
    except _BROTLI.error as exc:
        raise DecodingError(f"is not valid br data ({exc})") from None


def _prepend(first: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from pieces

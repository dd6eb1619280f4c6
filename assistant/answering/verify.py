"""Check a model's answer in code, whatever the model wrote, before any citation reaches a person.

1. Refusal: the fixed token `NOT_IN_ARTICLES` anywhere means the articles do not answer.
2. Markers: "[1, 2]", "[1-3]" and "[ 1 ]" are normalised to "[1][2]" form; numbers that were never
   shown are dropped and reported.
3. Answer sentences: lines, then pysbd; markers that open a sentence ("... up. [1] Then ...")
   belong to the sentence before them.
4. Support of each cited answer sentence (the claim, markers removed) by the sentences it cites:
       score = cosine + 0.5 x overlap
   cosine: embedding cosine of the claim with the best cited sentence (or with all cited
   sentences joined, when several); overlap: the share of the claim's content terms (stemmed,
   stop words out) found in the cited sentences and their titles. Supported when
   score >= SUPPORT_THRESHOLD = 0.75, the same scale and bar as the extractive answerer's
   confidence. On the sample article paraphrases of the right sentence scored 0.88-1.36 and
   claims citing a wrong sentence 0.05-0.69, except one close topical neighbour (0.85): a cheap
   check that catches wrong numbers, not subtle misreadings. With several cited sentences, a
   marker whose own sentence scores below MARKER_FLOOR = 0.5 is removed. An unsupported
   sentence keeps its words but loses its markers.
5. Quotes ("...", “...”, ‘...’, '...') must stand verbatim (case, spacing and quote style aside)
   in a sentence the answer sentence cites; otherwise the quote is flagged and the sentence
   loses its markers, so an invented quote never becomes a citation.
Finally `citing.renumber` numbers the surviving markers densely: `[n]` is `citations[n-1]`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.answering.citing import MARKER, renumber
from assistant.answering.terms import terms
from assistant.records import Citation, ScoredSentence

NOT_IN_ARTICLES = "NOT_IN_ARTICLES"
REFUSAL = re.compile(r"\bNOT[ _]IN[ _](?:THE[ _])?ARTICLES\b|\bnot_in_articles\b")
SUPPORT_THRESHOLD = 0.75
W_OVERLAP = 0.5
MARKER_FLOOR = 0.5
MAX_RANGE = 20

_MARKER_LIST = re.compile(r"\[\s*(\d{1,4}(?:\s*(?:,|;|-|–|and)\s*\d{1,4})*)\s*\]")
_LEADING = re.compile(r"^\s*((?:\[\d{1,4}\]\s*)+)")
_QUOTE = re.compile(r"\"([^\"\n]{2,}?)\"|“([^”\n]{2,}?)”|‘([^’\n]{2,}?)’"
                    r"|(?<!\w)'(?=\w)([^\n]+?)(?<=[\w.,!?])'(?!\w)")
_QUOTE_CHARS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    refused: bool = False
    fallback: str | None = None  # why the answer cannot stand (the caller falls back), or None
    support: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


def is_refusal(text: str) -> bool:
    return bool(REFUSAL.search(text))


def normalise_markers(text: str) -> str:
    """"[1, 2]" -> "[1][2]", "[2-4]" -> "[2][3][4]", "[ 3 ]" -> "[3]"."""

    def expand(match: re.Match) -> str:
        numbers: list[int] = []
        for part in re.split(r"\s*(?:,|;|and)\s*", match.group(1)):
            ends = [int(x) for x in re.split(r"\s*[-–]\s*", part) if x]
            if len(ends) == 2 and 0 < ends[1] - ends[0] <= MAX_RANGE:
                numbers += range(ends[0], ends[1] + 1)
            else:
                numbers += ends
        return "".join(f"[{n}]" for n in numbers)

    return _MARKER_LIST.sub(expand, text)


def split_answer(text: str) -> list[list[str]]:
    """Lines of answer sentences; a run of markers opening a sentence joins the sentence before."""
    lines: list[list[str]] = []
    for line in text.split("\n"):
        units: list[str] = []
        for piece in (_segmenter().segment(line) if line.strip() else []):
            piece = piece.strip()
            lead = _LEADING.match(piece)
            if lead and units:
                units[-1] = f"{units[-1]}{lead.group(1).strip()}"
                piece = piece[lead.end():].strip()
            if piece:
                units.append(piece)
        lines.append(units)
    return lines


def verify(raw: str, shown: Sequence[ScoredSentence], embedder: Any) -> Verified:
    """The verified answer for a model's raw output, given the numbered sentences it was shown."""
    if is_refusal(raw):
        return Verified("", [], refused=True)
    text = normalise_markers(raw.strip())
    if not text:
        return Verified("", [], fallback="the model returned no text")
    lines = split_answer(text)
    units = [u for line in lines for u in line]
    checks = [_Check(unit, shown) for unit in units]
    _score(checks, shown, embedder)
    keep = iter([c.kept for c in checks])
    rebuilt = "\n".join(" ".join(_keep_markers(u, next(keep)) for u in line) for line in lines)
    new_text, citations, _ = renumber(rebuilt, shown)
    dropped = [n for c in checks for n in c.dropped]
    result = Verified(new_text, citations, support=[c.report() for c in checks],
                      quotes=[q for c in checks for q in c.quotes], dropped=dropped)
    if not citations:
        if not any(c.cited or c.dropped for c in checks):
            result.fallback = "the model cited no sentence"
        elif not any(c.cited for c in checks):
            result.fallback = f"the model cited only numbers it was never shown: {dropped}"
        else:
            result.fallback = "no sentence the model cited supports its answer (see support)"
    return result


class _Check:
    """One answer sentence: its markers, claim, quotes, and the verdict on them."""

    def __init__(self, unit: str, shown: Sequence[ScoredSentence]):
        numbers = [int(n) for n in MARKER.findall(unit)]
        self.cited = list(dict.fromkeys(n for n in numbers if 1 <= n <= len(shown)))
        self.dropped = [n for n in numbers if not 1 <= n <= len(shown)]
        self.claim = " ".join(MARKER.sub(" ", unit).split())
        self.claim = re.sub(r"\s+([.,;:!?])", r"\1", self.claim)
        self.kept: list[int] = []
        self.verdict = "uncited" if not self.cited else "unchecked"
        self.cosine = self.overlap = self.score = None
        cited_texts = [_norm(shown[n - 1].sentence.text) for n in self.cited]
        self.quotes = []
        for match in _QUOTE.finditer(self.claim):
            quote = next(g for g in match.groups() if g is not None)
            verbatim = any(_norm(quote) in t for t in cited_texts) if _norm(quote) else True
            self.quotes.append({"quote": quote, "cited": self.cited, "verbatim": verbatim})
        if self.cited and not all(q["verbatim"] for q in self.quotes):
            self.verdict = "quote not in the cited sentences"

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sentence": self.claim, "cited": self.cited, "kept": self.kept,
                               "verdict": self.verdict}
        if self.score is not None:
            out.update(cosine=round(self.cosine, 4), overlap=round(self.overlap, 4),
                       score=round(self.score, 4))
        return out


def _score(checks: list[_Check], shown: Sequence[ScoredSentence], embedder: Any) -> None:
    todo = [c for c in checks if c.verdict == "unchecked"]
    if not todo:
        return
    cited = sorted({n for c in todo for n in c.cited})
    joined = {c.claim: " ".join(shown[n - 1].sentence.text for n in c.cited)
              for c in todo if len(c.cited) > 1}
    texts = [c.claim for c in todo] + [shown[n - 1].sentence.text for n in cited] + list(joined.values())
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    claim_vec = dict(zip((c.claim for c in todo), vectors[: len(todo)], strict=False))
    sent_vec = dict(zip(cited, vectors[len(todo): len(todo) + len(cited)], strict=True))
    joined_vec = dict(zip(joined, vectors[len(todo) + len(cited):], strict=True))
    for c in todo:
        claim_terms = set(terms(c.claim))
        own = {}
        for n in c.cited:
            item = shown[n - 1]
            own[n] = (float(claim_vec[c.claim] @ sent_vec[n]),
                      _share(claim_terms, set(terms(item.sentence.text)) | set(terms(item.title))))
        cos = max(v[0] for v in own.values())
        if c.claim in joined:
            cos = max(cos, float(claim_vec[c.claim] @ joined_vec[c.claim]))
        union = set().union(*(set(terms(shown[n - 1].sentence.text)) | set(terms(shown[n - 1].title))
                               for n in c.cited))
        c.cosine, c.overlap = cos, _share(claim_terms, union)
        c.score = c.cosine + W_OVERLAP * c.overlap
        if c.score < SUPPORT_THRESHOLD:
            c.verdict = "unsupported"
            continue
        c.verdict = "supported"
        single = {n: cs + W_OVERLAP * ov for n, (cs, ov) in own.items()}
        c.kept = [n for n in c.cited if single[n] >= MARKER_FLOOR] or [max(single, key=single.__getitem__)]


def _keep_markers(unit: str, kept: list[int]) -> str:
    return MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in kept else "", unit)


def _share(claim_terms: set[str], source_terms: set[str]) -> float:
    return len(claim_terms & source_terms) / len(claim_terms) if claim_terms else 0.0


def _norm(text: str) -> str:
    text = " ".join(text.translate(_QUOTE_CHARS).lower().split())
    return text.strip(" .,;:!?'\"")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)

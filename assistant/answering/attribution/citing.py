"""Citations: one marker syntax `[n]`, numbered densely in order of appearance; the only `[n]` in an answer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from assistant.answering.terms import collapse_abbreviations
from assistant.records import Citation, Claim, ScoredSentence, SourceRef

# a claim that ends with an abbreviation ("U.S.", "Inc.") keeps its dot: "U.S. [1]", not "U.S [1]."
_ABBREVIATION_END = re.compile(
    r"(?:^|[\s(])(?:[A-Za-z]\.){2,}$|\b(?:Inc|Jr|Sr|Co|Ltd|Corp|St|Mr|Mrs|Ms|Dr|Gen|Sen|Rep)\.$"
)
_FOOTNOTE = re.compile(r"\[(\s*\d+(?:\s*[,;–-]\s*\d+)*\s*)\]")
NOT_FOUND = "The articles don't say: nothing in the indexed articles answers this question."


def to_citation(item: ScoredSentence) -> Citation:
    s = item.sentence
    return Citation(
        article_id=s.article_id, title=item.title, sentence_index=s.index, text=s.text, start=s.start, end=s.end
    )


class Numbering:
    """Markers numbered in order of first appearance (`[n]` is `citations[n-1]`), across one or more texts."""

    def __init__(self, shown: Sequence[ScoredSentence]):
        self.shown = shown
        self.order: dict[tuple[str, int], int] = {}
        self.citations: list[Citation] = []

    def text(self, claims: Sequence[Claim], verbatim: bool = False) -> str:
        """Each claim followed by the markers of its sentences: "Daniel Noboa [1]", "... in Ecuador [1]." (a model's
        "U. S." closed up to "U.S."); `verbatim`
        claims (whole sentences), and claims that end with an abbreviation ("U.S. [1]"), keep their own end: "... in
        Ecuador. [1]". Brackets in a claim's own words (an
        article's footnote "[1]" in a quoted sentence) are written "(1)", so the only `[n]` in the text are
        markers."""
        parts: list[str] = []
        for claim in claims:
            marks = ""
            for i in claim.sentences:
                item = self.shown[i]
                key = (item.sentence.article_id, item.sentence.index)
                if key not in self.order:
                    self.order[key] = len(self.citations) + 1
                    self.citations.append(to_citation(item))
                mark = f"[{self.order[key]}]"
                marks += mark if mark not in marks else ""
            words = _FOOTNOTE.sub(r"(\1)", " ".join(claim.text.split()))
            if not verbatim:  # the model's "U. S." is written as the articles write it; a quoted sentence stays as is
                words = collapse_abbreviations(words)
            if words and words[-1] in ".!?" and marks and not verbatim and not _ABBREVIATION_END.search(words):
                parts.append(f"{words[:-1].rstrip()} {marks}{words[-1]}")
            else:
                parts.append(f"{words} {marks}".strip())
        return " ".join(parts)


def with_sources(
    citations: Sequence[Citation], sources: Mapping[str, SourceRef]
) -> tuple[list[Citation], list[SourceRef]]:
    """The citations with their article's page address and date (`sources`: what the step that read the article
    records found), and the cited articles' `SourceRef`s in order of first citation (the trace's `sources`)."""
    refs = {a: sources.get(a) or SourceRef(a, None, None) for a in dict.fromkeys(c.article_id for c in citations)}
    cited = [replace(c, url=refs[c.article_id].url, published=refs[c.article_id].published) for c in citations]
    return cited, list(refs.values())


def compose(
    claims: Sequence[Claim], shown: Sequence[ScoredSentence], verbatim: bool = False
) -> tuple[str, list[Citation]]:
    """The answer text (`Numbering.text`) and its citations."""
    numbering = Numbering(shown)
    return numbering.text(claims, verbatim), numbering.citations

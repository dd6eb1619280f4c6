"""Property-based tests (hypothesis) for the loaders, the sentence splitter and the citation parser."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.answering.attribution.citing import compose
from assistant.errors import InputError
from assistant.indexing.parse.loaders import load_file, normalise
from assistant.indexing.parse.sentences import split_sentences
from assistant.records import Article, Claim, ScoredSentence, Sentence

WORDS = st.sampled_from(
    [
        "The",
        "U.S.",
        "said",
        "Dr.",
        "Smith",
        "$13.5",
        "million",
        "'war.'",
        "Noboa",
        "e.g.",
        "3.14",
        "No.",
        "1",
        "Ecuador's",
        "«quoted»",
        "naïve",
        "日本",
        "!",
        "?",
        "...",
        "(a)",
        '"Yes,"',
        "he",
        "asked.",
    ]
)
TEXT = st.lists(
    st.one_of(WORDS, st.text(min_size=1, max_size=8), st.sampled_from([" ", "\n", "\n\n", ". "])), max_size=60
).map(" ".join)


@given(TEXT)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sentences_are_verbatim_ordered_and_cover_the_text(raw):
    text = normalise(raw)
    sentences = split_sentences(Article("a", "t", text, "src"))
    cursor = 0
    for n, s in enumerate(sentences):
        assert s.index == n
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= cursor  # in order, no overlap
        assert not text[cursor : s.start].strip()  # nothing but spaces between sentences
        cursor = s.end
    assert not text[cursor:].strip()  # and nothing left over


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_normalise_is_idempotent(raw):
    once = normalise(raw)
    assert normalise(once) == once
    assert "\r" not in once and "  " not in once


@given(st.binary(max_size=400), st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl"]))
@settings(max_examples=300, deadline=None)
def test_any_bytes_load_or_raise_a_reason(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        try:
            articles = load_file(path, 1_000_000)
        except InputError as exc:
            assert str(exc)
            return
    for article in articles:
        assert article.text and article.text == normalise(article.text) and article.id


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "title", "text", "url", "x"]), inner, max_size=4)
    ),
    max_leaves=8,
)


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_any_json_loads_or_raises_a_reason(value):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.json"
        path.write_text(json.dumps(value), encoding="utf-8")
        try:
            articles = load_file(path, 1_000_000)
        except InputError as exc:
            assert str(exc)
            return
    assert articles and all(a.text.strip() for a in articles)


def _shown(k: int) -> list[ScoredSentence]:
    return [ScoredSentence(Sentence("art", i, i * 10, i * 10 + 5, f"s{i}"), "T", 1.0, 0.5, 0.5) for i in range(k)]


@given(
    st.integers(min_value=1, max_value=6),
    st.lists(
        st.tuples(
            st.text(alphabet="abc .,[]0123456789", max_size=12),  # the claim's own words, brackets and all
            st.lists(st.integers(min_value=0, max_value=5), max_size=3),  # the shown sentences it rests on
        ),
        max_size=8,
    ),
)
@example(1, [("[00000]", [0])])  # found by CI's draw: an article's own bracketed number of five digits
@settings(max_examples=500, deadline=None)
def test_citation_markers_are_dense_and_match_citations(k, claims):
    """Whatever the claims' words (an article's own "[1]" included), the only markers in the text are ours:
    dense from [1], numbered in order of first appearance, each a citation of a sentence a claim rests on."""
    shown = _shown(k)
    records = [
        Claim(words, tuple(i % k for i in rests), tuple(("art", i % k) for i in rests), 1.0, (), 1, 1.0, 1.0, "")
        for words, rests in claims
    ]
    text, citations = compose(records, shown, verbatim=True)
    marks = [int(m) for m in re.findall(r"\[(\d+)\]", text)]
    assert sorted(set(marks)) == list(range(1, len(citations) + 1))
    first_seen = list(dict.fromkeys(marks))
    assert first_seen == sorted(first_seen)  # numbered in order of first appearance
    assert [c.sentence_index for c in citations] == list(dict.fromkeys(i % k for _, rests in claims for i in rests))

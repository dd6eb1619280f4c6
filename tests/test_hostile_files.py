"""Crafted and unusual files: each is rejected with its reason or read correctly, and the rest is indexed."""

from __future__ import annotations

import json
import threading

import pytest

from assistant import Assistant
from assistant.embeddings import EmbeddingModel
from assistant.errors import InputError
from assistant.indexing.parse import sentences as sentences_module
from assistant.indexing.parse.fragments import DEGENERATE_RUN, degenerate_runs
from assistant.indexing.parse.loaders import load_file, slug
from assistant.indexing.parse.pysbd_rules import simple_spans
from assistant.indexing.parse.sentences import MAX_PIECE, PYSBD_BUDGET, split_sentences
from assistant.indexing.watch.watch import watch
from assistant.records import Article
from tests.helpers import assert_consistent, write_articles

MB = 1_000_000
GOOD = "Harbour reopens\nThe harbour of Port Lyle reopened on Monday."


def _reasons(report) -> dict[str, str]:
    return {r.path.rsplit("/", 1)[-1]: r.reason for r in report.rejected}


def _crafted(folder):
    folder.mkdir(exist_ok=True)
    (folder / "good.txt").write_text(GOOD, "utf-8")
    (folder / "digits.json").write_text('{"text": "A number.", "n": ' + "7" * 5001 + "}", "utf-8")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    (folder / "deep.jsonl").write_text('{"text": "ok"}\n' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n", "utf-8")


def test_crafted_json_is_rejected_and_the_rest_indexed(make_bot, tmp_path):
    folder = tmp_path / "news"
    _crafted(folder)
    bot = make_bot()
    report = bot.ingest([folder])
    reasons = _reasons(report)
    assert report.added == 1 and set(reasons) == {"digits.json", "deep.json", "deep.jsonl"}
    assert "4300" in reasons["digits.json"] or "digits" in reasons["digits.json"]
    assert "nested too deeply" in reasons["deep.json"] and "line 2" in reasons["deep.jsonl"]
    again = bot.rebuild(folder)  # and every later rebuild and watch round keeps working
    assert (again.unchanged, len(again.rejected)) == (1, 3)
    seen = []
    watch(bot, folder, 0, seen.append, max_rounds=1, sleep=lambda s: None)
    assert len(seen) == 1 and len(seen[0].rejected) == 3


def test_bad_ids_reject_the_record_not_the_run(make_bot, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, "utf-8")
    rows = [
        {"id": " ", "text": "Blank id story. It has text."},
        {"id": "x" * 300, "text": "Long id. Text."},
        {"id": "ok-1", "text": "The ferry to Lyle resumed service."},
        {"id": "a\u0000b", "text": "Odd id."},
    ]
    (folder / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    bot = make_bot()
    report = bot.ingest([folder])
    assert report.added == 2 and {a.id for a in bot.articles()} == {"good", "ok-1"}
    reasons = [r.reason for r in report.rejected]
    assert reasons == [
        "record 1 has an empty 'id'; give it a non-empty id or leave 'id' out to number the records",
        "record 2 has an 'id' of 300 characters; ids may have at most 200",
        "record 4 has an 'id' with control characters; use printable characters only",
    ]
    assert [r.path.rsplit("/", 1)[-1] for r in report.rejected] == [f"feed.jsonl (record {n})" for n in (1, 2, 4)]
    assert not any("--reset" in r for r in reasons)
    assert_consistent(bot.store)


def test_non_latin_file_names_get_unique_stable_ids(make_bot, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    names = ["東京の雨.txt", "大阪の雪.txt", "서울 뉴스.txt", "🎉.txt", "🎊.txt", "Ñandú.txt"]
    for n, name in enumerate(names):
        (folder / name).write_text(f"Story {n}\nThe river rose by {n} metres on day {n}.", "utf-8")
    bot = make_bot()
    report = bot.ingest([folder])
    assert (report.added, report.rejected) == (6, [])
    ids = {a.id for a in bot.articles()}
    assert {"東京の雨", "大阪の雪", "서울-뉴스", "nandu"} <= ids and len(ids) == 6
    assert slug("🎉") == slug("🎉") != slug("🎊") and slug("🎉").startswith("article-")
    assert bot.ingest([folder]).unchanged == 6  # the same ids again


def test_records_deleted_from_a_json_file_disappear_on_ingest(make_bot, tmp_path):
    feed = tmp_path / "feed.jsonl"
    rows = [{"id": f"r{n}", "text": f"Report {n}. The tide reached mark {n}."} for n in range(3)]
    feed.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    bot = make_bot()
    assert bot.ingest([feed]).added == 3
    feed.write_text("\n".join(json.dumps(r) for r in rows[:2]), "utf-8")
    report = bot.ingest([feed])
    assert (report.removed, report.unchanged) == (1, 2)
    assert {a.id for a in bot.articles()} == {"r0", "r1"}
    feed.write_text(json.dumps(rows[0]) + '\n{"id": " ", "text": "x"}', "utf-8")  # a file with a bad record
    report = bot.ingest([feed])
    assert report.removed == 0 and {a.id for a in bot.articles()} == {"r0", "r1"}  # nothing removed on doubt
    assert_consistent(bot.store)


def test_a_json_file_renamed_then_edited_loses_its_deleted_record_on_ingest(make_bot, tmp_path):
    feed = tmp_path / "feed.jsonl"
    rows = [{"id": f"r{n}", "text": f"Report {n}. The tide reached mark {n}."} for n in range(3)]
    feed.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    bot = make_bot()
    assert bot.ingest([feed]).added == 3
    moved = tmp_path / "tides.jsonl"
    feed.rename(moved)
    moved.write_text("\n".join(json.dumps(r) for r in rows[:2]), "utf-8")  # r2 deleted
    report = bot.ingest([moved])
    assert (report.removed, report.unchanged) == (1, 2)
    assert {a.id for a in bot.articles()} == {"r0", "r1"}
    assert {a.source for a in bot.articles()} == {str(moved.resolve())}  # the records now belong to the new name
    # a new file under the old name is another file: the moved records stay
    feed.write_text(json.dumps({"id": "r9", "text": "Report 9. A new tide table."}), "utf-8")
    report = bot.ingest([feed])
    assert (report.added, report.removed) == (1, 0)
    assert {a.id for a in bot.articles()} == {"r0", "r1", "r9"}
    assert_consistent(bot.store)


def test_a_file_name_that_is_not_utf8_is_rejected_with_its_reason(make_bot, tmp_path):
    """Linux allows any bytes in a name; Python reads the bad ones as lone surrogates, which nothing can store."""
    import os

    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, "utf-8")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as handle:  # Latin-1 bytes
        handle.write(b"Cafe news\nThe cafe opened on Monday in the old town.")
    report = make_bot().ingest([folder])
    assert report.added == 1 and len(report.rejected) == 1
    rejection = report.rejected[0]
    rejection.path.encode("utf-8")  # printable: the bad byte is shown as U+FFFD
    assert rejection.path.endswith("caf\ufffd.txt")
    assert rejection.reason == "the file name is not valid UTF-8; rename the file (e.g. with convmv)"


def test_utf16_is_named_as_such_not_binary(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Notepad story. Saved as UTF-16.".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16 text; save the file as UTF-8"):
        load_file(path, MB)


def test_html_br_does_not_split_a_sentence(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<h1>Bridge</h1><p>The mayor said<br>the bridge will reopen.</p><p>Next.</p>", "utf-8")
    [article] = load_file(path, MB)
    assert article.title == "Bridge"  # the headline is the title (trafilatura keeps it out of the body)
    assert [s.text for s in split_sentences(article)] == ["The mayor said the bridge will reopen.", "Next."]


def test_markdown_link_with_parentheses_in_its_url(tmp_path):
    path = tmp_path / "links.md"
    path.write_text("# Bridges\n\nRead [the article](https://en.wikipedia.org/wiki/Bridge_(structure)) now.\n", "utf-8")
    [article] = load_file(path, MB)
    assert article.text == "Bridges\n\nRead the article now."


def test_markdown_and_html_with_pathological_markup_still_load(tmp_path):
    (tmp_path / "brackets.md").write_text("[" * 40_000 + " end.", "utf-8")
    (tmp_path / "stars.md").write_text("**a " * 20_000, "utf-8")
    (tmp_path / "many.html").write_text("".join(f"<p>Line {n} ends.</p>" for n in range(20_000)), "utf-8")
    assert load_file(tmp_path / "brackets.md", MB)[0].text.endswith(" end.")
    assert load_file(tmp_path / "stars.md", MB)[0].text.startswith("a a a")
    many = load_file(tmp_path / "many.html", MB)[0]
    assert many.text.count("\n") == 19_999 and "Line 19999 ends." in many.text


def _spy_segmenter(monkeypatch) -> list[int]:
    """Record the length of every text pysbd is given."""
    real = sentences_module._segmenter()
    seen: list[int] = []

    class Spy:
        def segment(self, text):
            seen.append(len(text))
            return real.segment(text)

    monkeypatch.setattr(sentences_module, "_segmenter", lambda: Spy())
    return seen


def assert_exact_spans(text: str, found: list) -> None:
    """Numbered in order, verbatim at their offsets, at most MAX_PIECE long, and nothing but space between."""
    cursor = 0
    for n, s in enumerate(found):
        assert s.index == n and text[s.start : s.end] == s.text and s.text == s.text.strip()
        assert len(s.text) <= MAX_PIECE and s.start >= cursor and not text[cursor : s.start].strip()
        cursor = s.end
    assert not text[cursor:].strip()


@pytest.mark.parametrize(
    "line",
    [
        " ".join(f"The U.S. envoy met group {n} on Monday." for n in range(3000)),  # pysbd needed everywhere
        " ".join(f"Story {n} says the river rose again." for n in range(3000)),  # clear ends: no pysbd needed
        ("word " * 100_000).strip(),  # 500 KB without punctuation
        "x" * 300_000,  # no space either
        "ab. " * 75_000,  # 300,000 characters that all need judgement: pysbd reads its budget, no more
    ],
)
def test_long_lines_are_split_with_bounded_input_and_exact_offsets(monkeypatch, line):
    seen = _spy_segmenter(monkeypatch)
    text = "Headline\n" + line + "\nLast line."
    found = split_sentences(Article("a", "t", text, "src"))
    assert max(seen, default=0) <= MAX_PIECE and sum(seen) <= PYSBD_BUDGET + MAX_PIECE
    assert_exact_spans(text, found)
    if line.startswith(("The U.S.", "Story")):
        assert len(found) == 3002 and found[1].text.endswith("group 0 on Monday.") | found[1].text.endswith("again.")


@pytest.mark.parametrize("run", ["x. " * 100_000, "7.\n" * 100_000, "a. b! (c)? 4… " * 20_000, "1\n\n" * 100_000])
def test_fragments_without_words_are_kept_in_bounded_units(monkeypatch, run):
    """A run of fragments with no word of two letters is no prose: a few units of up to MAX_PIECE characters,
    not one sentence every three characters, and pysbd never reads it; the sentences around it are as usual."""
    seen = _spy_segmenter(monkeypatch)
    text = "Storm passes\nThe storm passed. " + run + "Roads reopened on Monday.\nLast line."
    found = split_sentences(Article("a", "t", text, "src"))
    assert not seen
    assert [s.text for s in found[:2]] == ["Storm passes", "The storm passed."]
    assert [s.text for s in found[-2:]] == ["Roads reopened on Monday.", "Last line."]
    assert len(found) <= 4 + 2 * len(run) // MAX_PIECE + 1
    assert_exact_spans(text, found)


def test_initials_and_shorter_runs_are_split_as_before():
    text = "He met J. R. R. Tolkien. " + "x. " * (DEGENERATE_RUN - 1) + "It rained."
    assert list(degenerate_runs(text)) == []
    found = [s.text for s in split_sentences(Article("a", "t", text, "src"))]
    assert found == ["He met J. R. R. Tolkien.", *["x."] * (DEGENERATE_RUN - 1), "It rained."]
    longer = "It ended. " + "x. " * DEGENERATE_RUN + "Then"
    assert [longer[a:b] for a, b in degenerate_runs(longer)] == ["x. " * DEGENERATE_RUN]


def test_the_records_of_one_json_file_share_pysbd_s_budget(make_bot, monkeypatch, tmp_path):
    """50 records of 4 KB whose every stop needs judgement: pysbd reads the file's budget, not each record's
    (before: 200 KB, a fifth of a second per record at 0.2 MB/s); every record is still indexed."""
    story = " ".join(f"He lives in the U.S. The town {k} grew." for k in range(100))
    folder = tmp_path / "news"
    folder.mkdir()
    rows = [json.dumps({"id": f"r{n}", "title": f"Town {n}", "text": story}) for n in range(50)]
    (folder / "towns.jsonl").write_text("\n".join(rows), "utf-8")
    seen = _spy_segmenter(monkeypatch)
    bot = make_bot()
    report = bot.ingest([folder])
    assert report.added == 50 and not report.rejected
    assert 0 < sum(seen) <= PYSBD_BUDGET + MAX_PIECE
    last = [s.text for s in split_sentences(Article("r49", "t", story, "src"))]
    info = {a.id: a for a in bot.articles()}["r49"]
    assert info.sentences == len(last) == 200  # past the budget the simpler rule splits alike


def test_pysbd_s_budget_counts_the_stops_it_weighs(monkeypatch):
    """pysbd takes 19 ms for 1,000 characters of `x. ab. ` against 3 ms for news: each stop counts as
    STOP_CHARS characters more, so text dense with stops gets fewer characters of pysbd."""
    seen = _spy_segmenter(monkeypatch)
    text = ("x. " * 7 + "ab. ") * 5000  # no run of fragments without words: every `ab.` breaks it
    found = split_sentences(Article("a", "t", text, "src"))
    assert len(found) == 40_000 and sum(seen) <= 5 * MAX_PIECE
    assert_exact_spans(text, found)


@pytest.mark.parametrize(
    "text",
    [
        "He went to Scranton, Pa. The train left. Then it rained.",
        "He went to Scranton, Pa. the train left. Then it rained.",
        "He met Gen. Smith today. Dr. Jones came too. Sales rose to No. 5 in May.",
        "It was written with C. Robert Cargill and Mary J. Blige. It sold well.",
        "Apple Inc. Shortly after, it rose. It fell at 5 p.m. The town slept.",
        "They live in the U.S. They like it. The U.S. Embassy is near. He said wow! and left.",
        'Isaak Hassler (c. 1580 – 1640) was an organist. He wrote "Ask Me. Now." and left.',
        "Is it? yes it is. Created by an Act (Public Law 91-572, 84 Stat. 1504). It ended.",
    ],
)
def test_the_simpler_rule_ends_sentences_where_pysbd_does(text):
    """Past pysbd's budget the simpler rule decides; it follows pysbd's rules for abbreviations, initials,
    a.m./p.m., "!" and text in brackets or quotes (on HotpotQA's 991 paragraphs it splits 975 as pysbd does)."""
    assert simple_spans(text) == sentences_module._pysbd_spans(text)


class DiesAfterOneBatch(EmbeddingModel):
    """The real embedder for the first batch, then an error: a failure mid-ingest."""

    def __init__(self, inner):
        self.inner, self.model_name, self.dimension, self.calls = inner, inner.model_name, inner.dimension, 0

    def embed(self, texts):
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the embedder died")
        return self.inner.embed(texts)


def test_a_failed_ingest_leaves_no_thread_behind(settings, embedder, tmp_path):
    folder = tmp_path / "news"
    write_articles(folder, 80, sentences=20)  # several batches, more than the queue holds
    bot = Assistant(settings=settings, embedder=DiesAfterOneBatch(embedder))
    with pytest.raises(RuntimeError, match="the embedder died"):
        bot.ingest([folder])
    assert not [t.name for t in threading.enumerate() if t.name.startswith("assistant-")]


def test_the_size_limit_names_its_unit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 200_001)  # 1,000,005 bytes
    with pytest.raises(InputError, match=r"over the 1 MB limit \(ASSISTANT_MAX_FILE_MB, 1 MB = 1,000,000 bytes\)"):
        load_file(path, MB)
    path.write_bytes(b"word " * 200_000)  # exactly 1,000,000 bytes
    assert load_file(path, MB)

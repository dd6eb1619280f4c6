"""An ingest is bounded by its work, not its bytes: identical text is embedded once, a file over the work limit
is rejected whole with its reason, and the write lock is held only to write, never while embedding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from assistant.indexing.chunk.work import WorkLimit
from assistant.indexing.indexer import Indexer
from assistant.indexing.parse.sentences import TooManySentences, split_sentences
from assistant.indexing.write.writes import PART
from assistant.records import Article
from tests.conftest import ROOT
from tests.helpers import assert_consistent

GOOD = "Harbour reopens\nThe harbour of Port Lyle reopened on Monday."


def _reasons(report) -> dict[str, str]:
    return {r.path.rsplit("/", 1)[-1]: r.reason for r in report.rejected}


def test_identical_sentences_and_units_are_embedded_once(make_bot, embedder, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    # the same sentence 40 times in one article, and again in a second file of the same run
    (folder / "chorus.txt").write_text("Chorus\n" + "The choir sang the anthem again. " * 40, "utf-8")
    (folder / "echo.txt").write_text("Echo\nThe choir sang the anthem again. The hall was full.", "utf-8")
    # 30 KB of `x. `: a run of fragments without words, kept in units of up to 1,000 characters, alike but the last
    (folder / "dots.txt").write_text("x. " * 10_000, "utf-8")
    before = embedder.texts_embedded
    bot = make_bot()
    report = bot.ingest([folder])
    assert (report.added, report.rejected) == (3, [])
    stored = {a.id: a.sentences for a in bot.articles()}
    assert stored["chorus"] == 41 and stored["echo"] == 3 and stored["dots"] >= 30
    distinct = {s.text for a in ("chorus", "echo", "dots") for s in bot.article(a).sentences}
    assert len(distinct) == 6  # headline, anthem, "Echo", hall; two units of dots
    assert embedder.texts_embedded - before == len(distinct)
    assert report.sentences_embedded == sum(stored.values())  # every sentence has its vector all the same
    assert_consistent(bot.store)


def test_a_file_over_the_records_limit_is_rejected_whole_and_its_stored_articles_stay(make_bot, tmp_path):
    feed = tmp_path / "feed.jsonl"
    rows = [{"id": f"r{n}", "text": f"Report {n}. The tide reached mark {n}."} for n in range(3)]
    feed.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    (tmp_path / "good.txt").write_text(GOOD, "utf-8")
    bot = make_bot()
    assert bot.ingest([feed]).added == 3
    # now 12 records, each changed and one gone: 12 articles need at least 36 records, over a limit of 30
    rows = [{"id": f"r{n}", "text": f"Report {n}. The tide reached mark {n + 100}."} for n in range(1, 13)]
    feed.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    small = Indexer(bot.store, WorkLimit(tokens=100_000, records=30))
    report = small.ingest([feed, tmp_path / "good.txt"])
    assert report.added == 1 and report.removed == 0 and report.updated == 0
    assert _reasons(report) == {
        "feed.jsonl": "too many records to write for one file: at least 36 sentences, chunks and articles from "
        "12 articles, where one file may have 30 (about 16,000 sentences); split it into smaller files"
    }
    assert {a.id for a in bot.articles()} == {"r0", "r1", "r2", "good"}  # nothing stored was lost
    assert "mark 0." in bot.article("r0").text
    assert_consistent(bot.store)


def test_a_file_over_the_records_limit_is_found_while_splitting(make_bot, tmp_path):
    story = tmp_path / "long.txt"
    story.write_text("Long story\n" + " ".join(f"Line {n} of the story ends here." for n in range(40)), "utf-8")
    bot = make_bot()
    report = Indexer(bot.store, WorkLimit(tokens=100_000, records=50)).ingest([story])
    assert report.added == 0
    assert _reasons(report) == {  # 41 sentences, 20 chunks and the article: counted as it is split
        "long.txt": "too many records to write for one file: at least 62 sentences, chunks and articles from one "
        "article, where one file may have 50 (about 16,000 sentences); split it into smaller files"
    }
    assert bot.articles() == [] and report.sentences_embedded == 0


def test_splitting_stops_at_the_records_limit(make_bot, tmp_path):
    """1.2 MB of two-letter and one-letter lines would be 400,000 sentences: splitting stops past the limit."""
    with pytest.raises(TooManySentences):
        split_sentences(Article("a", "t", "ab\nx\n" * 100, "src"), max_sentences=150)
    assert len(split_sentences(Article("a", "t", "ab\nx\n" * 100, "src"), max_sentences=200)) == 200
    lines = tmp_path / "lines.txt"
    lines.write_text("ab\nx\n" * 200_000, "utf-8")
    bot = make_bot()
    report = Indexer(bot.store, WorkLimit(tokens=100_000, records=1000)).ingest([lines])
    assert _reasons(report) == {
        "lines.txt": "too many records to write for one file: more than 1,000 sentences, chunks and articles from "
        "one article, where one file may have 1,000 (about 16,000 sentences); split it into smaller files"
    }
    assert bot.articles() == []


def test_a_file_over_the_tokens_limit_is_rejected_before_anything_is_embedded(make_bot, embedder, tmp_path):
    story = tmp_path / "long.txt"
    story.write_text("Long story\n" + " ".join(f"Line {n} of the story ends here." for n in range(40)), "utf-8")
    (tmp_path / "good.txt").write_text(GOOD, "utf-8")
    bot = make_bot()
    before = embedder.texts_embedded
    report = Indexer(bot.store, WorkLimit(tokens=200, records=30_000)).ingest([story, tmp_path / "good.txt"])
    assert report.added == 1 and [a.id for a in bot.articles()] == ["good"]
    assert _reasons(report) == {
        "long.txt": "too much distinct text to embed for one file: more than 200 tokens (about 0.8 MB of prose; "
        "more would take over two minutes on 2 cores); split it into smaller files"
    }
    assert embedder.texts_embedded - before == 2  # only good.txt's two sentences
    assert (
        embedder.count_tokens(["Line 1 of the story ends here."]) == 10
    )  # [CLS] line 1 of the story ends here . [SEP]


@pytest.mark.slow
def test_an_article_of_more_records_than_chroma_takes_at_once_is_written_in_parts(make_bot, tmp_path):
    lines = tmp_path / "ledger.txt"
    lines.write_text("Ledger\n" + "\n".join(f"Entry {n % 7} was booked." for n in range(PART + 1000)), "utf-8")
    bot = make_bot()
    report = bot.ingest([lines])
    assert (report.added, report.rejected) == (1, [])
    assert bot.articles()[0].sentences == PART + 1001
    assert bot.store.counts()["sentences"] == PART + 1001
    assert_consistent(bot.store)


def test_a_second_writer_never_waits_for_a_first_one_s_embedding(make_bot, settings, tmp_path):
    """Process A is held inside its embedding (its embedder waits for a file to appear) while process B, with a
    2 s lock timeout, ingests a small file: B succeeds, then A, released, finishes; both articles are stored."""
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "report.txt").write_text("Annual report\nThe budget rose by four percent this year.", "utf-8")
    embedding, release = tmp_path / "embedding", tmp_path / "release"
    script = textwrap.dedent(f"""
        import os, time
        from assistant import Assistant
        from assistant.embeddings import OnnxMiniLM
        from assistant.settings import Settings

        class Held(OnnxMiniLM):
            def embed(self, texts):
                open({str(embedding)!r}, "w").close()
                deadline = time.monotonic() + 120
                while not os.path.exists({str(release)!r}) and time.monotonic() < deadline:
                    time.sleep(0.05)
                return super().embed(texts)

        settings = Settings.from_env(env={{}}, index_dir={settings.index_dir!r})
        print(Assistant(settings=settings, embedder=Held()).ingest([{str(folder)!r}]).summary(), flush=True)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_INDEX_DIR=settings.index_dir, ASSISTANT_LOCK_TIMEOUT="2")
    first = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not embedding.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert embedding.exists(), first.stderr.read() if first.poll() is not None else "A never started embedding"
        small = tmp_path / "small.txt"
        small.write_text(GOOD, "utf-8")
        second = subprocess.run(
            [sys.executable, "-m", "assistant", "ingest", str(small)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stderr
        assert "1 added" in second.stdout
        assert first.poll() is None  # A is still embedding
    finally:
        release.touch()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out.decode().startswith("1 added")
    assert {a.id for a in make_bot().articles()} == {"report", "small"}

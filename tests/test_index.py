"""The index on a real embedded Chroma in tmp_path with the real ONNX embedder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from assistant import Assistant
from assistant import assistant as facade
from assistant.embeddings import EmbeddingModel
from assistant.errors import IndexBusyError, IndexMismatchError, IndexUnavailableError
from assistant.indexing.chunk.chunking import STRIDE, WINDOW
from assistant.indexing.write.locking import write_lock
from assistant.store import Store, drop_index, make_client
from tests.conftest import SAMPLE_ID
from tests.helpers import assert_consistent, record_hashes, write_articles


def test_ingest_then_reingest_costs_no_embedding(bot, articles_dir, embedder):
    counts = bot.store.counts()
    assert counts == {"articles": 1, "chunks": 8, "sentences": 17}
    calls = embedder.calls
    report = bot.ingest([articles_dir])
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 1, 0)
    assert embedder.calls == calls and report.sentences_embedded == 0
    assert bot.store.counts() == counts
    assert_consistent(bot.store)


def test_stored_sentences_are_verbatim(bot):
    art = bot.article(SAMPLE_ID)
    assert len(art.sentences) == 17
    for s in art.sentences:
        assert art.text[s.start : s.end] == s.text


def test_article_and_status_are_frozen_records_that_write_json(bot):
    """`Assistant.article` and `status` return records (not dicts); `to_dict()` is what JSON gets."""
    import dataclasses
    import json

    from assistant.records import IndexHealth, Status, StoredArticle

    art = bot.article(SAMPLE_ID)
    assert isinstance(art, StoredArticle) and art.id == SAMPLE_ID and art.title and art.url is None
    first = art.sentences[0]
    assert json.loads(json.dumps(art.to_dict()))["sentences"][0] == {
        "index": 0,
        "start": first.start,
        "end": first.end,
        "text": first.text,
    }
    status = bot.status()
    assert isinstance(status, Status) and isinstance(status.health, IndexHealth)
    assert status.articles == 1 and status.sentences == 17 and not status.health.needs_sweep
    shown = json.loads(json.dumps(status.to_dict(), default=str))
    assert shown["articles"] == 1 and shown["health"]["orphan_records"] == {"chunks": 0, "sentences": 0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.articles = 2  # type: ignore[misc]


def test_store_rows_are_typed_records(bot):
    """The store gives rows as frozen records: an article's `ArticleRecord` (its `ArticleInfo`, and its text when
    asked for), a sentence's `SentenceRecord` with its stored vector when asked for."""
    import dataclasses

    import numpy as np

    from assistant.records import ArticleInfo, ArticleRecord, SentenceRecord

    with_text, without = (bot.store.article_records([SAMPLE_ID, "nope"], with_text=w) for w in (True, False))
    assert set(with_text) == set(without) == {SAMPLE_ID}
    record = with_text[SAMPLE_ID]
    assert isinstance(record, ArticleRecord) and isinstance(record.info, ArticleInfo)
    assert record.info.sentences == 17 and record.text and without[SAMPLE_ID].text is None
    rows = bot.store.sentences_by_index({SAMPLE_ID: (record.info.content_hash, [0, 16])}, with_vectors=True)
    assert [r.sentence.index for r in rows] == [0, 16] and all(isinstance(r, SentenceRecord) for r in rows)
    assert all(isinstance(r.vector, np.ndarray) and r.vector.shape == (bot.embedder.dimension,) for r in rows)
    assert record.text[rows[1].sentence.start : rows[1].sentence.end] == rows[1].sentence.text
    with pytest.raises(dataclasses.FrozenInstanceError):
        rows[0].vector = None  # type: ignore[misc]


def test_edit_one_article_replaces_its_records(make_bot, tmp_path, embedder):
    folder = tmp_path / "news"
    write_articles(folder, 3)
    bot = make_bot()
    assert bot.ingest([folder]).added == 3
    old = {h for h in record_hashes(bot.store, bot.store.chunks) if h[0] == "town-0001"}
    (folder / "town-0001.txt").write_text("Council of Arden votes\nThe vote was close. It passed by one.", "utf-8")
    calls = embedder.texts_embedded
    report = bot.ingest([folder])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    assert embedder.texts_embedded - calls == 3  # only the edited article's sentences
    new = {h for h in record_hashes(bot.store, bot.store.chunks) if h[0] == "town-0001"}
    assert new and not (new & old)
    assert_consistent(bot.store)
    ans = bot.answer("By how many votes did the Arden vote pass?")
    assert ans.answered
    new_text = (folder / "town-0001.txt").read_text("utf-8")
    assert all(c.article_id == "town-0001" and c.text in new_text for c in ans.citations)


def test_rebuild_removes_articles_whose_files_are_gone(make_bot, tmp_path):
    folder = tmp_path / "news"
    paths = write_articles(folder, 4)
    bot = make_bot()
    bot.rebuild(folder)
    paths[2].unlink()
    report = bot.rebuild(folder)
    assert (report.removed, report.unchanged, report.added) == (1, 3, 0)
    assert "town-0002" not in {a.id for a in bot.articles()}
    assert not bot.store.chunks.get(where={"article_id": "town-0002"})["ids"]
    assert_consistent(bot.store)


def test_rebuild_keeps_an_article_whose_file_became_unreadable(make_bot, tmp_path):
    folder = tmp_path / "news"
    paths = write_articles(folder, 2)
    bot = make_bot()
    bot.rebuild(folder)
    paths[0].write_bytes(b"\xff\xfe\x00garbage")
    report = bot.rebuild(folder)
    assert report.removed == 0 and len(report.rejected) == 1
    assert {a.id for a in bot.articles()} == {"town-0000", "town-0001"}


def test_bad_inputs_are_rejected_and_nothing_is_lost(bot, tmp_path, settings):
    bad = tmp_path / "incoming"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.md").write_bytes(bytes(range(256)) * 4)
    (bad / "latin1.txt").write_bytes("Caf\u00e9".encode("latin-1"))
    (bad / "huge.txt").write_text("word " * 300_000, "utf-8")
    (bad / "slides.pptx").write_bytes(b"PK\x03\x04")
    (bad / "broken.json").write_text('{"text": ', "utf-8")
    (bad / "good.txt").write_text("Harbour reopens\nThe harbour of Port Lyle reopened on Monday.", "utf-8")
    small = replace(settings, max_file_mb=1.0)
    bot2 = Assistant(settings=small, embedder=bot.embedder)
    report = bot2.ingest([bad, tmp_path / "missing.txt"])
    reasons = {os.path.basename(r.path): r.reason for r in report.rejected}
    assert report.added == 1
    assert set(reasons) == {
        "empty.txt",
        "binary.md",
        "latin1.txt",
        "huge.txt",
        "slides.pptx",
        "broken.json",
        "missing.txt",
    }
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.md"]
    assert "UTF-8" in reasons["latin1.txt"] and "limit" in reasons["huge.txt"]
    assert "unsupported" in reasons["slides.pptx"] and "malformed JSON" in reasons["broken.json"]
    assert "no such file" in reasons["missing.txt"]
    assert {a.id for a in bot2.articles()} == {SAMPLE_ID, "good"}
    assert_consistent(bot2.store)


def test_same_id_from_two_files_is_rejected(make_bot, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "story.txt").write_text("One story. It is short.", "utf-8")
    (tmp_path / "b" / "story.txt").write_text("Another story. Also short.", "utf-8")
    bot = make_bot()
    report = bot.ingest([tmp_path / "a", tmp_path / "b"])
    assert report.added == 1 and len(report.rejected) == 1
    assert "already used" in report.rejected[0].reason


class OtherModel(EmbeddingModel):
    """Stands for a different embedding model: same vectors, another name and dimension stamp."""

    def __init__(self, inner, name, dim):
        self.inner, self.model_name, self.dimension = inner, name, dim

    def embed(self, texts):
        return self.inner.embed(texts)


def test_model_stamp_mismatch_is_refused_with_a_rebuild_hint(bot, settings):
    other = OtherModel(bot.embedder, "openai:text-embedding-3-small", 1536)
    with pytest.raises(IndexMismatchError, match="rebuild --reset"):
        Assistant(settings=settings, embedder=other)
    drop_index(settings)  # what `assistant rebuild --reset` does first
    fresh = Assistant(settings=settings, embedder=bot.embedder)
    assert fresh.store.counts()["articles"] == 0


def test_chunk_geometry_mismatch_is_refused_with_a_rebuild_hint(bot, settings, monkeypatch):
    """The index records how its chunks were cut (WINDOW sentences, one every STRIDE); retrieval maps a chunk back
    to its sentences with the same numbers, so another cut is refused like another embedding model."""
    meta = bot.store.chunks.metadata
    assert (meta["chunk_window"], meta["chunk_stride"]) == (WINDOW, STRIDE)
    monkeypatch.setattr(facade, "WINDOW", WINDOW + 1)
    with pytest.raises(
        IndexMismatchError,
        match=r"cut into chunks of 3 sentences, one starting every 2, but this "
        r"version cuts 4 every 2; .* assistant rebuild --reset",
    ):
        Assistant(settings=settings, embedder=bot.embedder)
    monkeypatch.setattr(facade, "WINDOW", WINDOW)
    assert Assistant(settings=settings, embedder=bot.embedder).store.counts()["articles"] == 1


def test_an_index_stamped_before_the_chunk_geometry_opens_as_it_was_cut(bot, settings):
    """Indexes built before the geometry was stamped were all cut 3 every 2: they open, and a write stamps them."""
    for collection in (bot.store.articles, bot.store.chunks, bot.store.sentences):
        old = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("chunk_")}
        collection.modify(metadata=old)
    reopened = Assistant(settings=settings, embedder=bot.embedder)
    assert "chunk_window" not in (reopened.store.chunks.metadata or {})
    assert reopened.answer("Which gangs will the U.S. designate as terrorist organizations?").answered
    with pytest.raises(IndexMismatchError, match="rebuild --reset"):
        Store(make_client(settings), bot.embedder, settings, geometry=(4, 2))


def test_a_second_writer_gets_a_clear_busy_error(make_bot, settings, articles_dir):
    bot = make_bot(lock_timeout=0.2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from assistant.settings import Settings
        from assistant.indexing.write.locking import write_lock
        with write_lock(Settings(index_dir={settings.index_dir!r})):
            print("locked", flush=True)
            time.sleep(30)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusyError, match="another process"):
            bot.ingest([articles_dir])
    finally:
        holder.kill()
        holder.wait(10)
    with write_lock(bot.settings, timeout=5):
        pass  # free again once the holder is gone


def test_rebuild_killed_halfway_still_answers_and_next_rebuild_completes(make_bot, tmp_path, settings):
    """Killed in the middle of a batch's writes: its sentence and chunk records are stored, its article records
    are not (the child stops just before writing them, says so, and is killed -9)."""
    folder = tmp_path / "news"
    write_articles(folder, 120, sentences=10)
    script = textwrap.dedent(f"""
        import time
        from assistant import Assistant
        from assistant.settings import Settings
        bot = Assistant(settings=Settings.from_env(env={{}}, index_dir={settings.index_dir!r}))
        upsert, calls = bot.store.articles.upsert, []

        def held(**rows):
            calls.append(1)
            if len(calls) == 2:  # the second batch: its sentences and chunks are written, its articles not
                print("halfway", flush=True)
                time.sleep(120)
            return upsert(**rows)

        bot.store.articles.upsert = held
        bot.rebuild({str(folder)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = child.stdout.readline()
        assert first == "halfway\n", f"the rebuild did not reach its second batch: {child.stderr.read()}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    bot = make_bot()
    stored = len(bot.articles())
    assert 0 < stored < 120
    assert bot.store.state()["dirty"] is True
    assert bot.store.health().needs_sweep is True
    ans = bot.answer("What budget would fund project 3-4 in district 3?")
    assert ans.answered and ans.citations
    report = bot.rebuild(folder)
    assert report.added == 120 - stored and report.unchanged == stored
    assert len(bot.articles()) == 120 and bot.store.state()["dirty"] is False
    assert_consistent(bot.store)
    assert bot.store.health().to_dict() == {
        "interrupted_write": False,
        "orphan_records": {"chunks": 0, "sentences": 0},
        "needs_sweep": False,
    }


def test_remove_by_id(bot):
    report = bot.remove([SAMPLE_ID])
    assert report.removed == 1 and bot.store.counts() == {"articles": 0, "chunks": 0, "sentences": 0}


def test_unusable_index_folder_gives_a_clear_error(make_bot, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be", "utf-8")
    with pytest.raises(IndexUnavailableError, match="index"):
        make_bot(index_dir=str(blocker))


def test_progress_is_reported(make_bot, tmp_path):
    folder = tmp_path / "news"
    write_articles(folder, 5)
    seen = []
    make_bot().ingest([folder], progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] == 5


def test_two_processes_rebuilding_at_once_take_turns(make_bot, tmp_path, settings):
    folder = tmp_path / "news"
    write_articles(folder, 40, sentences=6)
    env = {**os.environ, "ASSISTANT_INDEX_DIR": settings.index_dir, "ASSISTANT_LOCK_TIMEOUT": "300"}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_CHROMA_URL"):
        env.pop(name, None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant", "rebuild", "--json", str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    reports = [json.loads(out) for out, _ in outs]
    # both read and embed at once; under the lock each batch is written by one, found unchanged by the other
    assert sum(r["added"] for r in reports) == 40
    assert all(r["added"] + r["unchanged"] == 40 and r["updated"] == 0 for r in reports), reports
    bot = make_bot()
    assert len(bot.articles()) == 40
    assert_consistent(bot.store)

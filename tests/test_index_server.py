"""The same index behaviour against a real `chroma run` server on 127.0.0.1 (started by scripts/test)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from assistant import Assistant
from tests.helpers import assert_consistent, write_articles

pytestmark = pytest.mark.server


@pytest.fixture
def server_bot(settings, chroma_url, embedder):
    server_settings = replace(settings, chroma_url=chroma_url, collection=f"t{uuid.uuid4().hex[:12]}")
    bot = Assistant(settings=server_settings, embedder=embedder)
    yield bot
    from assistant.store import drop_index

    drop_index(server_settings)


def test_server_mode_ingest_update_remove(server_bot, tmp_path, embedder):
    folder = tmp_path / "news"
    paths = write_articles(folder, 3)
    assert server_bot.rebuild(folder).added == 3
    calls = embedder.calls
    again = server_bot.rebuild(folder)
    assert again.unchanged == 3 and embedder.calls == calls
    paths[0].write_text("Council of Arden votes\nThe harbour tax was cut by half.", "utf-8")
    paths[1].unlink()
    report = server_bot.rebuild(folder)
    assert (report.updated, report.removed, report.unchanged) == (1, 1, 1)
    assert_consistent(server_bot.store)
    ans = server_bot.answer("What happened to the harbour tax?")
    assert ans.answered and ans.citations[0].text == "The harbour tax was cut by half."
    assert server_bot.status().index == server_bot.settings.chroma_url


def test_server_mode_lexical_side_follows_changes_by_another_client(server_bot, settings, tmp_path, embedder):
    folder = tmp_path / "news"
    write_articles(folder, 2)
    server_bot.rebuild(folder)
    assert server_bot.answer("Which budget funds project 1-3?").answered
    other = Assistant(settings=server_bot.settings, embedder=embedder)  # e.g. `assistant watch` elsewhere
    (folder / "late.txt").write_text("Late news\nThe zebra crossing on Quill Street was repainted blue.", "utf-8")
    other.ingest([folder / "late.txt"])
    ans = server_bot.answer("What colour was the zebra crossing on Quill Street repainted?")
    # seen once in CI (1 of 4 clean runs), never locally: say what the reader saw if it happens again
    why = f"decision: {ans.trace.decision}; sentences: {[(h.article_id, h.text[:40]) for h in ans.trace.sentences]}"
    assert ans.answered and ans.citations[0].article_id == "late", why
    hits = server_bot.retriever.lexical.search(["quill"], 5)
    assert hits and hits[0][0].article_id == "late"

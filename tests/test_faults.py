"""Faults: a Chroma server killed while serving and while a rebuild runs; recovery without restart."""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import replace

import pytest

from assistant import Assistant
from assistant.errors import IndexUnavailableError
from benchmarks.common import CHROMA, ChromaServer
from tests.helpers import assert_consistent, write_articles

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path):
    if not os.path.exists(CHROMA):
        pytest.skip("the chroma command is not installed")
    srv = ChromaServer(tmp_path / "chroma-data")
    srv.start()
    yield srv
    srv.kill()


def test_killed_server_gives_a_clear_error_and_the_app_recovers(server, settings, embedder, articles_dir):
    bot = Assistant(
        settings=replace(settings, chroma_url=server.url, collection=f"f{uuid.uuid4().hex[:8]}", request_timeout=5),
        embedder=embedder,
    )
    bot.ingest([articles_dir])
    assert bot.answer("Which gangs will the U.S. designate?").answered
    server.kill()
    with pytest.raises(IndexUnavailableError, match="unavailable.*Chroma server"):
        bot.answer("Which gangs will the U.S. designate?")
    with pytest.raises(IndexUnavailableError):
        bot.ingest([articles_dir])
    server.start()  # same port, same data: the same Assistant object carries on
    ans = bot.answer("Which gangs will the U.S. designate?")
    assert ans.answered and "Los Lobos" in ans.citations[0].text


def test_server_killed_during_rebuild_then_next_rebuild_completes(server, settings, embedder, tmp_path):
    folder = tmp_path / "news"
    write_articles(folder, 80, sentences=10)
    bot = Assistant(
        settings=replace(settings, chroma_url=server.url, collection=f"f{uuid.uuid4().hex[:8]}", request_timeout=5),
        embedder=embedder,
    )
    errors: list[BaseException] = []
    started = threading.Event()

    def rebuild():
        try:
            bot.rebuild(folder, progress=lambda done, total: started.set())
        except BaseException as exc:  # inspected below
            errors.append(exc)

    worker = threading.Thread(target=rebuild)
    worker.start()
    assert started.wait(120), "the rebuild made no progress"
    server.kill()
    worker.join(120)
    assert not worker.is_alive()
    assert errors and isinstance(errors[0], IndexUnavailableError)
    server.start()
    report = bot.rebuild(folder)
    assert report.added + report.unchanged == 80 and not report.rejected
    assert len(bot.articles()) == 80
    assert_consistent(bot.store)

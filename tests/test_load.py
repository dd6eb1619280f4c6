"""20 concurrent chats through /chat while a rebuild adds 100 articles (embedded index, one process)."""

from __future__ import annotations

import pytest

from benchmarks.bench_load import embedded

pytestmark = pytest.mark.slow


def test_concurrent_chats_during_a_rebuild_all_answered(tmp_path, embedder, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    load = embedded(tmp_path, per_client=1, embedder=embedder)
    assert load["unfinished"] == 0
    assert load["answered"] == load["requests"] == 20, load["errors"]
    assert load["rebuild"]["added"] == 100 and load["rebuild"]["unchanged"] == 1
    assert load["articles_after"] == load["articles_expected"] == 101

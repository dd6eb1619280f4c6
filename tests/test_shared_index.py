"""One index, several processes: a long-running Assistant (as in `assistant serve`) follows every
change another process makes (`assistant ingest`, `remove`, `rebuild`), and the lexical index
swaps whole snapshots, so a question asked during a refresh never sees half of one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from tests.conftest import ROOT, SAMPLE_ID

GANGS = "Which gangs will the U.S. designate as terrorist organizations?"
FESTIVAL = "How many visitors did the Zebra Festival in Quillton draw?"


def festival(visitors: str) -> str:
    return (
        f"Zebra Festival in Quillton\nThe Zebra Festival in Quillton drew {visitors} visitors on Saturday.\n"
        "Organisers said the lantern parade lasted six hours.\nThe town council paid for the stage."
    )


def cli(settings, *args: str) -> str:
    """`assistant ARGS` in a separate process on the same index, as a person would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(
        PYTHONPATH=str(ROOT), ASSISTANT_INDEX_DIR=settings.index_dir, ASSISTANT_ARTICLES_DIR=settings.articles_dir
    )
    done = subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def cited(ans) -> list[str]:
    return [c.text for c in ans.citations]


def test_a_running_assistant_follows_another_process(bot, settings, tmp_path):
    assert bot.answer(GANGS).answered  # the vector indexes are now loaded in this process
    new = tmp_path / "festival.txt"
    new.write_text(festival("40,000"), encoding="utf-8")

    assert "1 added" in cli(settings, "ingest", str(new))
    ans = bot.answer(FESTIVAL)
    assert ans.answered and any("40,000 visitors" in t for t in cited(ans)), ans.text

    new.write_text(festival("55,000"), encoding="utf-8")
    assert "1 updated" in cli(settings, "ingest", str(new))
    ans = bot.answer(FESTIVAL)
    assert ans.answered and any("55,000 visitors" in t for t in cited(ans)), ans.text
    assert not any("40,000" in t for t in cited(ans))

    assert "1 removed" in cli(settings, "remove", SAMPLE_ID)
    gone = bot.answer(GANGS)
    assert all(c.article_id != SAMPLE_ID for c in gone.citations)
    assert not gone.answered or "Los Lobos" not in gone.text
    assert [a.id for a in bot.articles()] == ["festival"]
    assert bot.answer(FESTIVAL).answered

    # rebuild mirrors the sample folder: the sample comes back, the festival (not in the folder) goes
    assert "1 added" in cli(settings, "rebuild")
    assert [a.id for a in bot.articles()] == [SAMPLE_ID]
    ans = bot.answer(GANGS)
    assert ans.answered and "Los Lobos" in ans.citations[0].text
    assert all(c.article_id == SAMPLE_ID for c in bot.answer(FESTIVAL).citations)


def test_a_running_assistant_follows_a_reset_in_another_process(bot, settings, tmp_path):
    assert bot.answer(GANGS).answered
    folder = tmp_path / "only-festival"
    folder.mkdir()
    (folder / "festival.txt").write_text(festival("40,000"), encoding="utf-8")
    cli(settings, "rebuild", "--reset", str(folder))
    assert [a.id for a in bot.articles()] == ["festival"]
    ans = bot.answer(FESTIVAL)
    assert ans.answered and any("40,000 visitors" in t for t in cited(ans))
    assert not bot.answer(GANGS).answered


def test_a_search_during_a_lexical_refresh_sees_one_whole_index(bot, tmp_path, monkeypatch):
    """The refreshing thread is held just before it would publish the new vocabulary."""
    import bm25s

    lexical = bot.retriever.lexical
    lexical.refresh(bot.store.state()["generation"])
    before = lexical.size
    assert lexical.search(["zebra"], 5) == []
    new = tmp_path / "festival.txt"
    new.write_text(festival("40,000"), encoding="utf-8")
    assert bot.ingest([new]).added == 1

    reached, release = threading.Event(), threading.Event()
    builder: list[threading.Thread] = []

    class HeldBM25(bm25s.BM25):
        indexed = False

        def index(self, *args, **kwargs):
            result = super().index(*args, **kwargs)
            self.indexed = True
            return result

        @property
        def vocab_dict(self):  # read once the index is built: the refresh's last step before publishing
            if self.indexed and builder and threading.current_thread() is builder[0]:
                reached.set()
                release.wait(30)
            return self._vocab_dict

        @vocab_dict.setter
        def vocab_dict(self, value):
            self._vocab_dict = value

    monkeypatch.setattr(bm25s, "BM25", HeldBM25)
    thread = threading.Thread(target=lexical.refresh, args=(bot.store.state()["generation"],))
    builder.append(thread)
    thread.start()
    try:
        while not reached.wait(0.05) and thread.is_alive():
            pass
        # the new index is built but not published: a reader sees the old one whole (no festival, its old size),
        # never the new refs with the old vocabulary or the other way round
        assert thread.is_alive() and reached.is_set()
        assert (lexical.size, lexical.search(["zebra", "festival"], 5)) == (before, [])
        assert lexical.snapshot().size == before and "zebra" not in lexical.snapshot().vocab
    finally:
        release.set()
        thread.join(30)
    assert lexical.size == before + 2 and lexical.search(["zebra"], 5)[0][0].article_id == "festival"


def _can_mount_read_only(folder) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}'"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def test_a_read_only_index_can_still_be_read(bot, settings, tmp_path):
    """The index folder on a read-only mount (root ignores file modes, so chmod cannot show this):
    status and questions work; writes are refused with the reason."""
    folder = settings.index_dir
    if not _can_mount_read_only(folder):
        pytest.skip("needs `unshare -m` and mount (a private read-only bind mount)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_INDEX_DIR=folder)
    python = f"'{sys.executable}' -m assistant"
    script = (
        f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' && touch '{folder}/x' ; "
        f"{python} status --json > '{tmp_path}/status.json' && echo status-ok; "
        f"{python} ask 'Which gangs will the U.S. designate as terrorist organizations?' && echo ask-ok; "
        f"{python} remove {SAMPLE_ID}; echo remove-exit=$?"
    )
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert "Read-only file system" in done.stderr  # the mount was read-only indeed
    assert "status-ok" in done.stdout and "ask-ok" in done.stdout, done.stderr
    assert "Los Lobos and Los Choneros" in done.stdout
    assert json.loads((tmp_path / "status.json").read_text())["articles"] == 1
    assert "remove-exit=1" in done.stdout
    assert f"error: the index folder '{folder}' is read-only; make it writable" in done.stderr
    assert f"the index at {folder} is read-only: reading a copy" in done.stderr
    assert [a.id for a in bot.articles()] == [SAMPLE_ID]  # nothing was lost

"""One index, several processes: a long-running Assistant (as in `assistant serve`) follows every
change another process makes (`assistant ingest`, `remove`, `rebuild`), and the lexical index
swaps whole snapshots, so a question asked during a refresh never sees half of one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from tests.conftest import ROOT, SAMPLE_ID

GANGS = "Which gangs will the U.S. designate as terrorist organizations?"
FESTIVAL = "How many visitors did the Zebra Festival in Quillton draw?"


def festival(visitors: str) -> str:
    return (f"Zebra Festival in Quillton\nThe Zebra Festival in Quillton drew {visitors} visitors on Saturday.\n"
            "Organisers said the lantern parade lasted six hours.\nThe town council paid for the stage.")


def cli(settings, *args: str) -> str:
    """`assistant ARGS` in a separate process on the same index, as a person would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_INDEX_DIR=settings.index_dir,
               ASSISTANT_ARTICLES_DIR=settings.articles_dir)
    done = subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True,
                          timeout=300)
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
        # whatever a reader sees now is one index: the old one (no festival) or the new one (with it)
        size, found = lexical.size, lexical.search(["zebra", "festival"], 5)
        assert (size, bool(found)) in {(before, False), (before + 2, True)}, (size, found)
    finally:
        release.set()
        thread.join(30)
    assert lexical.size == before + 2 and lexical.search(["zebra"], 5)[0][0].article_id == "festival"

"""A folder means that folder: links, special files and path tricks, on a real filesystem in tmp_path.

Each test runs on the embedded index and, with a Chroma server (marker `server`), on the server too.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.indexing.watch.watch import snapshot, watch

SECRET = "The vault code is 4711 and nobody outside the folder may read it."
OUTSIDE = "links outside the folder are not followed"


@pytest.fixture
def folder(tmp_path) -> Path:
    news = tmp_path / "news"
    news.mkdir()
    (news / "harbour.txt").write_text("Harbour reopens\nThe harbour of Port Lyle reopened on Monday.", "utf-8")
    return news


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET, "utf-8")
    return path


def _reasons(report) -> dict[str, str]:
    return {Path(r.path).name: r.reason for r in report.rejected}


def _stored_text(bot) -> str:
    return " ".join(bot.article(a.id).text for a in bot.articles())


def test_a_link_out_of_the_folder_is_rejected_and_never_read(any_bot, folder, secret):
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "elsewhere").symlink_to(secret.parent, target_is_directory=True)
    for run in (any_bot.ingest, any_bot.rebuild):
        report = run(folder)
        assert _reasons(report) == {"passwd.txt": OUTSIDE, "elsewhere": OUTSIDE}
        assert [a.id for a in any_bot.articles()] == ["harbour"]
    assert "4711" not in _stored_text(any_bot)
    assert any_bot.answer("What is the vault code?").answered is False


def test_rebuild_of_a_folder_holding_the_index_skips_the_index(make_bot, folder, tmp_path):
    """The index folder (and any other Chroma store) inside the articles folder holds Chroma's own files."""
    bot = make_bot(index_dir=str(folder / "index"))
    other = make_bot(index_dir=str(folder / "old" / "store"))  # another Chroma store, by its database file
    assert other.ingest([folder / "harbour.txt"]).added == 1
    for run in (bot.rebuild, bot.ingest):
        report = run(folder)
        assert report.rejected == []
        assert [a.id for a in bot.articles()] == ["harbour"]
    assert list(snapshot(folder)) == [str(folder / "harbour.txt")]  # `watch` sees no change when the index is written
    with pytest.raises(InputError, match="is a Chroma index folder, not a folder of articles"):
        bot.rebuild(folder / "index")  # mirroring it would remove every article
    assert [a.id for a in bot.articles()] == ["harbour"]


def test_a_file_named_explicitly_is_read_wherever_it_lives(any_bot, folder, secret):
    (folder / "passwd.txt").symlink_to(secret)
    report = any_bot.ingest([secret, folder / "passwd.txt"])
    assert (report.added, report.rejected) == (1, [])  # the same file twice is read once
    assert "4711" in _stored_text(any_bot)


def test_a_link_inside_the_folder_is_indexed_once(any_bot, folder):
    (folder / "alias.txt").symlink_to("harbour.txt")
    (folder / "sub").mkdir()
    (folder / "sub" / "again.txt").symlink_to(folder / "harbour.txt")
    (folder / "mirror").symlink_to(folder / "sub", target_is_directory=True)
    report = any_bot.rebuild(folder)
    assert (report.added, report.rejected) == (1, [])
    assert [a.id for a in any_bot.articles()] == ["harbour"]


def test_a_link_inside_to_a_file_not_otherwise_seen_is_read(any_bot, folder):
    hidden = folder / ".drafts" / "storm.txt"
    hidden.parent.mkdir()
    hidden.write_text("Storm warning\nA storm is expected on the coast tonight.", "utf-8")
    (folder / "storm.txt").symlink_to(hidden)
    report = any_bot.ingest(folder)
    assert (report.added, report.rejected) == (2, [])


def test_symlink_loops_are_rejected_and_the_rest_indexed(any_bot, folder):
    (folder / "a.txt").symlink_to("b.txt")
    (folder / "b.txt").symlink_to("a.txt")
    (folder / "self.md").symlink_to("self.md")
    (folder / "round").symlink_to(folder, target_is_directory=True)
    (folder / "gone.txt").symlink_to(folder / "missing.txt")
    report = any_bot.ingest(folder)
    reasons = _reasons(report)
    assert set(reasons) == {"a.txt", "b.txt", "self.md", "gone.txt"}
    assert all("symlink loop" in reasons[n] for n in ("a.txt", "b.txt", "self.md"))
    assert "does not exist" in reasons["gone.txt"]
    assert report.added == 1


def test_special_files_are_rejected_without_being_opened(any_bot, folder):
    os.mkfifo(folder / "pipe.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "talk.md"))
        done: list = []
        worker = threading.Thread(target=lambda: done.append(any_bot.rebuild(folder)), daemon=True)
        worker.start()
        worker.join(120)  # a bound against hanging the suite, not a speed check
        if worker.is_alive():
            with open(folder / "pipe.txt", "wb"):  # let the blocked reader go before failing
                pass
            worker.join(30)
            pytest.fail("ingesting a folder with a FIFO blocked on the FIFO")
    reasons = _reasons(done[0])
    assert reasons["pipe.txt"].startswith("a named pipe (FIFO), not a regular file")
    assert reasons["talk.md"].startswith("a socket, not a regular file")
    assert done[0].added == 1


def test_a_device_named_explicitly_is_rejected(any_bot):
    report = any_bot.ingest(["/dev/null"])
    assert report.rejected[0].reason.startswith("a character device, not a regular file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, so permissions cannot make one unreadable")
def test_an_unreadable_file_is_rejected_with_its_reason(any_bot, folder):
    locked = folder / "locked.txt"
    locked.write_text("Locked away. Nobody reads this.", "utf-8")
    locked.chmod(0)
    try:
        report = any_bot.ingest(folder)
    finally:
        locked.chmod(0o644)
    assert "permission denied" in _reasons(report)["locked.txt"]


def test_a_folder_named_like_an_article_is_walked_not_read(any_bot, folder):
    (folder / "x.txt").mkdir()
    (folder / "x.txt" / "inner.txt").write_text("Inner story\nThe bridge reopened after repairs.", "utf-8")
    report = any_bot.ingest(folder)
    assert (report.added, report.rejected) == (2, [])
    assert {a.id for a in any_bot.articles()} == {"harbour", "inner"}


def test_watch_rejects_a_link_out_that_appears(any_bot, folder, secret):
    reports = []

    def between_rounds(_seconds):
        if len(reports) == 1 and not (folder / "passwd.txt").is_symlink():
            (folder / "passwd.txt").symlink_to(secret)

    watch(any_bot, folder, 0, reports.append, max_rounds=3, sleep=between_rounds)
    assert len(reports) == 2  # the first rebuild, then the one the new link triggered
    assert _reasons(reports[1]) == {"passwd.txt": OUTSIDE}
    assert [a.id for a in any_bot.articles()] == ["harbour"]
    assert "4711" not in _stored_text(any_bot)

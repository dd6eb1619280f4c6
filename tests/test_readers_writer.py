"""Readers never fail because a writer writes (issue 24): one index, a writer process adding, updating and removing
articles in a loop, a reader process asking every 100 ms. Before the read/write lock, such a reader failed with
"Error finding id" a few times a minute. The short form runs in CI; ASSISTANT_TEST_RW_SECONDS=180 runs the full
three minutes (benchmarks/bench_readers_writer.py records both modes in docs/reliability.md)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time

import pytest

from assistant import index_lock
from assistant.errors import IndexBusyError
from benchmarks.readers_writer import run

SECONDS = float(os.environ.get("ASSISTANT_TEST_RW_SECONDS", "25"))


def _verdict_ok(verdict: dict) -> None:
    assert verdict["exit_codes"] == {"writer": 0, "reader": 0}, verdict["stderr"]
    assert verdict["errors"] == 0, verdict["error_examples"]
    assert verdict["wrong_citations"] == 0, verdict["wrong_examples"]
    # the two really overlapped: many writes of each kind, many answers
    assert verdict["adds"] >= 3 and verdict["updates"] >= 2 and verdict["removes"] >= 1, verdict
    assert verdict["answers"] >= 20, verdict


@pytest.mark.slow
def test_a_reader_process_never_fails_while_a_writer_process_writes(tmp_path):
    _verdict_ok(run(tmp_path, SECONDS, interval=0.1))


@pytest.mark.server
def test_the_same_against_a_chroma_server(tmp_path, chroma_url):
    from assistant import Settings
    from assistant.client import drop_index

    settings = Settings.from_env(env={"ASSISTANT_CHROMA_URL": chroma_url}, index_dir=str(tmp_path / "index"))
    drop_index(settings)  # the server's collections are shared by every test: start from none
    try:
        _verdict_ok(run(tmp_path, min(SECONDS, 20), interval=0.1, chroma_url=chroma_url))
    finally:
        drop_index(settings)


# ---- the lock itself


@pytest.fixture
def settings(tmp_path):
    from assistant import Settings

    folder = tmp_path / "index"
    folder.mkdir()
    return Settings.from_env(env={"ASSISTANT_LOCK_TIMEOUT": "5"}, index_dir=str(folder))


def _hold_write(index_dir: str, started, release) -> None:  # in another process
    from assistant import Settings

    settings = Settings.from_env(env={}, index_dir=index_dir)
    with index_lock.writing(settings, time.monotonic() + 5):
        started.set()
        release.wait(10)


@contextlib.contextmanager
def _writer_holding(settings):
    """Another process holding the write lock of `settings`' index until the block ends."""
    ctx = multiprocessing.get_context("spawn")
    started, release = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_hold_write, args=(settings.index_dir, started, release))
    writer.start()
    try:
        assert started.wait(30)
        yield release
    finally:
        release.set()
        writer.join(10)


def test_a_read_waits_for_a_write_in_another_process(settings):
    with _writer_holding(settings) as release:
        done = threading.Event()

        def read() -> None:
            with index_lock.reading(settings):
                done.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert not done.wait(0.5)  # the write is in progress: the read waits
        release.set()
        assert done.wait(5)  # and goes on once the batch is written
        reader.join(5)


def test_a_writer_waits_for_the_reads_in_flight_and_no_stream_of_readers_starves_it(settings):
    stop = threading.Event()
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            with index_lock.reading(settings):
                reads[0] += 1
                time.sleep(0.02)  # readers overlap: there is always one inside

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        t0 = time.monotonic()
        with index_lock.writing(settings, time.monotonic() + 5):
            during = reads[0]
            time.sleep(0.2)
            assert reads[0] == during  # nobody read while the batch was written
        assert time.monotonic() - t0 < 4  # it got in: the gate held new readers back
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    assert reads[0] > during  # and the readers went on after it


def test_a_read_that_waits_too_long_says_so(settings):
    from dataclasses import replace

    with _writer_holding(settings):
        with pytest.raises(IndexBusyError, match="let it finish"):
            with index_lock.reading(replace(settings, lock_timeout=0.3)):
                pass


def test_nested_reads_and_reads_inside_a_write_take_nothing_and_a_write_inside_a_read_is_refused(settings):
    with index_lock.writing(settings, time.monotonic() + 1):
        with index_lock.reading(settings):  # the writer reads what it writes
            pass
    with index_lock.reading(settings):
        with index_lock.reading(settings):
            pass
        with pytest.raises(RuntimeError, match="inside a read"):
            with index_lock.writing(settings, time.monotonic() + 1):
                pass
    with index_lock.writing(settings, time.monotonic() + 1):  # everything was released
        pass


def test_a_chroma_server_index_takes_no_file_lock(tmp_path):
    from assistant import Settings

    settings = Settings.from_env(env={"ASSISTANT_CHROMA_URL": "http://127.0.0.1:9"}, index_dir=str(tmp_path / "x"))
    with index_lock.writing(settings, time.monotonic() + 1), index_lock.reading(settings):
        pass
    assert not (tmp_path / "x").exists()


def test_a_read_the_store_fails_from_the_inside_is_tried_again_and_other_failures_are_not(bot):
    """A Chroma server can fail a read that meets a write with an internal error; the same read succeeds a moment
    later (`Store.snapshot`). A failure of another kind (the server gone) is raised at once."""
    from chromadb.errors import InternalError

    from assistant.client import translate_chroma_error
    from assistant.errors import IndexUnavailableError

    calls = []

    def flaky(fails: int, cause: Exception):
        def read() -> str:
            calls.append(1)
            if len(calls) <= fails:
                raise translate_chroma_error(cause, bot.settings) from cause
            return "read"

        return read

    assert bot.store.snapshot(flaky(2, InternalError("Error finding id"))) == "read" and len(calls) == 3
    calls.clear()
    with pytest.raises(IndexUnavailableError, match="Error finding id"):
        bot.store.snapshot(flaky(3, InternalError("Error finding id")))  # three tries, then the error stands
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(IndexUnavailableError):
        bot.store.snapshot(flaky(1, ConnectionError("refused")))
    assert len(calls) == 1
    assert bot.answer("Which gangs will the U.S. designate as terrorist organizations?").answered  # still serves

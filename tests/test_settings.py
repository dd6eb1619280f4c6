"""Settings are checked when they are read: a bad one stops the command with a message that names the
variable, the bad value and what is allowed; `serve` refuses to open an anonymous chat to the network."""

from __future__ import annotations

import logging

import pytest

from assistant.cli.main import main
from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.web import server as web


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ASSISTANT_CHROMA_URL",
        "ASSISTANT_EMBEDDINGS",
        "ASSISTANT_AUTH",
        "ASSISTANT_PORT",
        "GRADIO_SERVER_PORT",
        "ASSISTANT_MCP",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    return monkeypatch


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("ASSISTANT_REFUSAL_THRESHOLD", "high", "a number from 0 to 2"),
        ("ASSISTANT_REFUSAL_THRESHOLD", "nan", "a number from 0 to 2"),
        ("ASSISTANT_PORT", "abc", "a whole number from 1 to 65535"),
        ("GRADIO_SERVER_PORT", "99999", "a whole number from 1 to 65535"),
        ("ASSISTANT_MAX_FILE_MB", "-5", "a number greater than 0 and at most 1000 (MB)"),
        ("ASSISTANT_REQUEST_TIMEOUT", "0", "a number greater than 0 and at most 3600 (seconds)"),
        ("ASSISTANT_LOCK_TIMEOUT", "0", "a number greater than 0 and at most 86400 (seconds)"),
        ("ASSISTANT_TOP_K", "2.5", "a whole number from 1 to 100"),
        ("ASSISTANT_TOP_K", "0", "a whole number from 1 to 100"),
        ("ASSISTANT_MAX_RETRIES", "-1", "a whole number from 0 to 10"),
    ],
)
def test_a_bad_setting_stops_the_command_with_a_message(env, capsys, name, value, allowed):
    env.setenv(name, value)
    assert main(["status"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {name}='{value}' is not allowed: it must be {allowed}. Set it to e.g. ")
    assert captured.err.endswith(", or unset it for the default.\n") and captured.err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("OPENAI_BASE_URL", "localhost:8080", "OPENAI_BASE_URL='localhost:8080' is not an http(s) URL"),
        ("ASSISTANT_COLLECTION", "a/b", "ASSISTANT_COLLECTION='a/b' is not allowed"),
        ("ASSISTANT_AUTH", "bob:", "ASSISTANT_AUTH must look like user:password"),
        ("ASSISTANT_CONDENSE", "always", "ASSISTANT_CONDENSE='always' is not understood"),
        ("ASSISTANT_MODEL_KEEP_ALIVE", "forever", "ASSISTANT_MODEL_KEEP_ALIVE='forever' is not allowed"),
        ("ASSISTANT_MODEL_KEEP_ALIVE", "8d", "ASSISTANT_MODEL_KEEP_ALIVE='8d' is not allowed"),
    ],
)
def test_other_bad_settings_are_named(env, capsys, name, value, words):
    env.setenv(name, value)
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {words}") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 600.0), ("0", 0.0), ("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0)]
)
def test_the_model_keep_alive_reads_seconds_or_units(raw, seconds):
    env = {} if raw is None else {"ASSISTANT_MODEL_KEEP_ALIVE": raw}
    assert Settings.from_env(env=env).model_keep_alive == seconds


def test_settings_made_in_code_are_checked_too():
    with pytest.raises(ConfigError, match=r"ASSISTANT_MAX_FILE_MB='-1' is not allowed"):
        Settings.from_env(env={}, max_file_mb=-1)
    with pytest.raises(ConfigError, match=r"ASSISTANT_REQUEST_TIMEOUT='0' is not allowed"):
        Settings(request_timeout=0).validate()


def test_the_port_is_read_once_into_settings():
    assert Settings.from_env(env={}).port == 7860
    assert Settings.from_env(env={"GRADIO_SERVER_PORT": "8001"}).port == 8001
    settings = Settings.from_env(env={"ASSISTANT_PORT": " 8123 ", "GRADIO_SERVER_PORT": "8001"})
    assert settings.port == 8123
    assert web.launch_options(settings)["server_port"] == 8123
    assert web.launch_options(settings, port=9000)["server_port"] == 9000


def test_no_part_of_a_password_is_shown():
    masked = Settings.from_env(
        env={"OPENAI_API_KEY": "sk-verysecretvalue1234", "ASSISTANT_AUTH": "ann:a-long-password-9876"}
    ).masked()
    assert masked["openai_api_key"] == "****1234" and masked["auth"] == "****"
    assert Settings.from_env(env={"OPENAI_API_KEY": "short-key"}).masked()["openai_api_key"] == "****"


class Launched(Exception):
    pass


@pytest.fixture
def no_launch(monkeypatch):
    """`serve` gets as far as launching, then stops: the options it would have launched with are kept."""
    seen: dict = {}

    class App:
        def launch(self, **options):
            seen.update(options)
            raise Launched

    def build(bot, **chosen):
        seen.update(chosen)  # what the app offers (add_by_url_tool)
        return App()

    monkeypatch.setattr(web, "build_app", build)
    monkeypatch.setattr(web, "check_port", lambda host, port: None)  # whatever else this machine serves
    return seen


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_serving_beyond_this_machine_without_a_login_is_refused(env, capsys, no_launch, host):
    assert main(["serve", "--host", host]) == 1
    err = capsys.readouterr().err
    assert f"--host {host} opens the web chat to the network, and ASSISTANT_AUTH is not set" in err
    assert "--allow-anonymous" in err and not no_launch


def test_serving_beyond_this_machine_with_a_login_or_on_purpose(env, no_launch, caplog):
    env.setenv("ASSISTANT_AUTH", "ann:secret-pw")
    with pytest.raises(Launched):
        main(["serve", "--host", "0.0.0.0", "--port", "8555"])
    assert no_launch["server_name"] == "0.0.0.0" and no_launch["auth"] == ("ann", "secret-pw")
    assert no_launch["server_port"] == 8555 and no_launch["add_by_url_tool"] is True  # a login is asked for
    env.delenv("ASSISTANT_AUTH")
    no_launch.clear()
    with caplog.at_level(logging.WARNING), pytest.raises(Launched):
        main(["serve", "--host", "0.0.0.0", "--allow-anonymous"])
    assert no_launch["auth"] is None and no_launch["add_by_url_tool"] is False  # no agent adds pages to an open server
    assert "WITHOUT A LOGIN" in caplog.text and "ASSISTANT_AUTH" in caplog.text


def test_serve_on_this_machine_needs_no_login(env, no_launch):
    with pytest.raises(Launched):
        main(["serve"])
    assert no_launch["server_name"] == "127.0.0.1" and no_launch["auth"] is None
    assert no_launch["add_by_url_tool"] is True and no_launch["mcp_server"] is False


def test_serve_with_mcp_by_flag_or_setting(env, no_launch):
    with pytest.raises(Launched):
        main(["serve", "--mcp"])
    assert no_launch["mcp_server"] is True
    no_launch.clear()
    env.setenv("ASSISTANT_MCP", "1")
    with pytest.raises(Launched):
        main(["serve"])
    assert no_launch["mcp_server"] is True


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_a_bad_port_flag_is_a_usage_error(env, capsys, port):
    with pytest.raises(SystemExit) as info:
        main(["serve", "--port", port])
    assert info.value.code == 2
    assert f"'{port}' is not a port: use a whole number from 1 to 65535" in capsys.readouterr().err

"""Starting the web chat: a port already taken is refused at once, before anything heavy is built."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import httpx
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


# ---- with ASSISTANT_AUTH: every route asks for the login, but the login page itself
LOGIN = ("reader", "s3cret-pass")
PROBE = {"session_hash": "probe", "fn_index": 0, "event_id": "probe", "data": []}  # a valid cancel or reset


def routes(app) -> list[tuple[str, str]]:
    """(path, method) of every route the server answers, routers included, HEAD apart."""

    def walk(found, prefix=""):
        for r in found:
            if hasattr(r, "original_router"):  # an included router (FastAPI >= 0.165)
                yield from walk(r.original_router.routes, prefix + r.include_context.prefix)
            elif hasattr(r, "routes"):
                yield from walk(r.routes, prefix + getattr(r, "path", ""))
            else:
                for method in sorted(getattr(r, "methods", None) or ["GET"]):
                    yield prefix + r.path, method

    return sorted(set(walk(app.routes)), key=lambda pm: (pm[0] == "/logout", pm))  # logging out last


def status(client, path: str, method: str) -> int:
    url = re.sub(r"\{[^}]+\}", "x", path)
    body = {"json": PROBE} if method == "POST" else {}
    with client.stream(method, url, **body) as response:  # headers only: some routes stream without end
        return response.status_code


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, embedder):
    from assistant import Assistant, Settings
    from assistant.web.app import build_app
    from assistant.web.server import launch_options
    from tests.helpers import free_port

    root = tmp_path_factory.mktemp("guarded")
    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(root / "index"),
        articles_dir=str(root / "articles"),
        auth=":".join(LOGIN),
    )
    bot = Assistant(settings=settings, embedder=embedder)
    bot.ingest([SAMPLE_DIR])
    demo = build_app(bot)
    _, url, _ = demo.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    yield demo, url.rstrip("/")
    demo.close()


def test_without_the_login_only_the_login_page_answers(guarded):
    demo, url = guarded
    found = routes(demo.app)
    assert len(found) > 60 and ("/gradio_api/cancel", "POST") in found and ("/gradio_api/reset", "POST") in found
    with httpx.Client(base_url=url, timeout=10) as anonymous:
        answered = {(p, m): s for p, m in found if (s := status(anonymous, p, m)) != 401}
        page = anonymous.get("/").text
    assert answered == {
        ("/", "GET"): 200,  # Gradio's login form
        ("/", "HEAD"): 200,
        ("/login", "POST"): 422,  # no user and password in a form
        ("/login/", "POST"): 422,
        ("/assets/{path:path}", "GET"): 404,  # the page's scripts and styles: no such file
        ("/static/{path:path}", "GET"): 404,  # its fonts
        ("/theme.css", "GET"): 200,
        ("/favicon.ico", "GET"): 200,
        ("/gradio_api/startup-events", "GET"): 200,  # launch() calls it; it starts the queue once, then says false
    }
    assert '"auth_required":true' in page.replace(" ", "") and "Ecuador" not in page


def test_with_the_login_every_route_answers(guarded):
    demo, url = guarded
    with httpx.Client(base_url=url, timeout=10) as reader:
        assert reader.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]}).status_code == 200
        assert reader.post("/gradio_api/cancel", json=PROBE).json() == {"success": True}
        refused = [(p, m) for p, m in routes(demo.app) if status(reader, p, m) == 401]  # /logout comes last
        assert reader.get("/gradio_api/info").status_code == 401  # logged out
    assert refused == []


def test_the_route_list_is_not_published(guarded):
    demo, url = guarded
    with httpx.Client(base_url=url, timeout=10) as reader:
        reader.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]})
        assert reader.get("/openapi.json").status_code == 404


@pytest.mark.browser
def test_the_login_form_still_signs_a_browser_in(guarded):
    """The guard lets through what Gradio's login form needs, and the signed-in page then works."""
    from tests.test_web_browser import CHROMIUM, LAUNCH_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, url = guarded
    refused: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
            page.goto(url)
            fields = page.locator("input")
            sync_api.expect(fields).to_have_count(2)
            fields.nth(0).fill(LOGIN[0])
            fields.nth(1).fill(LOGIN[1])
            page.get_by_role("button", name="Login").click()
            sync_api.expect(page.locator("#aa-articles")).to_contain_text("Ecuador gangs terrorist designation")
        finally:
            browser.close()
    assert refused == []


# ---- upload sizes: each file's limit is ours (checked per file, in MB of 1,000,000 bytes), not Gradio's
@pytest.fixture(scope="module")
def small_limit(tmp_path_factory, embedder):
    """The app with ASSISTANT_MAX_FILE_MB=0.1 (100,000 bytes a file)."""
    from assistant import Assistant, Settings
    from assistant.web.app import build_app
    from assistant.web.server import launch_options
    from tests.helpers import free_port

    root = tmp_path_factory.mktemp("small_limit")
    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(root / "index"),
        articles_dir=str(root / "articles"),
        max_file_mb=0.1,
    )
    demo = build_app(Assistant(settings=settings, embedder=embedder))
    _, url, _ = demo.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    yield demo, url.rstrip("/")
    demo.close()


def test_a_file_over_the_limit_reaches_the_app_with_the_others(small_limit):
    """Gradio's own limit refused the whole request (413) for one big file, and its page refused the whole
    selection before sending it, in 1,024-based "Mb"; the app checks each file and says why in its units."""
    demo, url = small_limit
    files = [("files", ("big.txt", b"word " * 24_000)), ("files", ("good.txt", b"Good news.\nIt rained."))]
    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/gradio_api/upload", files=files)
        assert response.status_code == 200
        assert [p.rsplit("/", 1)[-1] for p in response.json()] == ["big.txt", "good.txt"]
        assert client.get("/config").json().get("max_file_size") is None  # no check in the page either


def test_a_selection_too_large_for_the_disk_is_refused_before_it_is_read(small_limit):
    _, url = small_limit
    with httpx.Client(base_url=url, timeout=30) as client:
        too_much = client.post("/gradio_api/upload", files=[("files", ("all.txt", b"x" * 2_100_000))])
        assert too_much.status_code == 413
        assert too_much.text.startswith("This upload is 2.1 MB; the web chat takes at most 2 MB at once")
        chunked = client.post("/gradio_api/upload", content=iter([b"x" * 10]))
        assert (chunked.status_code, chunked.text) == (411, "Send the upload with its length (Content-Length).")

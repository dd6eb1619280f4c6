"""The web chat under a few people at once, through Gradio's own queue over HTTP on 127.0.0.1: adding a page by
address beside an upload, repeated wrong logins, and what a long conversation sends each turn.

The page's events are private (no `gradio_client` endpoint), so `Queue` speaks the browser's protocol:
`POST /gradio_api/queue/join` with the event's `fn_index`, then the session's server-sent events.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.web.app import build_app
from assistant.web.server import launch_options
from tests.conftest import SAMPLE_DIR
from tests.helpers import free_port

LIGHTHOUSE = (
    b"Port Elin lighthouse reopens\nThe Port Elin lighthouse reopened on Saturday after a two-year restoration.\n"
    b"The restoration cost 2.4 million euros.\n"
)


@pytest.fixture(scope="module", autouse=True)
def _no_proxy_for_localhost():
    with pytest.MonkeyPatch.context() as mp:
        for name in ("NO_PROXY", "no_proxy"):
            mp.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
        yield


def launch(root, embedder, login_policy=None, **overrides):
    """build_app over a fresh index holding the sample, launched as `serve` would."""
    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(root / "index"),
        articles_dir=str(root / "articles"),
        **overrides,
    )
    bot = Assistant(settings=settings, embedder=embedder)
    assert bot.ingest([SAMPLE_DIR]).added == 1
    demo = build_app(bot)
    options = launch_options(settings, port=free_port(), login_policy=login_policy)
    _, url, _ = demo.launch(**options, prevent_thread_lock=True, quiet=True)
    return demo, url.rstrip("/")


def fn_index(demo, handler: str) -> int:
    """The event id of the (one) event whose function is the handler method `handler`."""
    found = [i for i, f in demo.fns.items() if getattr(f.fn, "__name__", None) == handler]
    assert len(found) >= 1, handler
    return found[0]


class Queue:
    """One page session on Gradio's queue: `run` sends an event and reads its messages to the end."""

    def __init__(self, url: str, client: httpx.Client | None = None):
        self.url, self.session = url, uuid.uuid4().hex[:12]
        self.http = client or httpx.Client(base_url=url, timeout=httpx.Timeout(30, read=240))

    def run(self, fn: int, data: list[Any], limit: float = 240) -> tuple[list[dict[str, Any]], int]:
        """(the event's messages, the bytes of its server-sent events) once it completed."""
        body = {"data": data, "fn_index": fn, "session_hash": self.session, "event_data": None, "trigger_id": None}
        joined = self.http.post("/gradio_api/queue/join", json=body)
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        messages: list[dict[str, Any]] = []
        size, deadline = 0, time.monotonic() + limit
        with self.http.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                assert time.monotonic() < deadline, f"event {fn} still running after {limit} s"
                if not line.startswith("data:"):
                    continue
                size += len(line.encode())
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id):
                    continue
                messages.append(message)
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return messages, size
        raise AssertionError(f"the stream ended before event {fn} completed: {messages[-3:]}")

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        """A file sent as the page sends it, as the File component's value."""
        sent = self.http.post("/gradio_api/upload", files=[("files", (name, data))])
        sent.raise_for_status()
        return {"path": sent.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}


# ---- 2b: a slow page added by address does not hold up someone else's upload
class Drip(BaseHTTPRequestHandler):
    """A news page sent a few bytes at a time over `SECONDS` (within the fetch's whole deadline)."""

    SECONDS = 8.0
    PAGE = (
        b"<html><head><title>Harbour dredging begins</title></head><body><article><h1>Harbour dredging begins</h1>"
        + b"".join(b"<p>The harbour dredging began on Monday, sentence %d of the story.</p>" % i for i in range(16))
        + b"</article></body></html>"
    )

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        pieces = 16
        step = len(self.PAGE) // pieces + 1
        for i in range(0, len(self.PAGE), step):
            self.wfile.write(self.PAGE[i : i + step])
            self.wfile.flush()
            time.sleep(self.SECONDS / pieces)

    def log_message(self, *args):
        pass


@pytest.fixture
def dripping() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/harbour-dredging"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # the page takes 8 s to arrive
def test_an_upload_does_not_wait_behind_a_slow_page_added_by_address(tmp_path, embedder, dripping):
    demo, url = launch(tmp_path, embedder, allow_private_urls=True, request_timeout=30.0)  # one deadline per fetch
    try:
        add_url, upload = fn_index(demo, "add_url"), fn_index(demo, "upload")
        done: dict[str, float] = {}
        started = time.monotonic()

        def add() -> None:
            messages, _ = Queue(url).run(add_url, [dripping])
            done["url"] = time.monotonic() - started
            done["url_output"] = messages[-1]["output"]["data"]  # type: ignore[assignment]

        adding = threading.Thread(target=add)
        adding.start()
        time.sleep(1.0)  # the page is being fetched
        person = Queue(url)
        messages, _ = person.run(upload, [[person.upload("lighthouse.txt", LIGHTHOUSE)]])
        done["upload"] = time.monotonic() - started
        adding.join(timeout=60)
        assert not adding.is_alive()
    finally:
        demo.close()
    assert "Port Elin lighthouse reopens" in json.dumps(messages[-1]["output"]["data"])
    assert "Harbour dredging begins" in json.dumps(done["url_output"])  # the slow page was added too
    assert done["url"] >= Drip.SECONDS * 0.8  # the last piece arrives one pause before the end
    assert done["upload"] < done["url"] - 3, done  # it did not wait for the page


# ---- 11: password guessing at POST /login is slowed down
LOGIN = ("reader", "s3cret-pass")


def test_wrong_passwords_are_refused_for_a_growing_while_then_the_right_one_signs_in(tmp_path, embedder):
    from assistant.web.guard import LoginPolicy

    short = LoginPolicy(free=3, free_everywhere=100, first=0.5, most=1.0)
    demo, url = launch(tmp_path, embedder, short, auth=":".join(LOGIN))
    try:
        with httpx.Client(base_url=url, timeout=10) as guesser:
            started = time.monotonic()
            answers = [guesser.post("/login", data={"username": LOGIN[0], "password": f"guess-{i}"}) for i in range(20)]
            elapsed = time.monotonic() - started
            statuses = [a.status_code for a in answers]
            checked = statuses.count(400)  # Gradio's "Incorrect credentials": the password was tried
            assert set(statuses) == {400, 429} and statuses[:3] == [400, 400, 400]
            # 3 free tries, then at most one more each time a delay (0.5 s, then 1 s) runs out
            assert checked <= 3 + 1 + int(elapsed / short.first), (statuses, elapsed)
            refused = next(a for a in answers if a.status_code == 429)
            assert refused.json()["detail"].startswith("Too many failed sign-ins; try again in ")
            assert 1 <= int(refused.headers["Retry-After"]) <= 1
            assert guesser.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]}).status_code == 429
            time.sleep(short.most + 0.2)  # the window is over
            assert guesser.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]}).status_code == 200
            assert guesser.get("/gradio_api/info").status_code == 200  # signed in
            wrong = guesser.post("/login", data={"username": LOGIN[0], "password": "again"})
            assert wrong.status_code == 400  # signing in cleared the address's count
    finally:
        demo.close()


def test_guesses_from_many_addresses_are_bounded_together():
    """The same counts as the server keeps, with a clock the test moves: one address after `free` failures,
    and every address once all of them together failed `free_everywhere` times."""
    from assistant.web.guard import LoginPolicy, LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(
        app=None, policy=LoginPolicy(free=3, free_everywhere=10, first=2, most=60), clock=lambda: now[0]
    )  # type: ignore[arg-type]
    assert [throttle.admit("10.0.0.1") for _ in range(4)] == [0, 0, 0, 2.0]  # 3 failures: 2 s to wait
    now[0] += 2.1
    assert throttle.admit("10.0.0.1") == 0 and throttle.admit("10.0.0.1") == 4.0  # then 4 s
    waits = [throttle.admit(f"10.0.1.{i}") for i in range(10)]  # 5 more addresses, 2 guesses each
    assert waits[:6] == [0] * 6 and all(w > 0 for w in waits[6:])  # 10 failures in all: everyone waits
    assert throttle.admit("192.0.2.7") > 0  # a new address too
    now[0] += 2.1  # the delay of all (2 s) is over; the first guesser's own (4 s) is not
    assert throttle.admit("10.0.0.1") > 0
    assert throttle.admit("192.0.2.8") == 0
    throttle.signed_in("192.0.2.8")
    now[0] += 3600 + 61  # an hour without failures: forgotten
    assert throttle.admit("10.0.0.1") == 0 and throttle.admit("10.0.1.0") == 0


# ---- 14: what one turn of a long conversation sends
QUESTIONS = [
    "How much security assistance did the U.S. announce?",
    "Which gangs will be designated as terrorist organizations?",
    "How much of the world's cocaine passes through Ecuador?",
    "What did Noboa say about the designation?",
    "How much was allocated for drone technology?",
]


def test_a_turn_sends_about_as_much_at_turn_25_as_at_turn_1(tmp_path, embedder):
    demo, url = launch(tmp_path, embedder)
    try:
        take, respond = fn_index(demo, "take_question"), fn_index(demo, "respond")
        page = Queue(url)
        data = [None, None, "__all__"] + [None] * (len(demo.fns[respond].inputs) - 3)  # states are the server's
        sizes = []
        for turn in range(25):
            page.run(take, [QUESTIONS[turn % len(QUESTIONS)]])
            messages, size = page.run(respond, data)
            sizes.append(size)
        print("bytes per turn:", sizes)
        # before, turn 1 sent 65 kB (30 kB of it the trace, twice) and turn 25 120 kB: 2.3 kB more each turn
        assert max(sizes) < 1.5 * min(sizes) and sizes[24] - sizes[0] < 3_000, sizes
        last = json.dumps(messages[-1]["output"]["data"])
        assert "drone technology" in last and "Standalone question" not in last
        assert "How much security assistance" not in last  # only this turn's messages, not the first question's

        page.run(fn_index(demo, "show_trace"), [None])  # the trace panel opened: each answer's trace follows it
        page.run(take, [QUESTIONS[0]])
        page.run(respond, data)
        traced, size = page.run(fn_index(demo, "trace"), [None, None])
        print("the trace, with its panel open:", size)
        assert "Standalone question" in json.dumps(traced[-1]["output"]["data"])
    finally:
        demo.close()

"""A scripted OpenAI-compatible HTTP server for tests: real sockets on 127.0.0.1, a random free port.

Each POST to /v1/chat/completions takes the next scripted behaviour from a queue: a reply (as a
JSON completion, or as server-sent events when the request says `stream: true`), an HTTP error
with an OpenAI-style error body, a slow reply, or a hang-up. GET /v1/models lists one model.
Every request is recorded, so tests can assert on the prompt that was sent.

    with FakeOpenAI() as server:
        server.script(reply("Rubio spoke [1]."), fail(429))
        settings.openai_base_url = server.url

A reply's content may be a function of the request body (e.g. to cite a sentence by the number
the prompt gave it). An empty queue answers 500 with `x-should-retry: false`, so a test that
makes more calls than it scripted fails loudly instead of hanging.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Content = str | Callable[[dict[str, Any]], str]
MAX_DELAY = 30.0  # a slow reply never outlives this, and is cut short when the server stops


@dataclass
class Behaviour:
    content: Content = ""
    status: int = 200
    delay: float = 0.0
    hang_up: bool = False
    cut_after: int | None = None  # stream this many pieces, then (after `stall` s) drop the connection
    stall: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str = "server_error"
    alternatives: tuple[tuple[str, float], ...] = ()  # the first token's, sent when the request asks for logprobs


def reply(content: Content) -> Behaviour:
    return Behaviour(content=content)


def scored(content: str, alternatives: dict[str, float]) -> Behaviour:
    """A reply whose first token's alternatives (token -> probability) come back as `logprobs` when asked for."""
    return Behaviour(content=content, alternatives=tuple((t, math.log(p)) for t, p in alternatives.items()))


def fail(status: int, message: str | None = None, error_type: str | None = None) -> Behaviour:
    # retry-after-ms keeps the openai client's retry backoff short in tests
    types = {401: "invalid_request_error", 404: "invalid_request_error", 429: "rate_limit_exceeded"}
    kind = error_type or types.get(status, "server_error")
    return Behaviour(
        content=message or f"scripted HTTP {status}", status=status, headers={"retry-after-ms": "10"}, error_type=kind
    )


def slow(seconds: float, content: Content = "too late") -> Behaviour:
    return Behaviour(content=content, delay=seconds)


def hang_up() -> Behaviour:
    return Behaviour(hang_up=True)


def break_stream(content: str, after: int = 2, stall: float = 0.0) -> Behaviour:
    """A streamed reply that stops mid-way: the connection drops (or first stalls) after `after` pieces."""
    return Behaviour(content=content, cut_after=after, stall=stall)


def prompt_text(body: dict[str, Any]) -> str:
    """All message contents of a chat request, joined."""
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(str(content or ""))
    return "\n\n".join(parts)


def shown_sentences(body: dict[str, Any]) -> dict[int, str]:
    """The numbered sentences `[n] text` a chat request showed the model."""
    return {int(m.group(1)): m.group(2).strip() for m in re.finditer(r"^\[(\d+)\] (.+)$", prompt_text(body), re.M)}


def number_of(body: dict[str, Any], fragment: str) -> int:
    """The number the request gave to the sentence containing `fragment`."""
    for n, text in shown_sentences(body).items():
        if fragment in text:
            return n
    raise AssertionError(f"no shown sentence contains {fragment!r}")


class FakeOpenAI:
    def __init__(self, model: str = "fake"):
        self.model = model
        self.queue: deque[Behaviour] = deque()
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *behaviours: Behaviour) -> FakeOpenAI:
        with self._lock:
            self.queue.extend(behaviours)
        return self

    def next_behaviour(self) -> Behaviour | None:
        with self._lock:
            return self.queue.popleft() if self.queue else None

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
            pass

        def do_GET(self) -> None:  # the stdlib's name
            server.requests.append({"method": "GET", "path": self.path, "body": None})
            if self.path.rstrip("/").endswith("/models"):
                self._json(
                    200, {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "tests"}]}
                )
            else:
                self._not_found()

        def do_POST(self) -> None:  # the stdlib's name
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append({"method": "POST", "path": self.path, "body": body, "headers": dict(self.headers)})
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._not_found()
                return
            behaviour = server.next_behaviour()
            if behaviour is None:
                self._json(
                    500,
                    {"error": {"message": "the fake server has no scripted reply left", "type": "server_error"}},
                    {"x-should-retry": "false"},
                )
                return
            if behaviour.delay and server.stopping.wait(min(behaviour.delay, MAX_DELAY)):
                return
            if behaviour.hang_up:
                self.close_connection = True
                return
            content = behaviour.content(body) if callable(behaviour.content) else behaviour.content
            if behaviour.status != 200:
                self._json(
                    behaviour.status,
                    {"error": {"message": content, "type": behaviour.error_type, "code": behaviour.error_type}},
                    behaviour.headers,
                )
            elif body.get("stream"):
                self._stream(body, content, behaviour)
            else:
                self._json(200, _completion(body, content, behaviour.alternatives))

        def _not_found(self) -> None:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, body: dict[str, Any], content: str, behaviour: Behaviour) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            self.close_connection = True
            first = {"role": "assistant", "content": ""}
            for n, delta in enumerate([first] + [{"content": piece} for piece in _pieces(content)]):
                if behaviour.cut_after is not None and n > behaviour.cut_after:
                    if behaviour.stall:
                        server.stopping.wait(min(behaviour.stall, MAX_DELAY))
                    return  # the connection closes without the end of the stream
                self._event(_chunk(body, delta, None))
            self._event(_chunk(body, {}, "stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event({**_chunk(body, {}, None), "choices": [], "usage": _usage(body, content)})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, payload: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


def _pieces(content: str) -> Iterator[str]:
    """Word-sized deltas, as a model streams them."""
    yield from re.findall(r"\s*\S+", content) or ([content] if content else [])


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt, completion = len(prompt_text(body).split()), len(content.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(body: dict[str, Any], content: str, alternatives: tuple[tuple[str, float], ...] = ()) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    if body.get("logprobs") and alternatives:  # OpenAI's shape (llama.cpp's server gives the same)
        asked = alternatives[: int(body.get("top_logprobs") or 0)]
        top = [{"token": t, "logprob": lp, "bytes": None} for t, lp in asked]
        first = {"token": alternatives[0][0], "logprob": alternatives[0][1], "bytes": None, "top_logprobs": top}
        choice["logprobs"] = {"content": [first]}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [choice],
        "usage": _usage(body, content),
    }


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"

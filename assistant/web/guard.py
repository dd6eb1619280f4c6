"""What the web server lets through before Gradio sees a request: the login, and the size of a body.

Gradio 6 asks for the login (`launch(auth=...)`) on most routes, not all: `/gradio_api/cancel`,
`/gradio_api/reset`, `/gradio_api/heartbeat/...`, `/gradio_api/token` and more answered without one,
and FastAPI's `/openapi.json` listed every route (it is not served now). `LoginRequired` is an ASGI
middleware on the FastAPI app Gradio builds (`launch(app_kwargs={"middleware": ...})`): when the app
has a login, a request that is not signed in reaches only what the login form needs (`OPEN`);
everything else gets Gradio's own 401 "Not authenticated". It reads the session the way Gradio's
`/gradio_api/user` does (the `access-token` cookies in `app.tokens`); if a Gradio release renames those,
nothing is signed in and every route but the form is refused (the tests say so at once).

`BodyLimit` refuses a request whose body is larger than the server takes at once, before reading it.
Gradio's own `max_file_size` is not set: its page refused a whole selection for one file over it (in
1,024-based "Mb") and its server the whole request, so a good file went with the big one. Each file's
limit is checked by `Assistant.upload`, in our units; this only keeps one request from filling the disk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# what a browser that is not signed in needs to show Gradio's login form and sign in (seen in Chromium), and
# the call `launch()` makes to its own server before it returns (it starts the queue once; later calls
# only answer `false`)
OPEN = re.compile(r"/|/login/?|/theme\.css|/favicon\.ico|/assets/.+|/static/.+|/gradio_api/startup-events")
OPEN_METHODS = {"/": {"GET", "HEAD"}, "/login": {"POST"}, "/login/": {"POST"}}


class LoginRequired:
    def __init__(self, app: ASGIApp, message: str = "Not authenticated"):
        self.app, self.message = app, message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.may_pass(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            detail = {"error": "Not authenticated", "auth_message": self.message}
            await JSONResponse({"detail": detail}, status_code=401)(scope, receive, send)

    @staticmethod
    def may_pass(scope: Scope) -> bool:
        server: Any = scope.get("app")
        if getattr(server, "auth", None) is None:  # no login asked for
            return True
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if OPEN.fullmatch(path) and method in OPEN_METHODS.get(path, {"GET", "HEAD"}):
            return True
        cookies, cookie_id = HTTPConnection(scope).cookies, getattr(server, "cookie_id", None)
        tokens = getattr(server, "tokens", {})
        found = [cookies.get(f"access-token-{cookie_id}"), cookies.get(f"access-token-unsecure-{cookie_id}")]
        return cookie_id is not None and any(t and t in tokens for t in found)


class BodyLimit:
    """413 for a body over `max_bytes` by its Content-Length (saying `message(size)`), 411 for one sent
    without a length (chunked), so nothing too large is ever read."""

    def __init__(self, app: ASGIApp, max_bytes: int, message: Callable[[int], str]):
        self.app, self.max_bytes, self.message = app, max_bytes, message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = self.problem(dict(scope.get("headers") or [])) if scope["type"] == "http" else None
        if problem:
            status, text = problem
            await PlainTextResponse(text, status_code=status)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def problem(self, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        length = headers.get(b"content-length")
        if length is None:
            if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                return 411, "Send the upload with its length (Content-Length)."
            return None
        try:
            size = int(length)
        except ValueError:
            return 400, "The request's Content-Length is not a number."
        return (413, self.message(size)) if size > self.max_bytes else None

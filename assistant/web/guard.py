"""What the web server lets through before Gradio sees a request: with a login, only signed-in requests.

Gradio 6 asks for the login (`launch(auth=...)`) on most routes, not all: `/gradio_api/cancel`,
`/gradio_api/reset`, `/gradio_api/heartbeat/...`, `/gradio_api/token`,
and more answered without one, and FastAPI's `/openapi.json` listed every route (it is not served now). `LoginRequired` is an ASGI middleware on the FastAPI app
Gradio builds (`launch(app_kwargs={"middleware": ...})`): when the app has a login, a request that is not
signed in reaches only what the login form needs (`OPEN`); everything else gets Gradio's own
401 "Not authenticated". It reads the session the way Gradio's `/gradio_api/user` does (the
`access-token` cookies in `app.tokens`); if a Gradio release renames those, nothing is signed in and
every route but the form is refused (the tests say so at once).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
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

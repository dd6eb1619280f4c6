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

`LoginThrottle` bounds password guessing at Gradio's `POST /login` (the one route that checks a password;
Gradio counts nothing and an `auth=` callable never sees who is asking). After `LoginPolicy.free` failed
sign-ins from one client address, that address is refused (429, with `Retry-After`) for a delay that
doubles with each further failure, up to `most` seconds; after `free_everywhere` failures from all addresses
together, every address is, so guessing from many addresses is bounded too. A refused attempt is not checked
(and does not lengthen the delay); a right password once the delay is over signs in and clears its address's
count. Counts are forgotten after `forget` seconds without a failure. The client address is the connection's:
behind a reverse proxy every visitor shares the proxy's address, and the per-address limit acts as the global one.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        server: object = scope.get("app")  # Gradio's app: its login, if any, and the tokens of those signed in
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


@dataclass(frozen=True)
class LoginPolicy:
    """How failed sign-ins are slowed down: free tries, then a delay doubling from `first` s up to `most` s."""

    free: int = 5  # failures from one address before it waits
    free_everywhere: int = 30  # failures from all addresses together before everyone waits
    first: float = 1.0  # the first delay, in seconds; each further failure doubles it
    most: float = 900.0  # the longest delay (15 minutes)
    forget: float = 3600.0  # a count is dropped after this long without a failure
    addresses: int = 10_000  # addresses remembered at most (the oldest are forgotten first)


class Tally:
    """Failures counted for one address (or all of them): how long sign-ins wait now."""

    def __init__(self) -> None:
        self.failures, self.last, self.until = 0, 0.0, 0.0

    def wait(self, now: float, policy: LoginPolicy) -> float:
        if self.failures and now - self.last > policy.forget:
            self.failures, self.until = 0, 0.0
        return max(0.0, self.until - now)

    def failed(self, now: float, free: int, policy: LoginPolicy) -> None:
        self.failures += 1
        self.last = now
        if self.failures >= free:
            self.until = now + min(policy.most, policy.first * 2 ** min(self.failures - free, 32))


class LoginThrottle:
    """Refuse sign-ins from an address (or from everyone) that failed too often lately; see `LoginPolicy`.

    An attempt counts as failed from the moment it is let through until Gradio answers 200, so a burst of
    attempts sent at once is throttled as if they had come one after another."""

    PATHS = ("/login", "/login/")

    def __init__(self, app: ASGIApp, policy: LoginPolicy | None = None, clock: Callable[[], float] = time.monotonic):
        self.app, self.policy, self.clock = app, policy or LoginPolicy(), clock
        self.by_address: OrderedDict[str, Tally] = OrderedDict()
        self.everyone = Tally()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.PATHS:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        wait = self.admit(address)
        if wait > 0:
            seconds = math.ceil(wait)
            detail = f"Too many failed sign-ins; try again in {seconds} s."
            headers = {"Retry-After": str(seconds)}
            await JSONResponse({"detail": detail}, status_code=429, headers=headers)(scope, receive, send)
            return

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self.signed_in(address)
            await send(message)

        await self.app(scope, receive, answered)

    def admit(self, address: str) -> float:
        """0 and the attempt counted as a failure (until it succeeds), or the seconds the address must wait."""
        now, policy = self.clock(), self.policy
        tally = self.by_address.get(address)
        wait = max(self.everyone.wait(now, policy), tally.wait(now, policy) if tally else 0.0)
        if wait > 0:
            return wait
        if tally is None:
            tally = self.by_address[address] = Tally()
            while len(self.by_address) > policy.addresses:
                self.by_address.popitem(last=False)
        self.by_address.move_to_end(address)
        tally.failed(now, policy.free, policy)
        self.everyone.failed(now, policy.free_everywhere, policy)
        return 0.0

    def signed_in(self, address: str) -> None:
        """A right password: the address's count is cleared, and its attempt taken off the count of all."""
        self.by_address.pop(address, None)
        self.everyone.failures = max(0, self.everyone.failures - 1)

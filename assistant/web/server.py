"""Starting the web chat: `serve` (what `assistant serve` and `python app.py` run) and Gradio's launch options."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypedDict, TypeVar

import gradio as gr
from starlette.middleware import Middleware

from assistant.assistant import Assistant
from assistant.errors import ConfigError
from assistant.indexing.sources.files import MB, max_bytes
from assistant.settings import Settings
from assistant.web import render
from assistant.web.app import build_app
from assistant.web.guard import BodyLimit, LoginPolicy, LoginRequired, LoginThrottle

log = logging.getLogger(__name__)


AUTH_MESSAGE = "Sign in with the user and password set in ASSISTANT_AUTH."
AT_ONCE = 20  # files at the size limit one upload may carry; beyond that, the request is refused unread
FORM_BYTES = 64 * 1024  # room for the form's own bytes around the files


def upload_ceiling(settings: Settings) -> tuple[int, Callable[[int], str]]:
    """The most bytes one request may carry, and what a person is told beyond it."""
    limit = max_bytes(settings.max_file_mb)

    def message(size: int) -> str:
        return (
            f"This upload is {size / MB:.1f} MB; the web chat takes at most {AT_ONCE * limit / MB:g} MB at once "
            f"({AT_ONCE} files at the {limit / MB:g} MB limit of ASSISTANT_MAX_FILE_MB, 1 MB = 1,000,000 bytes): "
            f"upload fewer files at a time, each at most {limit / MB:g} MB."
        )

    return AT_ONCE * limit + FORM_BYTES, message


class LaunchOptions(TypedDict):
    """The arguments of `Blocks.launch` that `launch_options` sets (their types as Gradio declares them)."""

    server_name: str
    server_port: int
    auth: tuple[str, str] | None
    auth_message: str
    max_file_size: None
    app_kwargs: dict[str, object]
    css: str
    theme: gr.themes.ThemeClass
    ssr_mode: bool
    mcp_server: bool
    show_error: bool
    footer_links: list[Literal["api", "gradio", "settings", "runs"] | dict[str, str]]
    run_history: bool


def launch_options(
    settings: Settings, host: str | None = None, port: int | None = None, login_policy: LoginPolicy | None = None
) -> LaunchOptions:
    """`Blocks.launch` arguments: 127.0.0.1 unless told otherwise; with ASSISTANT_AUTH, a login that every
    route but the login form asks for (`guard.LoginRequired`), with failed sign-ins slowed down
    (`guard.LoginThrottle`, by `login_policy`); no published route list. Gradio's own upload limit is not
    set: each file's is checked by `Assistant.upload`, and `guard.BodyLimit` bounds a request."""
    auth: tuple[str, str] | None = None
    if settings.auth:
        user, _, password = settings.auth.partition(":")  # "user:password", both parts there (`Settings.validate`)
        auth = (user, password)
    ceiling, too_large = upload_ceiling(settings)
    middleware = (
        [Middleware(LoginThrottle, policy=login_policy), Middleware(LoginRequired, message=AUTH_MESSAGE)]
        if auth
        else []
    )
    middleware.append(Middleware(BodyLimit, max_bytes=ceiling, message=too_large))
    return {
        "server_name": host or "127.0.0.1",
        "server_port": port or settings.port,
        "auth": auth,
        "auth_message": AUTH_MESSAGE,
        "max_file_size": None,
        "app_kwargs": {"openapi_url": None, "middleware": middleware},
        "css": render.CSS,
        "theme": gr.themes.Soft(),
        "ssr_mode": False,
        "mcp_server": settings.mcp,
        "show_error": False,
        "footer_links": ["api"],
        "run_history": False,
    }


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CHOOSE = "choose another with --port N (or ASSISTANT_PORT)"


def check_port(host: str, port: int) -> None:
    """Refuse at once, with what to do, when the web chat could not listen on host:port: checked before
    the index or a model is opened (the local model alone takes seconds and 2 GB to load)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise ConfigError(_not_here(host)) from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as the server will: a closed one's wait is no block
        try:
            probe.bind(address)
        except PermissionError:
            raise ConfigError(f"port {port} needs administrator rights here; {_CHOOSE} above 1023") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use (another web chat, or another program); stop that, "
                    f"or {_CHOOSE}"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(_not_here(host)) from None
            raise ConfigError(f"cannot listen on {host} port {port} ({exc.strerror or 'refused'}); {_CHOOSE}") from None


def _not_here(host: str) -> str:
    return (
        f"--host {host} is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0 (every "
        "network interface, with ASSISTANT_AUTH)"
    )


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def offers_add_by_url(host: str, settings: Settings) -> bool:
    """An agent (the MCP tool `add_article_by_url`) may add pages by address only where a login is asked for, or
    where no one else can reach the server."""
    return bool(settings.auth) or is_loopback(host)


def check_exposure(host: str, settings: Settings, allow_anonymous: bool = False) -> None:
    """Beyond this machine, without a login, anyone who reaches the port can read, upload and remove
    articles: refuse unless the person says that is what they want (`--allow-anonymous`)."""
    if is_loopback(host) or settings.auth:
        return
    if not allow_anonymous:
        raise ConfigError(
            f"--host {host} opens the web chat to the network, and ASSISTANT_AUTH is not set: anyone who can "
            "reach this machine could read, upload and remove articles. Set ASSISTANT_AUTH=user:password, "
            "or add --allow-anonymous if an open chat is what you want."
        )
    log.warning(
        "SERVING ON %s WITHOUT A LOGIN (--allow-anonymous): anyone who can reach this machine can read, "
        "upload and remove articles. Set ASSISTANT_AUTH=user:password to require one.",
        host,
    )


MCP_TOOLS = ("answer", "search_sentences", "list_articles", "add_article_by_url")  # `agents.AgentTools`


Sent = TypeVar("Sent")


def as_json(postprocess: Callable[[list[object], str], Sent]) -> Callable[[list[object], str], Sent]:
    """Gradio's MCP server sends a tool's result as `str(value)`: for our dicts that is Python's repr. This sends
    them as JSON, which an agent's program can parse (the text is the same to a model). `data`: the tool's
    outputs, one a component."""

    def send(data: list[object], root_url: str) -> Sent:
        return postprocess([json.dumps(d, ensure_ascii=False) if isinstance(d, dict) else d for d in data], root_url)

    return send


def launch(demo: gr.Blocks, options: LaunchOptions) -> str:
    """Start the app without blocking (`Blocks.launch`), and return its local URL. With MCP on, Gradio's MCP
    server offers every public endpoint as a tool; only the agents' tools are kept (not `/chat`, whose flat text
    `answer` gives as data)."""
    _, url, _ = demo.launch(**options, prevent_thread_lock=True)
    mcp = demo.mcp_server_obj
    if mcp is not None:
        ours = {mcp.tool_prefix + name for name in MCP_TOOLS}  # Gradio prefixes a Space's name on Hugging Face
        mcp.tool_to_endpoint = {name: to for name, to in mcp.tool_to_endpoint.items() if name in ours}
        mcp.postprocess_output_data = as_json(mcp.postprocess_output_data)  # type: ignore[method-assign, assignment]
    elif options.get("mcp_server"):  # Gradio printed why and served without it: say it in ours, with what to do
        demo.close()
        raise ConfigError(
            f"the MCP server did not start ({demo.mcp_error}); install gradio[mcp], or serve without --mcp"
        )
    return str(url)


def serve(
    host: str | None = None,
    port: int | None = None,
    index_dir: str | None = None,
    allow_anonymous: bool = False,
    mcp: bool | None = None,
) -> None:
    """Start the web chat; with an empty index, index the articles folder first. `mcp`: also serve the MCP tools
    (None: ASSISTANT_MCP decides)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    for name in ("NO_PROXY", "no_proxy"):  # launch() calls its own URL; through a proxy that can hang
        hosts = [h.strip() for h in os.environ.get(name, "").split(",") if h.strip()]
        os.environ[name] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "mcp"):  # a line per request (the MCP server: per tool call)
        logging.getLogger(chatty).setLevel(logging.WARNING)
    overrides: dict[str, str] = {"index_dir": index_dir} if index_dir else {}
    settings = Settings.from_env(None, **overrides, **({"mcp": True} if mcp else {}))
    host = host or "127.0.0.1"
    check_exposure(host, settings, allow_anonymous)
    check_port(host, port or settings.port)
    bot = Assistant(settings=settings)
    if not bot.articles() and Path(settings.articles_dir).is_dir():
        report = bot.ingest([settings.articles_dir])
        log.info("empty index: indexed %s: %s", settings.articles_dir, report.summary())
    # start the local model's server and have it read the newest article while the page loads
    threading.Thread(target=bot.warm_up, name="assistant-warm-up", daemon=True).start()
    try:
        demo = build_app(bot, add_by_url_tool=offers_add_by_url(host, settings))
        url = launch(demo, launch_options(settings, host, port))
        if settings.mcp:
            log.info("MCP tools at %s/gradio_api/mcp/ (streamable HTTP)", url.rstrip("/"))
        demo.block_thread()
    except OSError:  # the port was taken since it was checked: say so; anything else stays a bug to report
        check_port(host, port or settings.port)
        raise

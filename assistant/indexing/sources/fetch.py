"""Fetching a page or a feed by URL, safely: http(s) only, every address checked, bounded in time and size.

A host that resolves to a loopback, private, link-local, reserved or multicast address is refused unless
`ASSISTANT_ALLOW_PRIVATE_URLS=1` (intranets, tests); so is an IPv6 address that carries an IPv4 one
(IPv4-mapped, NAT64) whose IPv4 address would be refused, and the tunnel and deprecated forms (6to4, Teredo,
IPv4-compatible, local-use NAT64). Every redirect is checked the same way, at most `MAX_REDIRECTS` of them; an
address that cannot be read (a bad port, a broken IPv6 literal), first or in a redirect, is an InputError.
The address is checked just before each request (a name that resolves elsewhere between the check and the
connection, DNS rebinding, is not prevented: the request is not pinned to the checked address).

`timeout` is the whole fetch's deadline: connecting, the headers, the body and every redirect count against
one clock, and no socket wait goes past it (name lookups are the system's own and are not cut short; through
a proxy from the environment neither are the headers, see `_DeadlineTransport`). The body is read raw, its
Content-Encoding undone here in bounded pieces (`decoding`) and counted after decoding, and cut off past the
size limit; only the codings decoded here are offered in Accept-Encoding.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from assistant.errors import InputError
from assistant.indexing.sources.decoding import DecodingError, accept_encoding, codings, decode, limited

MAX_REDIRECTS = 5
USER_AGENT = "ArticleAssistant/1.0 (news indexing; +https://github.com/)"
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
# IPv6 forms refused whatever they carry: IPv4-compatible (deprecated), local-use NAT64, 6to4 and Teredo
# tunnels, site-local (deprecated); and the forms judged by the IPv4 address they carry: IPv4-mapped, NAT64.
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(net) for net in ("::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "fec0::/10")
)
_CARRIERS_V6 = tuple(ipaddress.IPv6Network(net) for net in ("::ffff:0:0/96", "64:ff9b::/96"))


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects: the address actually fetched
    content_type: str  # "text/html", "application/rss+xml", ...
    body: bytes
    charset: str | None
    etag: str = ""  # for the next conditional request (a feed polled by `assistant watch --feed`)
    last_modified: str = ""
    not_modified: bool = False  # 304: unchanged since the etag / date given


def is_url(item: object) -> bool:
    """Does the item name a web address (anything with a scheme other than a drive letter) rather than a file?"""
    scheme, sep, _ = str(item).partition("://")  # not urlsplit: "http://[::1" is an address, a broken one
    return bool(sep) and len(scheme) > 1 and scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """May a page be fetched from this address without ASSISTANT_ALLOW_PRIVATE_URLS? Only a globally
    reachable unicast one, and for IPv6 none that reaches an IPv4 host that would itself be refused."""
    if not address.is_global or address.is_multicast or address.is_private or address.is_unspecified:
        return False
    if address.is_loopback or address.is_link_local or (address.version == 4 and address.is_reserved):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in _REFUSED_V6):
            return False
        if any(address in net for net in _CARRIERS_V6):
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return True


def check_url(url: str, allow_private: bool) -> None:
    """Refuse what must not be fetched, with what to do: another scheme, no host, a bad port, a private
    address, an address that cannot be read at all."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        raise InputError(f"the address {url!r} cannot be read ({exc}); check it") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(f"only http and https addresses can be added, not {parts.scheme}://; save the page as a file")
    if not host:
        raise InputError("the address has no host name; give the page's full address, e.g. https://site/story")
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme.lower() == "https" else 80))
    except (OSError, UnicodeError, ValueError):  # gaierror, a label too long for IDNA, a NUL in the name
        raise InputError(f"the host {host} cannot be found; check the address") from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not is_public_address(address):
            raise InputError(
                f"{host} resolves to {address}, a private or reserved address; pages are fetched only from public "
                "hosts unless ASSISTANT_ALLOW_PRIVATE_URLS=1 is set (for an intranet)"
            )


def fetch(
    url: str, *, max_bytes: int, timeout: float, allow_private: bool, etag: str = "", last_modified: str = ""
) -> Fetched:
    """The page or feed at `url`, all of it within `timeout` seconds and `max_bytes` (decoded); InputError
    saying why it cannot be had. With `etag` or `last_modified` (from an earlier fetch) the request is
    conditional: an unchanged resource comes back `not_modified`, without a body."""
    conditional = {"If-None-Match": etag} if etag else {}
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    deadline = _Deadline(time.monotonic() + timeout)
    late = InputError(
        f"{url} did not answer within {timeout:g} s (the whole fetch, redirects included); try again later"
    )
    try:
        with httpx.Client(
            transport=_DeadlineTransport(deadline),
            follow_redirects=False,
            event_hooks={"response": [_check_location]},  # before httpx reads Location itself, and fails
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "text/html, application/xhtml+xml, application/xml;q=0.9",
                "Accept-Encoding": accept_encoding(),
            },
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url, allow_private)
                left = deadline.left()
                if left <= 0:
                    raise late
                request = client.build_request(
                    "GET", url, headers=conditional, timeout=httpx.Timeout(left, connect=min(left, 10.0))
                )
                response = client.send(request, stream=True)
                try:
                    if response.status_code == 304:
                        return Fetched(url, "", b"", None, etag, last_modified, not_modified=True)
                    if response.is_redirect and response.headers.get("location"):
                        url = _redirect(url, response.headers["location"])
                        continue
                    return _read(url, response, max_bytes, deadline, late)
                finally:
                    response.close()
    except httpx.TimeoutException:
        raise late from None
    except httpx.HTTPError as exc:
        if deadline.left() <= 0:
            raise late from None
        raise InputError(f"{url} cannot be fetched ({type(exc).__name__}); check the address") from None
    except (httpx.InvalidURL, ValueError) as exc:  # what urlsplit let through and httpx could not read
        raise InputError(f"the address {url!r} cannot be read ({exc}); check it") from None
    raise InputError(f"{url} redirects more than {MAX_REDIRECTS} times; give the page's own address")


def _redirect(url: str, location: str) -> str:
    try:
        target = urljoin(url, location)
        urlsplit(target).port  # noqa: B018 - reading the port is what checks it
        httpx.URL(target)
    except (httpx.InvalidURL, ValueError) as exc:
        raise InputError(f"{url} redirects to {location!r}, which cannot be read ({exc})") from None
    return target


def _check_location(response: httpx.Response) -> None:
    """httpx reads a redirect's Location even when it does not follow it, and a bad one is its own error."""
    if response.is_redirect and response.headers.get("location"):
        _redirect(str(response.request.url), response.headers["location"])


def _read(url: str, response: httpx.Response, max_bytes: int, deadline: _Deadline, late: InputError) -> Fetched:
    if response.status_code >= 400:
        raise InputError(f"{url} answered HTTP {response.status_code}; check the address or try again later")
    content_type, _, params = response.headers.get("content-type", "").partition(";")
    content_type = content_type.strip().lower()
    if content_type not in PAGE_TYPES | FEED_TYPES:
        raise InputError(f"{url} is {content_type or 'of no stated type'}, not a web page or a feed")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise InputError(
            f"{url} is {int(declared) / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (ASSISTANT_MAX_FILE_MB)"
        )

    def over() -> InputError:
        return InputError(f"{url} is over the {max_bytes / 1e6:g} MB limit (ASSISTANT_MAX_FILE_MB)")

    try:
        pieces: Iterable[bytes] = limited(_until(response.iter_raw(), deadline, late), max_bytes, over)
        for coding in codings(response.headers.get("content-encoding", "")):
            pieces = limited(decode(pieces, coding), max_bytes, over)  # every layer counted, not only the last
        body = bytearray()
        for piece in pieces:
            body += piece
    except DecodingError as exc:
        raise InputError(f"{url} {exc}; it cannot be read") from None
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    headers = response.headers
    return Fetched(
        str(response.url), content_type, bytes(body), charset, headers.get("etag", ""), headers.get("last-modified", "")
    )


def _until(pieces: Iterable[bytes], deadline: _Deadline, late: InputError) -> Iterator[bytes]:
    for piece in pieces:
        if deadline.left() <= 0:
            raise late
        yield piece


# --- one deadline for every socket wait: httpx's own timeouts apply to each read, not to the whole ---------------


@dataclass(frozen=True)
class _Deadline:
    at: float  # time.monotonic()

    def left(self) -> float:
        return self.at - time.monotonic()

    def cap(self, timeout: float | None, expired: type[Exception]) -> float:
        """The time a socket may wait now: its own timeout, never past the deadline."""
        left = self.left()
        if left <= 0:
            raise expired("the fetch's deadline has passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        wait = self._deadline.cap(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, wait), self._deadline)

    def get_extra_info(self, info: str) -> object:  # whatever the wrapped stream says (the socket, ...)
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: _Deadline) -> None:
        self._backend, self._deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        wait = self._deadline.cap(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, wait, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - no unix sockets here
        wait = self._deadline.cap(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, wait, socket_options), self._deadline)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport (its exception mapping, its response streams) over a connection pool whose
    sockets never wait past the deadline. Through a proxy from the environment (HTTPS_PROXY, ...) httpx uses
    its own transport instead: there each request's timeout is the time left and the body is read against
    the deadline between pieces, but a server that sends its headers a byte at a time is not cut short."""

    def __init__(self, deadline: _Deadline) -> None:
        context = httpx.create_ssl_context()
        super().__init__(verify=context)
        self._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=_DeadlineBackend(deadline))

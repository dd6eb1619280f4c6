"""Fetching a page or a feed by URL, safely: http(s) only, every address checked, bounded in time and size.

A host that resolves to a loopback, private, link-local, reserved or multicast address is refused unless
`ASSISTANT_ALLOW_PRIVATE_URLS=1` (intranets, tests); every redirect is checked the same way, at most
`MAX_REDIRECTS` of them. The body is read in pieces and cut off past the size limit. The address is
checked just before each request (a name that resolves elsewhere between the check and the connection, DNS
rebinding, is not prevented: the request is not pinned to the checked address).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from assistant.errors import InputError

MAX_REDIRECTS = 5
USER_AGENT = "ArticleAssistant/1.0 (news indexing; +https://github.com/)"
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str  # "text/html", "application/rss+xml", ...
    body: bytes
    charset: str | None
    etag: str = ""  # for the next conditional request (a feed polled by `assistant watch --feed`)
    last_modified: str = ""
    not_modified: bool = False  # 304: unchanged since the etag / date given


def is_url(item: object) -> bool:
    """Does the item name a web address (anything with a scheme other than a drive letter) rather than a file?"""
    text = str(item)
    scheme = urlsplit(text).scheme
    return "://" in text and len(scheme) > 1


def check_url(url: str, allow_private: bool) -> None:
    """Refuse what must not be fetched, with what to do: another scheme, no host, a private address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(f"only http and https addresses can be added, not {parts.scheme}://; save the page as a file")
    host = parts.hostname
    if not host:
        raise InputError("the address has no host name; give the page's full address, e.g. https://site/story")
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme.lower() == "https" else 80))
    except (socket.gaierror, UnicodeError):
        raise InputError(f"the host {host} cannot be found; check the address") from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise InputError(
                f"{host} resolves to {address}, a private or reserved address; pages are fetched only from public "
                "hosts unless ASSISTANT_ALLOW_PRIVATE_URLS=1 is set (for an intranet)"
            )


def fetch(
    url: str, *, max_bytes: int, timeout: float, allow_private: bool, etag: str = "", last_modified: str = ""
) -> Fetched:
    """The page or feed at `url`; InputError saying why it cannot be had. With `etag` or `last_modified` (from an
    earlier fetch) the request is conditional: an unchanged resource comes back `not_modified`, without a body."""
    conditional = {"If-None-Match": etag} if etag else {}
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html, application/xhtml+xml, application/xml;q=0.9"},
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url, allow_private)
                with client.stream("GET", url, headers=conditional) as response:
                    if response.status_code == 304:
                        return Fetched(url, "", b"", None, etag, last_modified, not_modified=True)
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    return _read(url, response, max_bytes)
    except httpx.TimeoutException:
        raise InputError(f"{url} did not answer within {timeout:g} s; try again later") from None
    except httpx.HTTPError as exc:
        raise InputError(f"{url} cannot be fetched ({type(exc).__name__}); check the address") from None
    raise InputError(f"{url} redirects more than {MAX_REDIRECTS} times; give the page's own address")


def _read(url: str, response: httpx.Response, max_bytes: int) -> Fetched:
    if response.status_code >= 400:
        raise InputError(f"{url} answered HTTP {response.status_code}; check the address or try again later")
    content_type, _, params = response.headers.get("content-type", "").partition(";")
    content_type = content_type.strip().lower()
    if content_type not in PAGE_TYPES | FEED_TYPES:
        raise InputError(f"{url} is {content_type or 'of no stated type'}, not a web page or a feed")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise InputError(f"{url} is {int(declared) / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit")
    body = bytearray()
    for piece in response.iter_bytes():
        body += piece
        if len(body) > max_bytes:
            raise InputError(f"{url} is over the {max_bytes / 1e6:g} MB limit (ASSISTANT_MAX_FILE_MB)")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    headers = response.headers
    return Fetched(
        str(response.url), content_type, bytes(body), charset, headers.get("etag", ""), headers.get("last-modified", "")
    )

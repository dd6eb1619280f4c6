"""Page addresses in one form, so one story is one article whichever way its address was written.

`normalise_url` lowercases the scheme and the host, drops a default port, the fragment and tracking
parameters (`utm_*`, `fbclid`, `gclid`, ...), and folds repeated slashes in the path; the other query
parameters keep their order and spelling. An address that is already in that form comes back unchanged (so
the ids of pages indexed before are the same). `same_site` says whether two addresses name one host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from assistant.errors import InputError

TRACKING = frozenset({"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SLASHES = re.compile(r"/{2,}")
_BRACKETED = re.compile(r"(?:^|@)\[[0-9A-Za-z:.%_-]*\](?::[0-9]*)?$")
MAX_SHOWN = 200  # characters of a bad address quoted in a rejection


def shown(url: str) -> str:
    """An address as a rejection names it: printable and not too long."""
    text = "".join(ch if ch.isprintable() else "?" for ch in url)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def normalise_url(url: str) -> str:
    """The address in its one form; InputError when it is not a valid address ("http://[::1", port 99999)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname or ""
    except ValueError as exc:  # an unclosed [IPv6] bracket, a port that is not a number or out of range
        raise InputError(f"not a valid address ({exc})") from None
    if "[" in parts.netloc and not _BRACKETED.search(parts.netloc):  # "[::1]x": Python 3.11 drops the "x"
        raise InputError("not a valid address (text after an [IPv6] address)")
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if host:
        userinfo = parts.netloc.rpartition("@")[0]
        shown_host = f"[{host}]" if ":" in host else host
        netloc = (userinfo + "@" if userinfo else "") + shown_host
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            netloc += f":{port}"
    path = _SLASHES.sub("/", parts.path)
    query = "&".join(p for p in parts.query.split("&") if p and not _tracking(p.partition("=")[0]))
    return urlunsplit((scheme, netloc, path, query, ""))


def _tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING


def host_of(url: str) -> str:
    """The host an address names, lowercased, without a leading "www." ("" when it has none or is not valid)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def same_site(a: str, b: str) -> bool:
    """Do two addresses name the same host (case and a leading "www." aside)?"""
    host = host_of(a)
    return bool(host) and host == host_of(b)

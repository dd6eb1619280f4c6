"""Fetching by URL against a hostile server on 127.0.0.1: compression bombs, slow drips, redirect chains,
malformed addresses, and the IPv6 forms that carry a private IPv4 address."""

from __future__ import annotations

import gzip
import http.server
import ipaddress
import shutil
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable

import pytest

from assistant.errors import InputError
from assistant.indexing.sources.fetch import check_url, fetch, is_public_address, is_url

PAGE = b"<html><body><article><h1>Tides</h1><p>The tide turned at noon.</p></article></body></html>"
ZEROS = 50_000_000  # what a bomb expands to
LIMIT = 2_000_000  # the size limit the bombs are fetched with


def compress(coding: str, data_size: int = ZEROS, data: bytes | None = None) -> bytes:
    """`data` (or data_size zero bytes, compressed a MB at a time) in one coding."""
    if coding == "br":
        brotli = pytest.importorskip("brotli")
        packer = brotli.Compressor(quality=5)
        parts = [packer.process(data)] if data is not None else [packer.process(bytes(10**6)) for _ in range(50)]
        return b"".join(parts) + packer.finish()
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[coding]
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    if data is not None:
        return packer.compress(data) + packer.flush()
    return b"".join(packer.compress(bytes(10**6)) for _ in range(data_size // 10**6)) + packer.flush()


class Server:
    """path -> a function that answers the request itself (its handler); every request's headers kept."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}
        self.headers: list[dict[str, str]] = []
        self.stop = threading.Event()
        self.base = ""

    def page(self, path: str, body: bytes, encoding: str = "", wait: float = 0.0) -> None:
        def answer(h: http.server.BaseHTTPRequestHandler) -> None:
            self.stop.wait(wait)
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            if encoding:
                h.send_header("Content-Encoding", encoding)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        self.routes[path] = answer

    def redirect(self, path: str, location: str, wait: float = 0.0) -> None:
        def answer(h: http.server.BaseHTTPRequestHandler) -> None:
            self.stop.wait(wait)
            h.send_response(302)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self.routes[path] = answer

    def drip(self, path: str, head: bytes, body: bytes, every: float = 0.2, size: int = 5, most: float = 4.0) -> None:
        """Send `head` a byte at a time (if it is the drip) or at once, then `body` `size` bytes `every`
        seconds, and give up after `most` seconds (the test's bound, not the client's)."""

        def answer(h: http.server.BaseHTTPRequestHandler) -> None:
            start = time.monotonic()
            dripping_head = not body
            data = head + body
            sent = 0 if dripping_head else len(head)
            if not dripping_head:
                h.wfile.write(head)
            step = 1 if dripping_head else size
            while sent < len(data) and time.monotonic() - start < most and not self.stop.is_set():
                h.wfile.write(data[sent : sent + step])
                h.wfile.flush()
                sent += step
                self.stop.wait(every)

        self.routes[path] = answer


@pytest.fixture
def server():
    srv = Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's name)
            srv.headers.append({k.lower(): v for k, v in self.headers.items()})
            answer = srv.routes.get(self.path)
            try:
                if answer is None:
                    self.send_error(404)
                else:
                    answer(self)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                pass
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    srv.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


def get(url: str, *, max_bytes: int = 1_000_000, timeout: float = 5.0):
    return fetch(url, max_bytes=max_bytes, timeout=timeout, allow_private=True)


# --- 1. compression bombs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "gzip, gzip"])
def test_a_compression_bomb_is_refused_at_the_limit_without_expanding_in_memory(server, encoding):
    layers = [c.strip() for c in encoding.split(",")]
    body = compress(layers[0])
    for coding in layers[1:]:  # "gzip, gzip": the first listed was applied first
        body = compress(coding, data=body)
    server.page("/bomb", body, encoding)
    assert len(body) < 100_000  # 50 MB of zeros in a small body
    server.page("/warm", gzip.compress(PAGE), "gzip")
    get(f"{server.base}/warm")  # httpx's first request imports and builds what later ones reuse: not counted
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"over the 2 MB limit \(ASSISTANT_MAX_FILE_MB\)"):
            get(f"{server.base}/bomb", max_bytes=LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * LIMIT, f"{peak / 1e6:.1f} MB allocated to refuse a {LIMIT / 1e6:g} MB limit"


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate", "br", "gzip, gzip", "identity"])
def test_a_compressed_page_is_read_whole(server, encoding):
    if encoding == "identity":
        body, header = PAGE, "identity"
    elif encoding == "gzip, gzip":
        body, header = gzip.compress(gzip.compress(PAGE * 2000)), encoding
    else:
        coding = "gzip" if encoding == "x-gzip" else encoding
        body, header = compress(coding, data=PAGE * 2000), "deflate" if encoding == "raw-deflate" else encoding
    server.page("/page", body, header)
    fetched = get(f"{server.base}/page")
    assert fetched.body == (PAGE if encoding == "identity" else PAGE * 2000)
    assert (fetched.url, fetched.content_type, fetched.charset) == (f"{server.base}/page", "text/html", "utf-8")
    offered = {c.strip() for c in server.headers[-1]["accept-encoding"].split(",")}
    assert {"gzip", "deflate"} <= offered <= {"gzip", "deflate", "br"}  # only what fetch decodes itself


@pytest.mark.parametrize(
    ("encoding", "body", "words"),
    [
        ("zstd", b"(\xb5/\xfd", "Content-Encoding zstd, which is not supported"),
        ("gzip, gzip, gzip, gzip", gzip.compress(PAGE), "compressed 4 times over"),
        ("gzip", b"not gzip at all", "is not valid gzip data"),
    ],
)
def test_an_encoding_that_cannot_be_decoded_is_refused_with_the_reason(server, encoding, body, words):
    server.page("/odd", body, encoding)
    with pytest.raises(InputError, match=words):
        get(f"{server.base}/odd")


# --- 2. one deadline for the whole fetch ---------------------------------------------------------------------------


def refused_in_time(url: str, timeout: float = 1.0) -> float:
    start = time.monotonic()
    with pytest.raises(InputError, match=f"did not answer within {timeout:g} s"):
        get(url, timeout=timeout)
    return time.monotonic() - start


def test_a_body_dripped_slowly_is_cut_off_at_the_deadline(server):
    body = b"<p>" + b"x" * 636 + b"</p>"  # 642 bytes at 25 bytes/s: 26 s, each read well within 1 s
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 642\r\n\r\n"
    server.drip("/drip", head, body)
    assert refused_in_time(f"{server.base}/drip") < 2.0


def test_headers_dripped_slowly_are_cut_off_at_the_deadline(server):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    server.drip("/drip-head", head, b"", every=0.05)
    assert refused_in_time(f"{server.base}/drip-head") < 2.0


def test_a_redirect_chain_counts_against_one_deadline(server):
    server.redirect("/hop0", "/hop1", wait=0.7)  # each hop within the 1 s timeout, the chain not
    server.redirect("/hop1", "/hop2", wait=0.7)
    server.page("/hop2", PAGE)
    assert refused_in_time(f"{server.base}/hop0") < 2.0
    assert get(f"{server.base}/hop0", timeout=5.0).url == f"{server.base}/hop2"  # the address actually fetched


def test_a_slow_page_within_the_deadline_is_read(server):
    body = b"<p>" + b"y" * 43 + b"</p>"  # 50 bytes, 10 pieces 0.05 s apart: 0.5 s of a 3 s budget
    server.drip("/steady", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50\r\n\r\n", body, 0.05)
    assert get(f"{server.base}/steady", timeout=3.0).body == body


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl makes the test's certificate")
def test_an_https_page_is_read_through_the_deadline_s_own_connections(tmp_path, monkeypatch):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate alone

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = gzip.compress(PAGE)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}/story"
        assert get(url, timeout=5.0).body == PAGE
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


# --- 3. malformed addresses --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://host:99999/", "Port out of range"),
        ("http://127.0.0.1:8o/", "Port could not be cast"),
    ],
)
def test_an_address_that_cannot_be_read_is_an_input_error(url, words):
    assert is_url(url)
    for allow_private in (False, True):
        with pytest.raises(InputError, match=f"cannot be read .*{words}"):
            check_url(url, allow_private=allow_private)
        with pytest.raises(InputError, match=f"cannot be read .*{words}"):
            fetch(url, max_bytes=1000, timeout=1.0, allow_private=allow_private)


def test_an_address_only_httpx_finds_bad_is_an_input_error(server):
    with pytest.raises(InputError, match="cannot be read .*non-printable"):
        get(f"{server.base}/\x7f")


@pytest.mark.parametrize(
    ("location", "words"),
    [("http://127.0.0.1:99999/x", "Port out of range"), ("http://[::1", "Invalid IPv6 URL")],
)
def test_a_redirect_to_an_address_that_cannot_be_read_is_an_input_error(server, location, words):
    server.redirect("/bad", location)
    with pytest.raises(InputError, match=f"redirects to '.*', which cannot be read .*{words}"):
        get(f"{server.base}/bad")


# --- 13. IPv6 forms that carry an IPv4 address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "::8.8.8.8",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::7f00:1",  # local-use NAT64
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:192.168.1.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:808:808::",  # 6to4 of a public address: a tunnel all the same
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fec0::1",
        "ff02::1",
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "240.0.0.1",
        "224.0.0.1",
        "255.255.255.255",
    ],
)
def test_private_reserved_and_ipv4_carrying_addresses_are_refused(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address):
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[::ffff:127.0.0.1]", "[2002:7f00:1::]"])
def test_a_url_naming_such_an_address_is_refused(host):
    with pytest.raises(InputError, match="a private or reserved address"):
        check_url(f"http://{host}:8080/", allow_private=False)

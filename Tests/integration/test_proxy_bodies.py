"""Proxied requests: request bodies streamed to the upstream, and the client-side limits.

README.md, "What the upstream receives" (body streamed in both directions, chunked or with length) and the
[server] limits of docs/configuration.md (413 over max_body_bytes checked while streaming, 431 over max_header_bytes).
Two gateways: one with room for 20 MiB uploads, one with small limits.
"""
import hashlib
import http.client
import json
import os
import socket
import threading
import time

import pytest

from gateway_process import Gateway, bearer, headers_named, unique
from tokens import mint
from upstream import download_piece

UPSTREAM_NAME = "bodies"  # conftest.py's `upstream` fixture puts this name in its answers

MiB = 1 << 20


def _routes(upstream):
    return f"""
    [[routes]]
    prefix = "/api/"
    upstreams = ["{upstream.url}"]
    auth = "required"

    [[routes]]
    prefix = "/open/"
    upstreams = ["{upstream.url}"]
    auth = "none"
    """


@pytest.fixture(scope="module")
def roomy(tmp_path_factory, upstream):
    gw = Gateway(tmp_path_factory.mktemp("proxy-bodies"), routes=_routes(upstream),
                 server='max_body_bytes = "24MiB"\n').start()
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def tight(tmp_path_factory, upstream):
    gw = Gateway(tmp_path_factory.mktemp("proxy-limits"), routes=_routes(upstream),
                 server='max_body_bytes = "1MiB"\nmax_header_bytes = 4096\nclient_timeout = "1s"\n').start()
    yield gw
    gw.stop()


def pieces(total, piece_size=256 * 1024, seed=b"gateway-body"):
    """A deterministic body, generated piece by piece (never held whole), and its sha256."""
    block = hashlib.sha256(seed).digest() * (piece_size // 32)
    sent = 0
    while sent < total:
        piece = block[: min(piece_size, total - sent)]
        sent += len(piece)
        yield piece


def digest_of(total):
    h = hashlib.sha256()
    for piece in pieces(total):
        h.update(piece)
    return h.hexdigest()


def upload(gateway, target, total, chunked, headers=None):
    conn = gateway.connection(timeout=120)
    try:
        conn.putrequest("POST", target)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.putheader("Content-Type", "application/octet-stream")
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for piece in pieces(total):
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.putheader("Content-Length", str(total))
            conn.endheaders()
            for piece in pieces(total):
                conn.send(piece)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


# -- streaming uploads ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_20_mib_upload_reaches_the_upstream_intact(roomy, chunked):
    total = 20 * MiB
    status, _, body = upload(roomy, "/api/upload", total, chunked, bearer(mint(unique())))
    assert status == 200, body[:300]
    answer = json.loads(body)
    assert answer["length"] == total
    assert answer["sha256"] == digest_of(total)


def test_chunked_upload_with_http_client_generator(roomy):
    # http.client frames an iterable body as Transfer-Encoding: chunked itself.
    conn = roomy.connection(timeout=120)
    try:
        conn.request("POST", "/open/upload", body=pieces(3 * MiB + 17), encode_chunked=True,
                     headers={"Transfer-Encoding": "chunked"})
        response = conn.getresponse()
        assert response.status == 200
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert answer == {"length": 3 * MiB + 17, "sha256": digest_of(3 * MiB + 17), "upstream": "bodies"}


def test_small_body_and_empty_body(roomy):
    status, _, raw = roomy.request("POST", "/open/echo", body=b"hello \x00 world")
    assert status == 200
    assert json.loads(raw)["body"] == "hello \x00 world"
    status, _, raw = roomy.request("POST", "/open/echo", body=b"")
    assert status == 200
    assert json.loads(raw)["body_length"] == 0


# RFC 9110 section 10.1.1: Expect is a list; a 100-continue in it gets its 100 (or a final answer) before the body,
# or the client waits for nothing.
@pytest.mark.parametrize("expect", [b"100-continue", b"x-trace, 100-continue"], ids=["alone", "listed"])
def test_expect_100_continue_upload(roomy, expect):
    with socket.create_connection(("127.0.0.1", roomy.port), timeout=30) as sock:
        body = b"e" * 5000
        sock.sendall(b"POST /open/upload HTTP/1.1\r\nHost: x\r\nExpect: " + expect + b"\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode())
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 200
        assert json.loads(response.read())["sha256"] == hashlib.sha256(body).hexdigest()


def test_expect_100_continue_from_an_http_1_0_client_is_ignored(roomy):
    # RFC 9110 section 10.1.1: an HTTP/1.0 client cannot read an interim answer; its one answer is the real one.
    with socket.create_connection(("127.0.0.1", roomy.port), timeout=30) as sock:
        body = b"e" * 5000
        sock.sendall(b"POST /open/upload HTTP/1.0\r\nExpect: 100-continue\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        received = b""
        while piece := sock.recv(65536):
            received += piece
    assert received.startswith(b"HTTP/1.0 200"), received[:200]
    assert json.loads(received.split(b"\r\n\r\n", 1)[1])["sha256"] == hashlib.sha256(body).hexdigest()


def test_20_mib_download_streams_back_intact(roomy):
    total = 20 * MiB + 3
    conn = roomy.connection(timeout=120)
    try:
        conn.request("GET", f"/open/download?size={total}")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == str(total)
        received = hashlib.sha256()
        length = 0
        while piece := response.read(64 * 1024):
            received.update(piece)
            length += len(piece)
    finally:
        conn.close()
    expected = hashlib.sha256()
    piece = download_piece()
    sent = 0
    while sent < total:
        part = piece[: min(len(piece), total - sent)]
        expected.update(part)
        sent += len(part)
    assert length == total
    assert received.hexdigest() == expected.hexdigest()


# -- limits -----------------------------------------------------------------------------------------


def send_while_reading(port, head: bytes, body_pieces):
    """Sends the head, then the body from a thread while the main thread reads the answer: a gateway
    that answers early (413) is seen even if it stops reading."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head)

    def sender():
        try:
            for piece in body_pieces:
                sock.sendall(piece)
        except OSError:
            pass  # the gateway stopped reading: expected once it has answered

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read() if response.status != 100 else b""
        return response.status, response.getheaders(), body
    finally:
        sock.close()
        thread.join(timeout=30)


def test_declared_content_length_over_the_limit_is_413_without_forwarding(tight, upstream):
    marker = unique("cl413")
    total = 4 * MiB
    head = f"POST /open/{marker}/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode()
    status, headers, body = send_while_reading(tight.port, head, pieces(total))
    assert status == 413
    assert "error" in json.loads(body)
    assert upstream.requests_to(marker) == []


def test_chunked_body_over_the_limit_is_413(tight):
    total = 4 * MiB
    head = b"POST /open/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    framed = (f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces(total, piece_size=64 * 1024))
    status, headers, body = send_while_reading(tight.port, head, framed)
    assert status == 413
    assert "error" in json.loads(body)


def test_body_exactly_at_the_limit_is_accepted(tight):
    status, _, body = upload(tight, "/open/upload", MiB, chunked=True)
    assert status == 200
    assert json.loads(body)["length"] == MiB
    status, _, body = upload(tight, "/open/upload", MiB, chunked=False)
    assert status == 200


def test_header_block_over_the_limit_is_431(tight, upstream):
    marker = unique("h431")
    status, _, _ = tight.request("GET", f"/open/{marker}", {"X-Big": "b" * 5000})
    assert status == 431
    assert upstream.requests_to(marker) == []


def test_header_block_over_the_limit_is_431_on_the_control_plane_too(tight):
    # Limits first, for every request: the control plane's endpoints are not asked about a head over the limit.
    status, _, _ = tight.request("GET", "/.well-known/jwks.json", {"X-Big": "b" * 5000})
    assert status == 431


def test_many_headers_over_the_limit_is_431(tight):
    headers = [(f"X-Field-{i}", "v" * 60) for i in range(80)]
    status, _, _ = tight.request("GET", "/open/many", headers)
    assert status == 431


def test_request_target_over_the_header_limit_is_rejected(tight, upstream):
    marker = unique("longurl")
    status, _, _ = tight.request("GET", f"/open/{marker}?q=" + "a" * 5000)
    assert status in (414, 431)
    assert upstream.requests_to(marker) == []


def test_header_block_under_the_limit_is_forwarded(tight):
    status, _, raw = tight.request("GET", "/open/fits", {"X-Big": "b" * 2000})
    assert status == 200


@pytest.mark.parametrize("partial", [b"GET /open/slow HTTP/1.1\r\nHost: x\r\nX-Half: ",
                                     b"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"],
                         ids=["headers", "body"])
def test_client_slower_than_client_timeout_is_disconnected(tight, upstream, partial):
    # client_timeout is 1s and idle_timeout the default 75s: the 15 s socket timeout is only the deadline
    with socket.create_connection(("127.0.0.1", tight.port), timeout=15) as sock:
        sock.sendall(partial)
        received = b""
        try:
            while piece := sock.recv(4096):
                received += piece
        except ConnectionResetError:
            pass
    assert received == b"" or received.startswith(b"HTTP/1.1 408") or received.startswith(b"HTTP/1.1 400"), received


@pytest.mark.parametrize("request_line", [b"GET /nowhere HTTP/1.1", b"GET /open/idle HTTP/1.1"],
                         ids=["answered-by-the-gateway", "proxied"])
def test_keep_alive_connection_is_closed_after_idle_timeout(tmp_path, upstream, request_line):
    # A local answer (404) ends before its request does; the request's end must not cancel the idle timer that
    # answer armed. idle_timeout is 1s; the 15 s socket timeout is only the deadline for the test.
    gw = Gateway(tmp_path, routes=_routes(upstream), server='idle_timeout = "1s"\n').start()
    try:
        with socket.create_connection(("127.0.0.1", gw.port), timeout=15) as sock:
            sock.sendall(request_line + b"\r\nHost: x\r\n\r\n")
            reader = sock.makefile("rb")
            response = http.client.HTTPResponse(sock)
            response.fp = reader
            response._close_conn = lambda: setattr(response, "fp", None)  # keep the shared reader open
            response.begin()
            response.read()
            assert response.getheader("Connection", "").lower() != "close"
            assert reader.read() == b"", "the idle connection must be closed by the gateway"
    finally:
        gw.stop()


def test_gateways_are_still_healthy(roomy, tight):
    assert roomy.healthy("/open/health")
    assert tight.healthy("/open/health")


# -- early answers to bodies still arriving (lingering close) -----------------------------------------


def write_all_then_read(port, head: bytes, body: bytes):
    """What Python's http.client, Java's HttpURLConnection and many SDKs do: the whole body is written before
    the answer is read. A gateway that closes at once after an early answer resets the connection under the
    writer, and the client never sees the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        sock.sendall(head + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()
    finally:
        sock.close()


@pytest.mark.parametrize("target,headers", [
    ("/open/upload", ""),                            # 413: Content-Length over max_body_bytes
    ("/api/upload", ""),                             # 401: no token, body still coming
    ("/api/upload", "Authorization: Bearer x.y.z\r\n"),  # 401: a bad token
])
def test_early_answer_reaches_a_client_that_writes_its_whole_body_first(tight, target, headers):
    total = 12 * MiB  # a body the client pushes in full, far past the kernel's socket buffers
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {total}\r\n\r\n".encode()
    status, body = write_all_then_read(tight.port, head, b"x" * total)
    assert status in (401, 413)
    assert "error" in json.loads(body)


def test_early_answer_with_a_chunked_body_reaches_a_client_that_writes_first(tight):
    chunk = b"y" * (256 * 1024)
    framed = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(40)) + b"0\r\n\r\n"
    head = b"POST /open/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, body = write_all_then_read(tight.port, head, framed)
    assert status == 413


def test_lingering_is_bounded_in_time_for_a_client_that_never_stops(tmp_path, upstream):
    gw = Gateway(tmp_path, _routes(upstream), server='lingering_time = "1s"\nlingering_timeout = "1s"\n'
                 'max_body_bytes = "1KiB"\n').start()
    try:
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
        sock.sendall(b"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 413
        # Keep sending: the gateway reads and drops it for lingering_time, then closes. The loop is bounded by
        # its own deadline, far past the 1 s the gateway should take.
        deadline = time.monotonic() + 30
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"z" * 4096)
            except OSError:
                closed = True
        assert closed, "the gateway kept reading a never-ending body"
        sock.close()
        assert gw.request("GET", "/open/still-here")[0] == 200
    finally:
        gw.stop()

"""Graceful shutdown (issue 7): SIGTERM stops accepting, lets in-flight requests (streams too) finish,
closes idle keep-alive connections, reports not-ready while draining, and exits 0."""
import socket

import pytest

from conftest import port_open, wait_for
from gateway_process import Gateway
from upstream import SSE_FIRST, SSE_SECOND

UPSTREAM_NAME = "main"  # conftest.py's `upstream` fixture puts this name in its answers


@pytest.fixture
def gateway(tmp_path, upstream):
    gw = Gateway(
        tmp_path,
        routes=f"""
        [[routes]]
        prefix = "/s/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        timeout = "0s"
        """,
        server='drain_timeout = "60s"\n',
    ).start()
    yield gw
    gw.stop()


def read_until(sock, marker: bytes, received=b""):
    while marker not in received:
        piece = sock.recv(65536)
        if not piece:
            break
        received += piece
    return received


def test_sigterm_during_a_stream_lets_it_complete_then_exits_zero(gateway, upstream):
    stream = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    idle = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    try:
        idle.sendall(b"GET /s/echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until(idle, b"}").startswith(b"HTTP/1.1 200")
        stream.sendall(b"GET /s/sse?gate=term HTTP/1.1\r\nHost: x\r\n\r\n")
        received = read_until(stream, SSE_FIRST)
        assert received.startswith(b"HTTP/1.1 200") and SSE_FIRST in received

        gateway.process.send_signal(15)

        # Stops accepting, says so to probes, and lets the idle keep-alive connection go.
        wait_for(lambda: not port_open(gateway.port), timeout=20, what="the public listener to close")
        assert gateway.admin("GET", "/readyz")[0] == 503
        assert idle.recv(65536) == b""
        assert gateway.process.poll() is None, "exited with a stream in flight"

        upstream.release("term")
        rest = read_until(stream, b"0\r\n\r\n", received)
        assert SSE_SECOND in rest and rest.endswith(b"0\r\n\r\n")
        assert gateway.process.wait(timeout=20) == 0
    finally:
        stream.close()
        idle.close()
    assert "stopped" in gateway.stderr()


def test_sigint_with_nothing_in_flight_exits_zero(gateway):
    gateway.process.send_signal(2)
    assert gateway.process.wait(timeout=20) == 0


def test_sigterm_while_an_answer_is_awaited_closes_the_connection_after_it(gateway, upstream):
    # The upstream has the request but not its whole body, so no answer head has gone out yet when SIGTERM comes:
    # the answer still arrives, announces `Connection: close` (RFC 9112 section 9.6) and is the connection's last.
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    try:
        sock.sendall(b"POST /s/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        wait_for(lambda: upstream.requests_to("/upload"), timeout=20, what="the upload to reach the upstream")

        gateway.process.send_signal(15)
        wait_for(lambda: not port_open(gateway.port), timeout=20, what="the public listener to close")
        sock.sendall(b"67890")

        received = read_until(sock, b"}")
        head = received.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 200"), received
        assert b"\r\nconnection: close" in head, received
        assert b'"length": 10' in received
        assert sock.recv(65536) == b""
        assert gateway.process.wait(timeout=20) == 0
    finally:
        sock.close()


def test_a_request_still_running_at_the_drain_deadline_is_closed_and_the_gateway_exits(tmp_path, upstream):
    gw = Gateway(
        tmp_path,
        routes=f"""
        [[routes]]
        prefix = "/s/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        timeout = "0s"
        """,
        server='drain_timeout = "1s"\n',
    ).start()
    try:
        with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as sock:
            sock.sendall(b"GET /s/hang HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_for(lambda: upstream.requests_to("/hang"), timeout=20, what="the request to reach the upstream")
            gw.process.send_signal(15)
            assert sock.recv(65536) == b"", "the connection outlived the drain deadline"
            assert gw.process.wait(timeout=20) == 0
        assert "drain timeout reached" in gw.stderr()
        # Its access-log line is written (499: no answer went out) before the log stops.
        assert [line["status"] for line in gw.access_log() if line.get("path") == "/s/hang"] == [499]
    finally:
        gw.stop()

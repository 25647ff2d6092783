"""The mark of the gateway's own answers, `X-Gateway-Error: <code>` (issue 22 item 12).

A client replays a request after refreshing its token only when the 401 carries the mark: such a 401 never
reached the upstream. So every answer the gateway makes up carries it, and no upstream can send it: the
gateway removes every copy, in any case, from plain answers, from the non-101 answer to an upgrade and from a
101. The upstream here is a bare HTTP server that forges the mark on every answer.
"""
import base64
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port
from gateway_process import Gateway, bearer, headers_named, unique
from tokens import mint

HANG = 30  # seconds: a guard against a hang only
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MARK = "X-Gateway-Error"
FORGED = [("X-Gateway-Error", "invalid_token"), ("x-gateway-error", "forged"), ("X-GATEWAY-ERROR", "forged")]
UPSTREAM_CHALLENGE = 'Bearer error="invalid_token", error_description="the upstream says so"'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Forger(BaseHTTPRequestHandler):
    """Answers by last path segment, always with the forged marks:
        .../own-401   the upstream's own 401 invalid_token
        .../switch    a valid 101 to a WebSocket upgrade, then holds the connection until the client closes
        anything else 200 "forged"
    Every request is counted by method and path in `seen`."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str]] = []

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _answer(self):
        path = self.path.split("?", 1)[0]
        Forger.seen.append((self.command, path))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        last = path.rsplit("/", 1)[-1]
        if last == "switch" and (self.headers.get("Upgrade") or "").lower() == "websocket":
            key = self.headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            self.send_response(101)
            for name, value in [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                ("Sec-WebSocket-Accept", accept)] + FORGED:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.flush()
            while self.connection.recv(65536):
                pass
            self.close_connection = True
            return
        status, body = (401, b'{"error":"invalid_token"}') if last == "own-401" else (200, b'"forged"')
        self.send_response(status)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))] + FORGED
        if status == 401:
            headers.append(("WWW-Authenticate", UPSTREAM_CHALLENGE))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture(scope="module")
def forger():
    server = _Server(("127.0.0.1", free_port()), Forger)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, forger):
    gw = Gateway(
        tmp_path_factory.mktemp("gateway-mark"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{forger}"]

        [[routes]]
        prefix = "/ws/"
        upstreams = ["{forger}"]
        websocket = true

        [[routes]]
        prefix = "/dead/"
        upstreams = ["http://127.0.0.1:{free_port()}"]
        """,
    ).start()
    yield gw
    gw.stop()


def marks(headers):
    return [value for name, value in headers if name.lower() == MARK.lower()]


def upgrade(gw, target, token=None):
    """A WebSocket upgrade on a bare socket: (status, headers) of the answer."""
    key = base64.b64encode(b"0123456789abcdef").decode()
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{gw.port}", "Connection: Upgrade", "Upgrade: websocket",
             "Sec-WebSocket-Version: 13", f"Sec-WebSocket-Key: {key}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    with socket.create_connection(("127.0.0.1", gw.port), timeout=HANG) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            assert piece, f"connection closed inside the answer's head: {received!r}"
            received += piece
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return int(head[0].split(" ", 2)[1]), [tuple(p.strip() for p in line.split(":", 1)) for line in head[1:]]


# -- the gateway's own answers carry the mark ------------------------------------------------------------


def test_the_gateways_own_401s_carry_the_mark_with_their_code(gateway):
    status, headers, body = gateway.request("GET", "/api/" + unique("none"))
    assert status == 401 and marks(headers) == ["unauthorized"], headers

    status, headers, body = gateway.request("GET", "/api/" + unique("bad"), bearer(mint(unique())[:-6]))
    assert status == 401 and marks(headers) == ["invalid_token"], headers
    assert json.loads(body)["error"] == "invalid_token"

    # The control plane's bearer refusals too: a client replays /auth/phone after a refresh the same way.
    status, headers, _ = gateway.request("POST", "/auth/phone", bearer("not-a-token"), body=b"code=x")
    assert status == 401 and marks(headers) == ["invalid_token"], headers


def test_other_answers_the_gateway_makes_up_carry_the_mark(gateway):
    status, headers, _ = gateway.request("GET", "/nowhere/" + unique())
    assert status == 404 and marks(headers) == ["not_found"], headers
    status, headers, _ = gateway.request("GET", "/dead/x", bearer(mint(unique())))
    assert status == 502 and marks(headers) == ["bad_gateway"], headers
    status, headers, body = gateway.request(
        "POST", "/auth/token", {"Content-Type": "application/x-www-form-urlencoded"},
        body=b"grant_type=refresh_token&refresh_token=no")
    assert status == 400 and marks(headers) == [json.loads(body)["error"]], headers


def test_a_refused_upgrade_is_marked(gateway):
    status, headers = upgrade(gateway, "/ws/switch")
    assert status == 401 and marks(headers) == ["unauthorized"], headers


# -- an upstream cannot send it ----------------------------------------------------------------------------


def test_an_upstreams_401_loses_every_copy_of_the_mark_and_keeps_the_rest(gateway):
    target = "/api/" + unique("post") + "/own-401"
    status, headers, body = gateway.request("POST", target, bearer(mint(unique())), body=b"{}")
    assert status == 401
    assert marks(headers) == [], headers
    assert headers_named(headers, "WWW-Authenticate") == [UPSTREAM_CHALLENGE]
    assert json.loads(body) == {"error": "invalid_token"}
    assert Forger.seen.count(("POST", target)) == 1


def test_an_upstreams_200_loses_every_copy_of_the_mark(gateway):
    status, headers, body = gateway.request("GET", "/api/" + unique("ok"), bearer(mint(unique())))
    assert status == 200 and body == b'"forged"'
    assert marks(headers) == [], headers


def test_an_upstreams_answer_to_an_upgrade_loses_the_mark(gateway):
    # Not a 101 (the path is not .../switch): relayed as a plain answer.
    status, headers = upgrade(gateway, "/ws/" + unique("refused") + "/own-401", mint(unique()))
    assert status == 401 and marks(headers) == [], headers
    assert headers_named(headers, "WWW-Authenticate") == [UPSTREAM_CHALLENGE]


def test_an_upstreams_101_loses_the_mark(gateway):
    status, headers = upgrade(gateway, "/ws/" + unique("tunnel") + "/switch", mint(unique()))
    assert status == 101, headers
    assert marks(headers) == [], headers

"""WebSocket tunnelling: an authenticated `Upgrade: websocket` on a route with `websocket = true` is sent to
the upstream, the upstream's 101 is relayed, then bytes flow both ways until either side closes.

Real processes only: the gateway binary, a `websockets` upstream (ws_upstream.py, which counts every
connection it accepts so a test can prove none was made) and `websockets` clients. Byte-exact and
flow-control cases use `RawTunnel`, a client on a bare socket that frames only what it is told to and reads
only when asked. Timeouts below are hang guards, with two exceptions: the promise that a logout closes a
tunnel within one second of its answer, and the back-pressure cases, which call a sender stalled after a few
seconds without progress and then judge by what got through and by the gateway's RSS, not by time.
"""
import asyncio
import base64
import hashlib
import http.client
import json
import os
import pathlib
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import free_port, port_open, stop_process, wait_for, wait_until_listening
from gateway_process import Gateway, ThrowawayCA, bearer, parse_prometheus_text, reload_and_wait, unique
from tokens import APPID, mint
from wechat_simulator import AuthGateway

HERE = pathlib.Path(__file__).resolve().parent
HANG = 30  # seconds: only ever a guard against a hang, never the behaviour under test
MiB = 1024 * 1024
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
REFUSE_BODY = b'{"error":"forbidden"}'  # what ws_upstream.py answers on .../refuse



# -- the upstream -----------------------------------------------------------------------------------------

class WsUpstream:
    """ws_upstream.py as a process on a free loopback port; `url` is what a route's `upstreams` names."""

    def __init__(self, workdir, cert=None, key=None, ca=None):
        self.port = free_port()
        self.log_path = workdir / f"ws-upstream-{self.port}.log"
        args = [sys.executable, str(HERE / "ws_upstream.py"), "--port", str(self.port)]
        if cert:
            args += ["--certfile", str(cert), "--keyfile", str(key)]
        self.ca = ca
        self.url = f"{'https' if cert else 'http'}://127.0.0.1:{self.port}"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_until_listening(self.process, self.port, "ws_upstream", details=self.log, stop=self.stop)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stats(self) -> dict:
        if self.ca:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                               context=ssl.create_default_context(cafile=str(self.ca)))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/stats")
            response = conn.getresponse()
            assert response.status == 200
            return json.loads(response.read())
        finally:
            conn.close()

    def contacts(self) -> tuple[int, int]:
        """(TCP connections accepted, HTTP requests read), /stats itself left out."""
        stats = self.stats()
        return stats["connections"], stats["handshakes"]

    def closed(self, target: str) -> list[dict]:
        return [entry for entry in self.stats()["closed"] if entry["target"] == target]

    def stop(self):
        stop_process(self.process, timeout=10)


@pytest.fixture(scope="module")
def ws_upstream(tmp_path_factory):
    up = WsUpstream(tmp_path_factory.mktemp("ws-upstream"))
    yield up
    up.stop()


# -- gateways -----------------------------------------------------------------------------------------------

def ws_routes(upstream, websocket_table: str = "", extra: str = "") -> str:
    """`[websocket]` (when given) and the routes every gateway here has: /ws/ tunnels, /plain/ does not."""
    table = f"[websocket]\n{websocket_table}\n" if websocket_table else ""
    return table + f"""
[[routes]]
prefix = "/ws/"
upstreams = ["{upstream.url}"]
auth = "required"
websocket = true

[[routes]]
prefix = "/ws2/"
upstreams = ["{upstream.url}"]
auth = "required"
websocket = true

[[routes]]
prefix = "/plain/"
upstreams = ["{upstream.url}"]
auth = "required"

[[routes]]
prefix = "/ws-dead/"
upstreams = ["http://127.0.0.1:{free_port()}"]
auth = "required"
websocket = true
""" + extra


def ws_gateway(workdir, upstream, websocket_table: str = "", server: str = "", extra: str = "") -> Gateway:
    return Gateway(workdir, routes=ws_routes(upstream, websocket_table, extra), server=server).start()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, ws_upstream):
    gw = ws_gateway(tmp_path_factory.mktemp("ws-gateway"), ws_upstream)
    yield gw
    gw.stop()


@pytest.fixture
def fresh_gateway(tmp_path, ws_upstream):
    """A gateway of its own, for tests that count, measure memory or signal the process."""
    started = []

    def start(websocket_table="", server=""):
        gw = ws_gateway(tmp_path, ws_upstream, websocket_table, server)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


WS_ROUTE_FOR_AUTH = """
[[routes]]
prefix = "/ws/"
upstreams = ["{url}"]
auth = "required"
websocket = true
"""


def auth_gateway(workdir, simulator, upstream, **options) -> AuthGateway:
    """A gateway with /auth/* against the WeChat simulator and a tunnelling /ws/ route."""
    gw = AuthGateway(workdir, simulator, **options)
    gw.config.write_text(gw.config.read_text() + WS_ROUTE_FOR_AUTH.format(url=upstream.url))
    return gw


# -- clients ------------------------------------------------------------------------------------------------

def run(coroutine, timeout=HANG * 4):
    """Runs one test scenario on a fresh event loop, with a guard against a hang."""
    async def guarded():
        return await asyncio.wait_for(coroutine, timeout)

    return asyncio.run(guarded())


def open_ws(gw, target, token=None, headers=(), **options):
    """A `websockets` client through the gateway. No keep-alive pings: idle must mean idle."""
    all_headers = list(headers)
    if token is not None:
        all_headers.append(("Authorization", f"Bearer {token}"))
    options.setdefault("max_size", None)
    return connect(f"ws://127.0.0.1:{gw.port}{target}", additional_headers=all_headers, ping_interval=None,
                   open_timeout=HANG, close_timeout=HANG, **options)


async def assert_echoes(ws, message):
    await ws.send(message)
    assert await asyncio.wait_for(ws.recv(), HANG) == message


async def closed_by_peer(ws) -> ConnectionClosed:
    """Reads until the connection ends; returns the ConnectionClosed it ended with. Any message is an error."""
    try:
        message = await asyncio.wait_for(ws.recv(), HANG)
    except ConnectionClosed as closed:
        return closed
    raise AssertionError(f"expected the tunnel to close, got a message: {message!r}")


def handshake_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def authorized(openid=None):
    return [("Authorization", f"Bearer {mint(openid or unique())}")]


def upgrade_request(port, target, headers=(), key=None) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: Upgrade", "Upgrade: websocket",
             "Sec-WebSocket-Version: 13", f"Sec-WebSocket-Key: {key or handshake_key()}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(sock, received=b""):
    """Reads one HTTP response head: (status, [(name, value)], bytes already read past the head)."""
    while b"\r\n\r\n" not in received:
        piece = sock.recv(65536)
        if not piece:
            raise AssertionError(f"connection closed inside a response head: {received!r}")
        received += piece
    head, rest = received.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
    return status, headers, rest


def header(headers, name):
    values = [value for key, value in headers if key.lower() == name.lower()]
    assert len(values) <= 1, f"{name} repeated: {values}"
    return values[0] if values else None


def read_body(sock, headers, received):
    """The body of a response with Content-Length, chunked, or read until the connection closes."""
    def fill(n):
        nonlocal received
        while len(received) < n:
            piece = sock.recv(65536)
            if not piece:
                raise AssertionError("connection closed inside a response body")
            received += piece

    if "chunked" in (header(headers, "Transfer-Encoding") or "").lower():
        body = b""
        while True:
            while b"\r\n" not in received:
                fill(len(received) + 1)
            size_line, received = received.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            fill(size + 2)
            body, received = body + received[:size], received[size + 2:]
            if size == 0:
                return body, received
    length = header(headers, "Content-Length")
    if length is not None:
        fill(int(length))
        return received[: int(length)], received[int(length):]
    while piece := sock.recv(65536):
        received += piece
    return received, b""


def upgrade_answer(gw, target, headers=(), wait_for_close=False):
    """Sends an upgrade that is expected to be refused: (status, headers, body, closed). With `wait_for_close`,
    `closed` says whether the gateway then closed the connection, awaited up to the hang guard (a connection
    left open is answered False after it); without, it is None."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=HANG) as sock:
        sock.sendall(upgrade_request(gw.port, target, headers))
        status, response_headers, rest = read_head(sock)
        body, rest = read_body(sock, response_headers, rest)
        closed = None
        if wait_for_close:
            try:
                closed = rest == b"" and sock.recv(65536) == b""
            except (TimeoutError, ConnectionResetError) as error:
                closed = isinstance(error, ConnectionResetError)
        return status, response_headers, body, closed


def client_frame(payload: bytes, opcode=0x2) -> bytes:
    """One final client frame. The all-zero masking key leaves the payload as it is (RFC 6455 section 5.3)
    and costs nothing for 64 MiB; the gateway relays bytes and the upstream unmasks them the same."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def server_frame_size(n: int) -> int:
    """Bytes on the wire of an unmasked (server) frame with an n-byte payload."""
    return n + (2 if n < 126 else 4 if n < 65536 else 10)


def client_frame_size(n: int) -> int:
    return server_frame_size(n) + 4


class RawTunnel:
    """A WebSocket client on a bare socket: no extension offered, nothing read unless asked."""

    def __init__(self, gw, target, token, headers=()):
        self.sock = socket.create_connection(("127.0.0.1", gw.port), timeout=HANG)
        key = handshake_key()
        self.sock.sendall(upgrade_request(gw.port, target, [("Authorization", f"Bearer {token}"), *headers], key))
        status, self.headers, self.pending = read_head(self.sock)
        assert status == 101, (status, self.headers, self.pending)
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert header(self.headers, "Sec-WebSocket-Accept") == accept

    def _fill(self, n):
        while len(self.pending) < n:
            piece = self.sock.recv(MiB)
            if not piece:
                raise AssertionError(f"tunnel closed with {len(self.pending)} of {n} bytes")
            self.pending += piece

    def read_binary_payload(self, total: int) -> int:
        """Reads unmasked binary frames until `total` payload bytes came; returns how many did."""
        got = 0
        while got < total:
            self._fill(2)
            first, second = self.pending[0], self.pending[1]
            assert first & 0x0F in (0x0, 0x2) and not second & 0x80, f"unexpected frame header {first:#x} {second:#x}"
            length, header_size = second & 0x7F, 2
            if length == 126:
                self._fill(4)
                length, header_size = int.from_bytes(self.pending[2:4], "big"), 4
            elif length == 127:
                self._fill(10)
                length, header_size = int.from_bytes(self.pending[2:10], "big"), 10
            self.pending = self.pending[header_size:]
            remaining = length
            while remaining:
                if not self.pending:
                    self._fill(1)
                take = min(remaining, len(self.pending))
                self.pending = self.pending[take:]
                remaining -= take
            got += length
        return got

    def close(self):
        self.sock.close()


def rss_kib(gw) -> int:
    with open(f"/proc/{gw.process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def scrape_all(gw) -> dict:
    status, body = gw.admin("GET", "/metrics")
    assert status == 200, body
    return parse_prometheus_text(body.decode())


def total(samples, name, **labels) -> float:
    """Sum of every series of `name` carrying at least `labels` (a route label, if added, is summed over)."""
    wanted = set(labels.items())
    return sum(value for (series, series_labels), value in samples.items()
               if series == name and wanted <= set(series_labels))


def tunnel_lines(gw, request_id) -> list[dict]:
    """The access-log lines of one request id. A null field is left out of a line (`error` of a normal close)."""
    return [line for line in gw.access_log() if line.get("request_id") == request_id]


def tunnel_line(gw, request_id) -> dict:
    """The access-log line of one ended tunnel (the writer flushes in the background)."""
    wait_for(lambda: tunnel_lines(gw, request_id), timeout=HANG, what=f"the access-log line of {request_id}")
    lines = tunnel_lines(gw, request_id)
    assert len(lines) == 1, lines
    return lines[0]


# -- relaying -----------------------------------------------------------------------------------------------

def test_text_and_binary_messages_echo_through_the_tunnel_with_the_extensions_relayed(gateway):
    async def scenario():
        async with open_ws(gateway, "/ws/echo", mint(unique()), subprotocols=["chat.v1"]) as ws:
            assert ws.response.status_code == 101
            # The upstream's choices reach the client: the subprotocol and permessage-deflate (offered by default).
            assert ws.subprotocol == "chat.v1"
            assert "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or "")
            assert ws.response.headers.get("X-Request-Id")
            await assert_echoes(ws, "hello, 世界")
            await assert_echoes(ws, bytes(range(256)) * 4)
            await assert_echoes(ws, "")
            await assert_echoes(ws, b"")
            echoed = []
            for message in ("text", b"\x00binary", "more text"):
                await ws.send(message)
                echoed.append(await asyncio.wait_for(ws.recv(), HANG))
            assert echoed == ["text", b"\x00binary", "more text"]
            assert [type(m) for m in echoed] == [str, bytes, str]

    run(scenario())


def test_one_4_mib_message_arrives_whole(gateway):
    message = os.urandom(4 * MiB + 17)

    async def scenario():
        async with open_ws(gateway, "/ws/echo", mint(unique()), compression=None) as ws:
            await assert_echoes(ws, message)

    run(scenario())


def test_a_thousand_messages_arrive_in_order(gateway):
    async def scenario():
        async with open_ws(gateway, "/ws/echo", mint(unique())) as ws:
            async def send_all():
                for i in range(1000):
                    await ws.send(f"message {i:04d}" if i % 2 else f"message {i:04d}".encode())

            sender = asyncio.create_task(send_all())
            received = [await asyncio.wait_for(ws.recv(), HANG) for _ in range(1000)]
            await sender
            expected = [f"message {i:04d}" if i % 2 else f"message {i:04d}".encode() for i in range(1000)]
            assert received == expected

    run(scenario())


def raise_open_file_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def test_two_hundred_concurrent_tunnels_each_get_their_own_echoes(gateway):
    raise_open_file_limit(4096)  # 200 sockets here (the gateway's 400 fit in any default limit)
    async def one(index):
        async with open_ws(gateway, f"/ws/echo?tunnel={index}", mint(f"user-{index}")) as ws:
            for round_ in range(5):
                await assert_echoes(ws, f"tunnel {index} round {round_}")
                await assert_echoes(ws, f"{index}:{round_}".encode() * 100)

    async def scenario():
        await asyncio.gather(*(one(i) for i in range(200)))

    run(scenario())


def test_https_upstream_verified_with_the_route_ca_file(tmp_path):
    ca = ThrowawayCA(tmp_path)
    cert, key, _ = ca.issue("ws-upstream")
    upstream = WsUpstream(tmp_path, cert=cert, key=key, ca=ca.path)
    gw = None
    try:
        gw = Gateway(tmp_path, routes=f"""
[[routes]]
prefix = "/wss/"
upstreams = ["{upstream.url}"]
auth = "required"
websocket = true
ca_file = "{ca.path}"
""").start()
        openid = unique("tls")

        async def scenario():
            async with open_ws(gw, "/wss/headers", mint(openid)) as ws:
                seen = json.loads(await asyncio.wait_for(ws.recv(), HANG))
                assert [v for k, v in seen["headers"] if k.lower() == "x-openid"] == [openid]
                await assert_echoes(ws, "over tls")
                await assert_echoes(ws, os.urandom(100_000))

        run(scenario())
        assert upstream.contacts()[1] == 1
    finally:
        if gw is not None:
            gw.stop()
        upstream.stop()


# -- authentication and headers -----------------------------------------------------------------------------

def test_upgrade_without_a_token_is_401_and_never_reaches_the_upstream(gateway, ws_upstream):
    before = ws_upstream.contacts()
    status, headers, body, _ = upgrade_answer(gateway, "/ws/echo")
    assert status == 401
    challenge = header(headers, "WWW-Authenticate")
    assert challenge.startswith("Bearer ") and 'realm="' in challenge and "error=" not in challenge
    assert header(headers, "Content-Type").startswith("application/json")
    assert "error" in json.loads(body)

    status, headers, body, _ = upgrade_answer(gateway, "/ws/echo", [("Authorization", "Bearer " + mint(unique())[:-6])])
    assert status == 401
    assert 'error="invalid_token"' in header(headers, "WWW-Authenticate")
    assert "error" in json.loads(body)

    # And the websockets client sees the same refusal.
    async def scenario():
        with pytest.raises(InvalidStatus) as refused:
            async with open_ws(gateway, "/ws/echo", mint(unique(), secret="another-secret-0123456789abcdef0123")):
                pass
        assert refused.value.response.status_code == 401

    run(scenario())
    assert ws_upstream.contacts() == before, "a refused upgrade must not open an upstream connection"


def test_forged_identity_headers_are_stripped_and_the_gateway_injects_its_own(gateway):
    openid, unionid = unique("ws-id"), unique("union")
    forged = [("X-OpenId", "forged-openid"), ("x-openid", "forged-again"), ("X_OpenId", "underscore"),
              ("X-UnionId", "forged-union"), ("X-AppId", "wxforged"), ("X-Request-Id", "ws-trace-" + unique()),
              ("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")]
    request_id = forged[5][1]

    async def scenario():
        async with open_ws(gateway, "/ws/headers?x=1", mint(openid, unionid=unionid), headers=forged) as ws:
            seen = json.loads(await asyncio.wait_for(ws.recv(), HANG))
            assert ws.response.headers.get_all("X-Request-Id") == [request_id]
            await assert_echoes(ws, "still a tunnel")
            return seen

    seen = run(scenario())

    def values(name):
        return [v for k, v in seen["headers"] if k.lower().replace("_", "-") == name.lower()]

    assert seen["target"] == "/ws/headers?x=1"
    assert values("X-OpenId") == [openid]
    assert values("X-UnionId") == [unionid]
    assert values("X-AppId") == [APPID]
    assert values("X-Request-Id") == [request_id]
    assert values("X-Forwarded-For") == ["127.0.0.1"]
    assert values("X-Forwarded-Proto") == ["http"]
    assert values("X-Forwarded-Host") == [f"127.0.0.1:{gateway.port}"]
    assert values("Authorization") == [], "the bearer token is not passed upstream unless the route asks"
    assert values("Upgrade") == ["websocket"] and len(values("Sec-WebSocket-Key")) == 1


def test_a_request_id_is_generated_when_the_client_sends_none(gateway):
    async def scenario():
        async with open_ws(gateway, "/ws/headers", mint(unique())) as ws:
            seen = json.loads(await asyncio.wait_for(ws.recv(), HANG))
            returned = ws.response.headers.get_all("X-Request-Id")
            assert len(returned) == 1 and returned[0]
            assert [v for k, v in seen["headers"] if k.lower() == "x-request-id"] == returned

    run(scenario())


def test_upgrade_on_a_route_without_websocket_is_400_and_never_reaches_the_upstream(gateway, ws_upstream):
    before = ws_upstream.contacts()
    status, headers, body, closed = upgrade_answer(gateway, "/plain/echo", authorized(), wait_for_close=True)
    assert status == 400
    assert json.loads(body)["error"] == "websocket_not_enabled"
    assert closed, "the gateway must close the connection after refusing the upgrade"
    assert ws_upstream.contacts() == before


def test_another_protocol_switch_is_answered_as_a_plain_request_and_the_connection_closes(gateway):
    # NIO's parser (as llhttp) reads nothing after a request that asks to switch protocols; an h2c upgrade is
    # answered without switching, and the connection must end with that answer instead of hanging on the next
    # request, which here is already sent behind it.
    token = mint(unique())
    request = (
        f"GET /plain/stats HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
        f"GET /plain/stats HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=HANG) as sock:
        sock.sendall(request)
        status, headers, rest = read_head(sock)
        body, rest = read_body(sock, headers, rest)
        assert status == 200
        assert "connections" in json.loads(body)
        assert (header(headers, "Connection") or "").lower() == "close"
        assert rest == b"" and sock.recv(65536) == b"", "one answer, then the connection closes"


# -- refusals and closes ------------------------------------------------------------------------------------

def test_an_upstream_refusing_the_upgrade_is_relayed_as_a_plain_answer(gateway):
    status, headers, body, closed = upgrade_answer(gateway, "/ws/refuse", authorized(), wait_for_close=True)
    assert status == 403
    assert body == REFUSE_BODY
    assert closed


def test_an_unreachable_upstream_is_502(gateway):
    status, _, body, _ = upgrade_answer(gateway, "/ws-dead/echo", authorized())
    assert status == 502
    assert "error" in json.loads(body)


def test_the_upstream_closing_reaches_the_client_with_its_code_and_reason(gateway):
    request_id = unique("ws-upclose")

    async def scenario():
        async with open_ws(gateway, "/ws/close", mint(unique()), headers=[("X-Request-Id", request_id)]) as ws:
            assert await asyncio.wait_for(ws.recv(), HANG) == "closing"
            closed = await closed_by_peer(ws)
            assert closed.rcvd is not None, "the upstream's close frame must reach the client"
            assert (closed.rcvd.code, closed.rcvd.reason) == (4001, "bye")

    run(scenario())
    line = tunnel_line(gateway, request_id)
    assert line["status"] == 101 and line.get("error") is None


def test_the_client_closing_reaches_the_upstream(gateway, ws_upstream):
    handshake_target, abrupt_target = f"/ws/echo?tag={unique()}", f"/ws/echo?tag={unique()}"
    request_ids = unique("ws-cclose"), unique("ws-cabort")

    async def scenario():
        # A close handshake: the upstream receives the client's close frame as it was sent.
        async with open_ws(gateway, handshake_target, mint(unique()), headers=[("X-Request-Id", request_ids[0])]) as ws:
            await assert_echoes(ws, "before closing")
            await ws.close(4002, "client-bye")
        # The client's TCP connection just ending: the gateway ends the upstream's too.
        ws = await open_ws(gateway, abrupt_target, mint(unique()), headers=[("X-Request-Id", request_ids[1])])
        await assert_echoes(ws, "before vanishing")
        ws.transport.abort()

    run(scenario())
    entry = wait_for(lambda: ws_upstream.closed(handshake_target), timeout=HANG, what="the upstream to see the close")
    assert [(e["code"], e["reason"]) for e in entry] == [(4002, "client-bye")]
    entry = wait_for(lambda: ws_upstream.closed(abrupt_target), timeout=HANG,
                     what="the upstream to see the client's connection end")
    assert [e["code"] for e in entry] == [1006]
    for request_id in request_ids:
        line = tunnel_line(gateway, request_id)
        assert line["status"] == 101 and line.get("error") is None, line


def test_an_upstream_dying_mid_stream_ends_the_client_connection(gateway):
    request_id = unique("ws-die")

    async def scenario():
        async with open_ws(gateway, "/ws/die", mint(unique()), headers=[("X-Request-Id", request_id)]) as ws:
            await ws.send("the upstream dies on this one")
            closed = await closed_by_peer(ws)
            assert closed.rcvd is None, "no close frame: the connection just ended"

    before = total(scrape_all(gateway), "gateway_websocket_tunnels_total", outcome="upstream_error")
    run(scenario())
    line = tunnel_line(gateway, request_id)
    assert line["status"] == 101 and (line.get("error") or "").startswith("upstream_"), line
    wait_for(lambda: total(scrape_all(gateway), "gateway_websocket_tunnels_total", outcome="upstream_error")
             == before + 1, timeout=HANG, what="the upstream failure counted")


# -- limits -------------------------------------------------------------------------------------------------

def test_over_max_tunnels_is_503_before_any_upstream_connection(fresh_gateway, ws_upstream):
    gw = fresh_gateway('max_tunnels = 2')

    async def scenario():
        first = await open_ws(gw, "/ws/echo", mint(unique()))
        second = await open_ws(gw, "/ws2/echo", mint(unique()))  # the limit counts every route
        await assert_echoes(first, "one")
        await assert_echoes(second, "two")
        before = ws_upstream.contacts()
        status, headers, body, _ = await asyncio.to_thread(
            upgrade_answer, gw, "/ws/echo", authorized())
        assert status == 503
        assert json.loads(body)["error"] == "too_many_tunnels"
        assert header(headers, "Retry-After")
        assert ws_upstream.contacts() == before
        await assert_echoes(first, "the open ones are untouched")

        # A tunnel that ends frees its place.
        await first.close()
        await asyncio.to_thread(wait_for, lambda: total(scrape_all(gw), "gateway_websocket_tunnels_open") == 1,
                                HANG, 0.05, "the closed tunnel to be counted out")
        async with open_ws(gw, "/ws/echo", mint(unique())) as third:
            await assert_echoes(third, "three")
        await second.close()

    run(scenario())


def test_an_idle_tunnel_is_closed_and_a_busy_one_is_not(fresh_gateway):
    gw = fresh_gateway('idle_timeout = "1s"')
    idle_id, busy_id = unique("ws-idle"), unique("ws-busy")

    async def scenario():
        idle = await open_ws(gw, "/ws/echo", mint(unique()), headers=[("X-Request-Id", idle_id)])
        busy = await open_ws(gw, "/ws/echo", mint(unique()), headers=[("X-Request-Id", busy_id)])
        await assert_echoes(idle, "then silence")
        idle_closed = asyncio.create_task(closed_by_peer(idle))
        # A message every 250 ms keeps the other tunnel alive, through the idle one's end and as long again.
        rounds, rounds_after = 0, 0
        while rounds_after < 8:
            await assert_echoes(busy, f"busy {rounds}")
            await asyncio.sleep(0.25)
            rounds += 1
            rounds_after += idle_closed.done()
        closed = idle_closed.result()
        assert closed.rcvd is None and idle.close_code == 1006
        await busy.close()

    run(scenario())
    assert tunnel_line(gw, idle_id)["error"] == "idle_timeout"
    assert tunnel_line(gw, busy_id).get("error") is None
    assert total(scrape_all(gw), "gateway_websocket_tunnels_total", outcome="idle_timeout") == 1


# -- back-pressure (asserted by memory, not time) -----------------------------------------------------------

def test_a_client_sending_into_a_stalled_upstream_is_held_back_not_buffered(fresh_gateway):
    gw = fresh_gateway()
    tunnel = RawTunnel(gw, "/ws/stall", mint(unique()))
    frame = client_frame(os.urandom(MiB))
    everything = 64 * len(frame)
    before = rss_kib(gw)
    sent = 0
    # Sends that make no progress for 3 s have stopped completing: the whole path is full.
    tunnel.sock.settimeout(3)
    try:
        while sent < everything:
            sent += tunnel.sock.send(memoryview(frame)[sent % len(frame):])
    except TimeoutError:
        pass
    growth = rss_kib(gw) - before
    tunnel.close()
    assert sent < everything, "64 MiB went into a tunnel whose upstream reads nothing: something buffered it all"
    assert growth < 48 * 1024, f"the gateway's RSS grew by {growth} KiB while the upstream read nothing"


def test_tunnels_that_ended_leave_nothing_behind(fresh_gateway):
    # A tunnel's state is freed when it ends: 2,000 tunnels opened and closed one after the other leave the RSS
    # where it was. (A session and its relay that kept each other alive cost about 2 KiB a tunnel: 4 MiB here.)
    gw = fresh_gateway("max_tunnels_per_user = 20")  # one token, 20 tunnels at a time
    token = mint(unique())

    async def churn(count):
        for _ in range(count // 20):
            async def one():
                async with open_ws(gw, "/ws/echo", token, compression=None) as ws:
                    await assert_echoes(ws, "x")
            await asyncio.gather(*[one() for _ in range(20)])

    run(churn(400))  # allocator pools and metric series reach their size first
    before = rss_kib(gw)
    run(churn(2000))
    wait_for(lambda: total(scrape_all(gw), "gateway_websocket_tunnels_open") == 0, timeout=HANG,
             what="every tunnel counted out")
    growth = rss_kib(gw) - before
    assert growth < 2 * 1024, f"2,000 ended tunnels left {growth} KiB behind"


def test_a_client_not_reading_a_flood_holds_the_upstream_back_then_gets_every_byte(fresh_gateway, ws_upstream):
    gw = fresh_gateway()
    flood = 64 * MiB
    start = ws_upstream.stats()["flood_sent"]
    tunnel = RawTunnel(gw, f"/ws/flood?bytes={flood}", mint(unique()))
    before = rss_kib(gw)

    # The upstream sends as fast as it is let; wait until it has been held still for 2 s.
    history = []

    def upstream_held():
        history.append(ws_upstream.stats()["flood_sent"] - start)
        return len(history) > 4 and history[-1] > 0 and len(set(history[-5:])) == 1

    wait_for(upstream_held, timeout=120, interval=0.5, what="the flooding upstream to be held back")
    held_at = history[-1]
    growth = rss_kib(gw) - before
    assert held_at < flood, "the upstream sent all 64 MiB to a client that read nothing"
    assert growth < 48 * 1024, f"the gateway's RSS grew by {growth} KiB while its client read nothing"

    assert tunnel.read_binary_payload(flood) == flood
    tunnel.close()
    assert ws_upstream.stats()["flood_sent"] - start == flood


# -- revocation ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logins(tmp_path_factory, simulator, ws_upstream):
    gw = auth_gateway(tmp_path_factory.mktemp("ws-auth"), simulator, ws_upstream).start()
    yield gw
    gw.stop()


async def watch_close(ws) -> float:
    """The monotonic time at which the tunnel was seen to end (after any messages still in flight)."""
    try:
        while True:
            await ws.recv()
    except ConnectionClosed:
        return time.monotonic()


def test_logout_closes_every_tunnel_of_the_session_within_a_second(logins):
    gw = logins
    tokens = gw.login(f"openid:{unique('ws-out')}")
    status, _, refreshed = gw.refresh(tokens["refresh_token"])
    assert status == 200, refreshed
    bystander = gw.login(f"openid:{unique('ws-stay')}")
    request_id = unique("ws-revoked")

    async def scenario():
        first = await open_ws(gw, "/ws/echo", tokens["access_token"], headers=[("X-Request-Id", request_id)])
        second = await open_ws(gw, "/ws/echo", refreshed["access_token"])
        other = await open_ws(gw, "/ws/echo", bystander["access_token"])
        for ws in (first, second, other):
            await assert_echoes(ws, "before the logout")
        watchers = [asyncio.create_task(watch_close(ws)) for ws in (first, second)]

        status, _, _ = await asyncio.to_thread(gw.request, "POST", "/auth/logout", bearer(refreshed["access_token"]))
        answered = time.monotonic()
        assert status == 204
        closed_at = await asyncio.wait_for(asyncio.gather(*watchers), HANG)
        for when in closed_at:
            assert when - answered <= 1.0, f"a tunnel of the logged-out session closed {when - answered:.2f} s late"
        await assert_echoes(other, "another session's tunnel stays open")
        await other.close()

    run(scenario())
    assert tunnel_line(gw, request_id)["error"] == "revoked"
    assert total(scrape_all(gw), "gateway_websocket_tunnels_total", outcome="revoked") >= 2


@pytest.mark.parametrize("revoked", ["refresh_token", "access_token"])
def test_revoking_the_token_or_its_session_closes_the_tunnel_within_a_second(logins, revoked):
    gw = logins
    tokens = gw.login(f"openid:{unique('ws-rev')}")

    async def scenario():
        ws = await open_ws(gw, "/ws/echo", tokens["access_token"])
        await assert_echoes(ws, "before the revocation")
        watcher = asyncio.create_task(watch_close(ws))
        status, _, _ = await asyncio.to_thread(gw.post_form, "/auth/revoke", {"token": tokens[revoked]})
        answered = time.monotonic()
        assert status == 200
        closed_at = await asyncio.wait_for(watcher, HANG)
        assert closed_at - answered <= 1.0

    run(scenario())


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_logout_on_one_instance_closes_the_tunnel_held_by_another_within_a_second(
        tmp_path, simulator, ws_upstream, request, store):
    if store == "postgres":
        url, settings = request.getfixturevalue("postgres").create_database(), 'timeout = "2s"'
    else:
        url, settings = f"sqlite://{tmp_path}/shared.db", ""
    fleet = [auth_gateway(tmp_path, simulator, ws_upstream, name=f"gw{i}", store_url=url, store_settings=settings)
             for i in range(2)]
    try:
        a, b = (member.start() for member in fleet)
        tokens = a.login(f"openid:{unique('ws-fleet')}")

        async def scenario():
            ws = await open_ws(b, "/ws/echo", tokens["access_token"])
            await assert_echoes(ws, "held through the other instance")
            watcher = asyncio.create_task(watch_close(ws))
            status, _, _ = await asyncio.to_thread(a.request, "POST", "/auth/logout", bearer(tokens["access_token"]))
            answered = time.monotonic()
            assert status == 204
            closed_at = await asyncio.wait_for(watcher, HANG)
            assert closed_at - answered <= 1.0, f"closed {closed_at - answered:.2f} s after the logout answer"

        run(scenario())
    finally:
        for member in fleet:
            member.stop()


# -- signals ------------------------------------------------------------------------------------------------

def test_sigterm_keeps_tunnels_during_the_drain_then_closes_them_and_exits(fresh_gateway):
    gw = fresh_gateway(server='drain_timeout = "2s"\n')
    request_id = unique("ws-term")

    async def scenario():
        ws = await open_ws(gw, "/ws/echo", mint(unique()), headers=[("X-Request-Id", request_id)])
        await assert_echoes(ws, "before SIGTERM")
        gw.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(wait_for, lambda: not port_open(gw.port), HANG, 0.05, "the listener to close")
        await assert_echoes(ws, "while draining")
        await closed_by_peer(ws)

    run(scenario())
    assert gw.process.wait(timeout=HANG) == 0
    assert tunnel_line(gw, request_id)["error"] == "shutdown"


def test_sighup_keeps_tunnels_open_and_working(fresh_gateway):
    gw = fresh_gateway()

    async def scenario():
        async with open_ws(gw, "/ws/echo", mint(unique())) as ws:
            await assert_echoes(ws, "before the reload")
            await asyncio.to_thread(reload_and_wait, gw, "success")
            await assert_echoes(ws, "after the reload")
            assert total(scrape_all(gw), "gateway_websocket_tunnels_open") == 1
        async with open_ws(gw, "/ws/echo", mint(unique())) as ws:
            await assert_echoes(ws, "a new tunnel after the reload")

    run(scenario())


# -- access log and metrics ---------------------------------------------------------------------------------

def test_one_access_log_line_per_tunnel_with_exact_byte_counts(fresh_gateway):
    gw = fresh_gateway()
    openid, request_id = unique("ws-log"), unique("ws-bytes")
    payloads = ["hello", os.urandom(300), os.urandom(70_000)]

    async def scenario():
        # No compression, no pings: every byte on the wire is known.
        async with open_ws(gw, "/ws/echo?secret=not-logged", mint(openid), compression=None,
                           headers=[("X-Request-Id", request_id)]) as ws:
            for payload in payloads:
                await assert_echoes(ws, payload)
            assert tunnel_lines(gw, request_id) == [], "the line is written when the tunnel ends"
            assert total(scrape_all(gw), "gateway_websocket_tunnels_open") == 1
        # close() sent code 1000 (2 bytes of payload) and waited for the upstream's close frame.

    run(scenario())
    sizes = [len(p.encode() if isinstance(p, str) else p) for p in payloads]
    bytes_in = sum(client_frame_size(n) for n in sizes) + client_frame_size(2)
    bytes_out = sum(server_frame_size(n) for n in sizes) + server_frame_size(2)
    line = tunnel_line(gw, request_id)
    assert (line["status"], line["method"], line["path"], line["route"]) == (101, "GET", "/ws/echo", "/ws/")
    assert line["openid"] == openid and line.get("error") is None
    assert (line["bytes_in"], line["bytes_out"]) == (bytes_in, bytes_out)
    assert line["duration_ms"] >= 0

    samples = scrape_all(gw)
    assert total(samples, "gateway_websocket_tunnels_open") == 0
    assert total(samples, "gateway_websocket_bytes_total", direction="to_upstream") == bytes_in
    assert total(samples, "gateway_websocket_bytes_total", direction="to_client") == bytes_out
    # A close handshake the client starts still ends with the upstream closing TCP first (RFC 6455 section
    # 7.1.1), so which of the two outcomes it is depends on whether the gateway reads close frames.
    assert sum(total(samples, "gateway_websocket_tunnels_total", outcome=outcome)
               for outcome in ("client_closed", "upstream_closed")) == 1


def test_metrics_count_tunnels_by_outcome(fresh_gateway):
    gw = fresh_gateway()
    samples = scrape_all(gw)
    for outcome in ("client_closed", "upstream_closed", "idle_timeout", "revoked", "shutdown", "upstream_error"):
        assert total(samples, "gateway_websocket_tunnels_total", outcome=outcome) == 0
    assert any(name == "gateway_websocket_tunnels_open" for name, _ in samples), "the gauge exists from the start"

    async def scenario():
        opened = [await open_ws(gw, "/ws/echo", mint(unique())) for _ in range(3)]
        assert total(scrape_all(gw), "gateway_websocket_tunnels_open") == 3
        for ws in opened:
            await assert_echoes(ws, "x" * 10)
        # The client's TCP connection just ends (no close frame): client_closed.
        opened[0].transport.abort()
        # The upstream closes: upstream_closed.
        async with open_ws(gw, "/ws/close", mint(unique())) as ws:
            await ws.recv()
            await closed_by_peer(ws)
        # The upstream dies: upstream_error.
        async with open_ws(gw, "/ws/die", mint(unique())) as ws:
            await ws.send("die")
            await closed_by_peer(ws)
        for ws in opened[1:]:
            ws.transport.abort()

    run(scenario())
    wait_for(lambda: total(scrape_all(gw), "gateway_websocket_tunnels_open") == 0, timeout=HANG,
             what="every tunnel counted out")
    samples = scrape_all(gw)
    assert total(samples, "gateway_websocket_tunnels_total", outcome="client_closed") == 3
    assert total(samples, "gateway_websocket_tunnels_total", outcome="upstream_closed") == 1
    assert total(samples, "gateway_websocket_tunnels_total", outcome="upstream_error") == 1
    assert total(samples, "gateway_websocket_tunnels_total") == 5
    assert total(samples, "gateway_websocket_bytes_total", direction="to_upstream") >= 3 * client_frame_size(10)
    assert total(samples, "gateway_websocket_bytes_total", direction="to_client") >= 3 * server_frame_size(10)
    wait_for(lambda: len([line for line in gw.access_log() if line.get("status") == 101]) >= 5, timeout=HANG,
             what="five access-log lines")
    assert len([line for line in gw.access_log() if line.get("status") == 101]) == 5

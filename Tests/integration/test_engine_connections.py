"""The engine's client connections (issue 23), begun as `gateway engine-probe`'s measuring slice and now run against
`gateway serve` with one worker (`[server] workers = 1`, so the SIGUSR1 report is one line): llhttp, libcurl's
socket_action, bodies both ways, pipelining, limits, lingering close, against the real binary and an echo upstream.
"""
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import free_port, wait_for
from gateway_process import Gateway, bearer, unique
from tokens import mint
from upstream import CHUNKED_BODY, header_values


class OneWorkerGateway(Gateway):
    """`gateway serve` with the test module's config and a single engine worker."""

    def __init__(self, workdir, routes: str, server: str = ""):
        super().__init__(workdir, routes=routes, server="workers = 1\n" + server)


class SlowEchoUpstream:
    """An upstream that reads a request body slowly (small reads, a pause between them) and then sends it back whole
    with a Content-Length: the engine must hold the client back meanwhile rather than take the body in."""

    def __init__(self):
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer_quietly, args=(conn,), daemon=True).start()

    def _answer_quietly(self, conn):
        try:
            self._answer(conn)
        except (OSError, ValueError):
            pass  # a transfer the gateway aborted (its client left): nothing to answer

    def _answer(self, conn):
        with conn:
            conn.settimeout(60)
            reader = conn.makefile("rb")
            head = {}
            reader.readline()
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                head[name.strip().lower()] = value.strip()
            body = bytearray()
            if head.get("transfer-encoding") == "chunked":
                while (size := int(reader.readline().split(b";")[0], 16)) != 0:
                    body += self._slowly(reader, size)
                    reader.readline()
                reader.readline()
            else:
                body += self._slowly(reader, int(head.get("content-length", "0")))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + bytes(body))

    @staticmethod
    def _slowly(reader, size):
        taken = bytearray()
        while len(taken) < size:
            piece = reader.read(min(16 * 1024, size - len(taken)))
            if not piece:
                raise ConnectionError("body ended early")
            taken += piece
            time.sleep(0.002)
        return taken

    def stop(self):
        self.stopping.set()
        self.listener.close()


class EarlyAnswerUpstream:
    """An upstream that answers 413 as soon as it has a request head, without reading the body, and closes."""

    def __init__(self):
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                reader = conn.makefile("rb")
                while reader.readline() not in (b"\r\n", b""):
                    pass
                conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.listener.close()


@pytest.fixture(scope="module")
def early_upstream():
    early = EarlyAnswerUpstream()
    yield early
    early.stop()


@pytest.fixture(scope="module")
def slow_upstream():
    slow = SlowEchoUpstream()
    yield slow
    slow.stop()


@pytest.fixture(scope="module")
def gateway1(tmp_path_factory, upstream, slow_upstream, early_upstream):
    gw = OneWorkerGateway(
        tmp_path_factory.mktemp("engine"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        auth = "required"

        [[routes]]
        prefix = "/slow/"
        upstreams = ["{slow_upstream.url}"]
        auth = "none"

        [[routes]]
        prefix = "/early/"
        upstreams = ["{early_upstream.url}"]
        auth = "none"

        [[routes]]
        prefix = "/dead/"
        upstreams = ["http://127.0.0.1:{free_port()}"]
        auth = "none"
        """,
        server='max_body_bytes = "16MiB"\n',
    ).start()
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def tight_gateway(tmp_path_factory, upstream):
    """A gateway with small limits: max_body_bytes 1 MiB, lingering bounded at one second."""
    gw = OneWorkerGateway(
        tmp_path_factory.mktemp("engine-tight"),
        routes=f"""
        [[routes]]
        prefix = "/open/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """,
        server='max_body_bytes = "1MiB"\nlingering_time = "1s"\nlingering_timeout = "1s"\n',
    ).start()
    yield gw
    gw.stop()


def read_response(sock_file):
    """One HTTP/1.x response from a socket file: (status, {lower-case name: [values]}, body), de-chunked."""
    status_line = sock_file.readline()
    # An HTTP/1.0 client is answered in HTTP/1.0, as the NIO path answers it.
    assert status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), status_line
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = sock_file.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "content-length" in headers:
        body = sock_file.read(int(headers["content-length"][0]))
    elif headers.get("transfer-encoding") == ["chunked"]:
        body = b""
        while True:
            size = int(sock_file.readline().split(b";")[0], 16)
            if size == 0:
                assert sock_file.readline() == b"\r\n"
                break
            body += sock_file.read(size)
            assert sock_file.readline() == b"\r\n"
    else:
        body = b""
    return status, headers, body


def raw_get(port, path, token, extra=""):
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n{extra}\r\n"
    ).encode()


def test_valid_token_is_forwarded_with_the_identity_and_a_forged_one_removed(gateway1, upstream):
    openid = unique()
    headers = {**bearer(mint(openid)), "X-OpenId": "forged", "x_openid": "forged-too"}
    status, response_headers, body = gateway1.request("GET", "/api/who?page=1", headers)
    assert status == 200
    echo = json.loads(body)
    assert echo["target"] == "/api/who?page=1"
    assert [v for k, v in echo["headers"] if k.lower().replace("_", "-") == "x-openid"] == [openid]
    assert header_values(echo, "X-Forwarded-For") == ["127.0.0.1"]
    assert header_values(echo, "Authorization") == []
    request_ids = [v for k, v in response_headers if k.lower() == "x-request-id"]
    assert request_ids == header_values(echo, "X-Request-Id")


def test_request_without_token_is_refused_before_the_upstream(gateway1, upstream):
    marker = unique("no-token")
    status, headers, body = gateway1.request("GET", f"/api/{marker}")
    assert status == 401
    assert json.loads(body)["error"] == "unauthorized"
    assert any(k.lower() == "www-authenticate" for k, _ in headers)
    assert upstream.requests_to(marker) == []


def test_two_requests_on_one_kept_alive_connection(gateway1):
    token = mint(unique())
    conn = http.client.HTTPConnection("127.0.0.1", gateway1.port, timeout=10)
    try:
        for path in ("/api/first", "/api/second"):
            conn.request("GET", path, headers=bearer(token))
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["target"] == path
            assert response.getheader("Connection") != "close"
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(gateway1):
    token = mint(unique())
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as sock:
        sock.sendall(raw_get(gateway1.port, "/api/one", token) + raw_get(gateway1.port, "/api/two", token))
        sock_file = sock.makefile("rb")
        targets = []
        for _ in range(2):
            status, _, body = read_response(sock_file)
            assert status == 200
            targets.append(json.loads(body)["target"])
        assert targets == ["/api/one", "/api/two"]


def test_pipelined_refusal_and_forward_keep_their_order(gateway1):
    token = mint(unique())
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as sock:
        sock.sendall(
            raw_get(gateway1.port, "/api/a", token)
            + f"GET /api/b HTTP/1.1\r\nHost: 127.0.0.1:{gateway1.port}\r\n\r\n".encode()
            + raw_get(gateway1.port, "/api/c", token))
        sock_file = sock.makefile("rb")
        statuses = [read_response(sock_file)[0] for _ in range(3)]
        assert statuses == [200, 401, 200]


def test_chunked_upstream_answer_is_relayed_chunked(gateway1):
    token = mint(unique())
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as sock:
        sock.sendall(raw_get(gateway1.port, "/api/chunked", token) + raw_get(gateway1.port, "/api/after", token))
        sock_file = sock.makefile("rb")
        status, headers, body = read_response(sock_file)
        assert status == 200
        assert headers.get("transfer-encoding") == ["chunked"]
        assert "content-length" not in headers
        assert body == CHUNKED_BODY
        # The connection is still usable after the last chunk.
        status, _, body = read_response(sock_file)
        assert status == 200 and json.loads(body)["target"] == "/api/after"


def test_access_log_line_per_request(gateway1):
    openid = unique()
    marker = unique("logged")
    assert gateway1.request("GET", f"/api/{marker}", bearer(mint(openid)))[0] == 200

    def logged():
        return [line for line in gateway1.access_log() if line.get("path") == f"/api/{marker}"]

    from conftest import wait_for

    lines = wait_for(logged, what="the access-log line")
    assert len(lines) == 1
    assert lines[0]["status"] == 200 and lines[0]["openid"] == openid and lines[0]["route"] == "/api/"


# -- request bodies, streamed through libcurl's read callback -----------------------------------------


def raw_post(port, path, body: bytes, token=None, chunked=False, extra=""):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    if chunked:
        # A chunk extension and a trailer field: framing of this hop, gone upstream (libcurl frames its own).
        framed = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in (body[:7], body[7:]) if p)
        return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Transfer-Encoding: chunked\r\n{extra}\r\n"
                .encode() + framed + b"0\r\nX-Trailer: t\r\n\r\n")
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Length: {len(body)}\r\n{extra}\r\n"
            .encode() + body)


def test_post_with_content_length_goes_upstream_with_that_length(gateway1):
    body = b"hello \x00 world"
    status, _, raw = gateway1.request("POST", "/api/echo", bearer(mint(unique())), body=body)
    assert status == 200, raw[:300]
    echo = json.loads(raw)
    assert echo["method"] == "POST" and echo["body"] == body.decode("latin-1")
    assert header_values(echo, "Content-Length") == [str(len(body))]
    assert header_values(echo, "Transfer-Encoding") == []
    assert header_values(echo, "Expect") == []


def test_chunked_post_goes_upstream_chunked_without_the_clients_framing(gateway1):
    body = b"first piece, then the second"
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as sock:
        sock.sendall(raw_post(gateway1.port, "/api/chunked-echo", body, token=mint(unique()), chunked=True))
        status, _, raw = read_response(sock.makefile("rb"))
    assert status == 200, raw[:300]
    echo = json.loads(raw)
    assert echo["body"] == body.decode()
    assert header_values(echo, "Transfer-Encoding") == ["chunked"]
    assert header_values(echo, "Content-Length") == []
    assert header_values(echo, "X-Trailer") == []


def test_bodiless_post_goes_upstream_with_content_length_zero(gateway1):
    status, _, raw = gateway1.request("POST", "/api/empty", bearer(mint(unique())))
    assert status == 200
    assert header_values(json.loads(raw), "Content-Length") == ["0"]


def worker_report(gw):
    """The worker's SIGUSR1 counters (a line on standard error), as a dict of integers."""
    before = gw.stderr().count("engine: requests=")
    gw.process.send_signal(signal.SIGUSR1)
    # The signal may land on another thread than the worker's: a request wakes the worker's loop, which reports.
    gw.request("GET", "/nowhere")
    wait_for(lambda: gw.stderr().count("engine: requests=") > before, what="the worker's report")
    line = [line for line in gw.stderr().splitlines() if "engine: requests=" in line][-1]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_large_body_through_a_slow_upstream_is_echoed_exactly_and_never_held_whole(gateway1, chunked):
    total = 6 * (1 << 20) + 11
    body = hashlib.sha256(b"engine-body").digest() * (total // 32) + b"x" * (total % 32)
    conn = gateway1.connection(timeout=120)
    try:
        conn.putrequest("POST", "/slow/echo")
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for start in range(0, total, 100_000):
                piece = body[start:start + 100_000]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.putheader("Content-Length", str(total))
            conn.endheaders()
            conn.send(body)
        response = conn.getresponse()
        assert response.status == 200
        echoed = response.read()
    finally:
        conn.close()
    assert len(echoed) == total and echoed == body
    # Back-pressure: the client is not read while its connection's read buffer is full of body libcurl has not taken
    # (docs/performance.md, the engine's request bodies): never more than that buffer, far from the whole body.
    assert 0 < worker_report(gateway1)["body_waiting_max"] <= 64 * 1024


def test_expect_100_continue_is_answered_once_the_request_is_accepted(gateway1):
    body = b"e" * 5000
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(f"POST /api/continued HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {mint(unique())}\r\n"
                     f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 100 ")
        assert reader.readline() == b"\r\n"
        sock.sendall(body)
        status, _, raw = read_response(reader)
    assert status == 200
    echo = json.loads(raw)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert header_values(echo, "Expect") == []


def test_expect_100_continue_refused_is_answered_without_reading_the_body(gateway1, upstream):
    marker = unique("refused")
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(f"POST /api/{marker} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     "Content-Length: 5000\r\n\r\n".encode())
        reader = sock.makefile("rb")
        status, headers, raw = read_response(reader)
        # No 100 Continue: the final answer, then the end of the gateway's side (the body is never sent).
        assert status == 401 and json.loads(raw)["error"] == "unauthorized"
        assert headers.get("connection") == ["close"]
        assert reader.read() == b""
    assert upstream.requests_to(marker) == []


def test_content_length_over_max_body_bytes_is_413_before_the_upstream(tight_gateway, upstream):
    marker = unique("cl413")
    with socket.create_connection(("127.0.0.1", tight_gateway.port), timeout=30) as sock:
        sock.sendall(f"POST /open/{marker} HTTP/1.1\r\nHost: x\r\nContent-Length: {4 << 20}\r\n\r\n".encode())
        status, _, raw = read_response(sock.makefile("rb"))
    assert status == 413 and json.loads(raw)["error"] == "request_entity_too_large"
    assert upstream.requests_to(marker) == []


def send_while_reading(port, head: bytes, pieces):
    """Sends the head, then the body from a thread while the answer is read: an early answer is seen even though
    the gateway stops taking the body."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head)

    def sender():
        try:
            for piece in pieces:
                sock.sendall(piece)
        except OSError:
            pass

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        return read_response(sock.makefile("rb"))
    finally:
        sock.close()
        thread.join(timeout=30)


def test_chunked_body_growing_past_max_body_bytes_is_413(tight_gateway):
    piece = b"c" * (64 * 1024)
    framed = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for _ in range(64))
    head = b"POST /open/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, _, raw = send_while_reading(tight_gateway.port, head, framed)
    assert status == 413 and json.loads(raw)["error"] == "request_entity_too_large"


def test_body_exactly_at_max_body_bytes_is_taken(tight_gateway):
    status, _, raw = tight_gateway.request("POST", "/open/upload", body=b"m" * (1 << 20))
    assert status == 200 and json.loads(raw)["length"] == 1 << 20


def test_early_answer_reaches_a_client_that_writes_its_whole_body_first(tight_gateway):
    # The gateway lingers (reads and drops the body) rather than close under a client that writes before reading.
    total = 12 << 20
    with socket.create_connection(("127.0.0.1", tight_gateway.port), timeout=60) as sock:
        sock.sendall(f"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode()
                     + b"x" * total)
        status, _, raw = read_response(sock.makefile("rb"))
    assert status == 413


def test_lingering_ends_for_a_client_that_never_stops_sending(tight_gateway):
    with socket.create_connection(("127.0.0.1", tight_gateway.port), timeout=30) as sock:
        sock.sendall(b"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
        assert read_response(sock.makefile("rb"))[0] == 413
        deadline = time.monotonic() + 30  # far past lingering_time (1 s): only the test's own bound
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"z" * 4096)
            except OSError:
                closed = True
        assert closed, "the gateway kept reading a never-ending body"
    assert tight_gateway.request("GET", "/open/still-here")[0] == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_pipelined_post_then_get_are_answered_in_order(gateway1, chunked):
    token = mint(unique())
    body = b"posted body"
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as sock:
        sock.sendall(raw_post(gateway1.port, "/api/posted", body, token=token, chunked=chunked)
                     + raw_get(gateway1.port, "/api/after-post", token))
        reader = sock.makefile("rb")
        status, _, raw = read_response(reader)
        assert status == 200 and json.loads(raw)["body"] == body.decode()
        status, _, raw = read_response(reader)
        assert status == 200
        echo = json.loads(raw)
        assert echo["method"] == "GET" and echo["target"] == "/api/after-post" and echo["body_length"] == 0


def test_expect_100_continue_from_an_http_1_0_client_is_ignored(gateway1):
    # RFC 9110 section 10.1.1: an HTTP/1.0 client cannot read an interim answer; its one answer is the real one.
    body = b"e" * 3000
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(f"POST /api/old HTTP/1.0\r\nAuthorization: Bearer {mint(unique())}\r\nExpect: 100-continue\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        received = b""
        while piece := sock.recv(65536):
            received += piece
    assert received.startswith(b"HTTP/1.0 200 "), received[:200]
    assert json.loads(received.split(b"\r\n\r\n", 1)[1])["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_chunked_body_from_an_http_1_0_client_is_refused(gateway1, upstream):
    # RFC 9112 section 6.1: HTTP/1.0 has no chunked coding; faulty framing, answered 400 (EngineWorker.refusal).
    marker = unique("old-chunked")
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(f"POST /api/{marker} HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".encode())
        status, _, _ = read_response(sock.makefile("rb"))
    assert status == 400
    assert upstream.requests_to(marker) == []


def test_broken_chunk_framing_is_400_and_closed(gateway1):
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(raw_post(gateway1.port, "/slow/echo", b"", chunked=True).split(b"\r\n\r\n")[0]
                     + b"\r\n\r\nzz\r\nnot a chunk\r\n")
        reader = sock.makefile("rb")
        status, headers, _ = read_response(reader)
        assert status == 400 and headers.get("connection") == ["close"]
        assert reader.read() == b""


def test_body_for_an_unreachable_upstream_is_502_and_the_connection_kept(gateway1):
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(raw_post(gateway1.port, "/dead/x", b"some body") + raw_get(gateway1.port, "/dead/y", "t"))
        reader = sock.makefile("rb")
        assert read_response(reader)[0] == 502
        # The whole body had been read: the connection stays in step, and the next request is answered.
        assert read_response(reader)[0] == 502


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_dribbled_in_small_pieces_arrives_whole(gateway1, chunked):
    # Heads, chunk sizes and content cut anywhere across reads: the parser's pieces are joined in place.
    body = bytes(range(256)) * 8
    raw = raw_post(gateway1.port, "/api/dribble", body, token=mint(unique()), chunked=chunked)
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(raw), 7):
            sock.sendall(raw[start:start + 7])
        status, _, answer = read_response(sock.makefile("rb"))
    assert status == 200
    assert json.loads(answer)["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_client_leaving_mid_body_leaves_the_gateway_serving(gateway1):
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as sock:
        sock.sendall(b"POST /slow/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"p" * 30000)
    status, _, raw = gateway1.request("POST", "/slow/echo", body=b"after")
    assert status == 200 and raw == b"after"


@pytest.mark.parametrize("seed", [23, 5, 1999])
def test_pipelined_mix_of_bodies_cut_anywhere_is_answered_in_order(gateway1, seed):
    # Seeded: the same cuts every run. Bodies of both framings and bodiless requests, back to back on one connection,
    # written in pieces that fall across heads, chunk sizes and content; every answer must echo its own body.
    import random

    chooser = random.Random(int(os.environ.get("ENGINE_MIX_SEED", seed)))
    token = mint(unique())
    raw, expected = b"", []
    for index in range(24):
        kind = chooser.choice(["length", "chunked", "get"])
        if kind == "get":
            raw += raw_get(gateway1.port, f"/api/mix-{index}", token)
            expected.append((f"/api/mix-{index}", b""))
        else:
            body = bytes(chooser.randrange(256) for _ in range(chooser.randrange(1, 40_000)))
            raw += raw_post(gateway1.port, f"/api/mix-{index}", body, token=token, chunked=kind == "chunked")
            expected.append((f"/api/mix-{index}", body))
    answers = []

    def read_all(sock_file):
        for _ in expected:
            answers.append(read_response(sock_file))

    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=60) as sock:
        reader = threading.Thread(target=read_all, args=(sock.makefile("rb"),), daemon=True)
        reader.start()
        sent = 0
        while sent < len(raw):
            step = chooser.randrange(1, 30_000)
            sock.sendall(raw[sent:sent + step])
            sent += step
        reader.join(timeout=60)
    assert len(answers) == len(expected)
    for (target, body), (status, _, answer) in zip(expected, answers):
        echo = json.loads(answer)
        assert status == 200 and echo["target"] == target
        assert echo["body_length"] == len(body) and echo["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_the_worker_runs_on_a_thread_of_its_own(gateway1):
    # Not on one of Swift concurrency's cooperative threads (`com.apple.root.*`), which its epoll_wait would hold.
    names = [open(f"/proc/{gateway1.process.pid}/task/{task}/comm").read().strip()
             for task in os.listdir(f"/proc/{gateway1.process.pid}/task")]
    assert names.count("gw-engine") == 1, names


def test_upstream_answering_before_the_body_is_relayed_and_the_rest_of_the_body_drained(gateway1):
    # The upstream's early answer reaches the client; the body still coming is read and dropped (lingering), so a
    # client that writes all of it first is not reset, and the connection then ends.
    total = 8 << 20
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=60) as sock:
        sock.sendall(f"POST /early/x HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode())
        sent = []

        def sender():
            for _ in range(total // 65536):
                sock.sendall(b"b" * 65536)
            sent.append(True)

        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        reader = sock.makefile("rb")
        status, _, body = read_response(reader)
        assert status == 413 and body == b"nope"
        assert reader.read() == b""
        thread.join(timeout=60)
    assert sent == [True], "the client's body was not all taken"


def _listening_ports(pid: int) -> list[int]:
    """The TCP ports the process listens on (one entry per listening socket), from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_port_zero_is_one_port_for_every_worker_and_the_log_names_it(tmp_path, upstream):
    """`listen = "...:0"` asks the system for a port: every worker listens on that one port (as with a fixed port),
    and the start-up line says which, so a script can find it."""
    gw = Gateway(tmp_path, routes=f'[[routes]]\nprefix = "/"\nupstreams = ["{upstream.url}"]\nauth = "none"\n',
                 server="workers = 2\n")
    gw.config.write_text(gw.config.read_text().replace(f"127.0.0.1:{gw.port}", "127.0.0.1:0", 1))
    gw.extra_args = ["--log-level", "info"]
    gw.port = gw.admin_port  # started once the admin listener answers; the public port is read from the log
    gw.start()
    try:
        wait_for(lambda: "gateway listening" in gw.stderr(), timeout=20, what="the start-up line")
        port = int(re.search(r"listen=127\.0\.0\.1:(\d+)", gw.stderr()).group(1))
        assert port != 0
        public = [p for p in _listening_ports(gw.process.pid) if p != gw.admin_port]
        assert public == [port, port], f"each of the 2 workers listens on the logged port, got {public}"
        for _ in range(8):  # new connections, spread over the workers by the kernel
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/zero")
            assert conn.getresponse().status == 200
            conn.close()
    finally:
        gw.stop()

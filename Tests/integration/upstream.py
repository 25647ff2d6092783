"""A scriptable legacy upstream for the proxy tests, standard library only.

`Upstream()` starts a ThreadingHTTPServer (HTTP/1.1, keep-alive) on a free loopback port. The behaviour
is chosen by the last path segment, so it works whatever prefix the gateway keeps or strips:

    .../sse?gate=K        one server-sent event, then waits until the test calls `upstream.release(K)`
                          before the second one (proves streaming without timing)
    .../hang              never answers (until the upstream stops)
    .../truncated         headers with Content-Length: 1000, then 100 bytes, then the connection closes
    .../cookies           two Set-Cookie header fields
    .../badheader         200 with a header value holding a control character (a broken answer)
    .../badheader-204     the same field on a 204 (no body, so no framing for it to break)
    .../chunked           a Transfer-Encoding: chunked response of known content (CHUNKED_BODY)
    .../length-and-chunked  CHUNKED_BODY chunked, with a Content-Length: 5 that contradicts it
    .../two-lengths       Content-Length: 5 and Content-Length: 10, then 10 bytes
    .../listed-lengths    Content-Length: 5, 5 (one length as a list) and Content-Length: 5, then 5 bytes
    .../chunked-listed    CHUNKED_BODY chunked under Transfer-Encoding: chunked, (an empty list element)
    .../long-length       a Content-Length of 19 digits within 64 bits, 5 bytes, then the connection closes
    .../undated           a 200 without a Date field
    .../huge-length       a Content-Length too large for 64 bits, 5 bytes, then the connection closes
    .../huge-head         a 200 whose header block is over libcurl's 100 KiB limit
    .../unasked-switch    101 Switching Protocols although the request offered no Upgrade, then raw bytes
    .../upload            reads the request body in pieces; answers its length and sha256
    .../hop               a response carrying hop-by-hop header fields
    .../redirect          302 with a Location (must not be followed)
    .../legacy-cors       200 with the wide CORS fields of a legacy service (`*`, credentials, its own Vary)
    .../gzip              a gzip-encoded body with Content-Encoding: gzip (must not be decoded)
    .../status/NNN        that status; empty for 204/304, else the body "upstream said NNN"
    .../close-delimited   a body framed only by closing the connection (no length, not chunked)
    .../download?size=N   N deterministic bytes (download_piece()), written piece by piece
    anything else         JSON echo of method, raw request target, every header copy in order, body

Every request that reaches the upstream is recorded in `upstream.requests` (method, target, headers).
"""
import gzip
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port

CHUNKED_BODY = b"".join(f"chunk {i:03d};".encode() for i in range(50))
GZIP_PLAIN = b"compressed upstream body " * 40
TRUNCATED_LENGTH = 1000
TRUNCATED_SENT = 100
SSE_FIRST = b"id: 1\ndata: first\n\n"
SSE_SECOND = b"id: 2\ndata: second\n\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


class Upstream:
    def __init__(self, name: str = "upstream", port: int | None = None):
        self.name = name
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._gates: dict[str, threading.Event] = {}
        self.stopping = threading.Event()
        handler = type("BoundHandler", (_Handler,), {"upstream": self})
        # A port from free_port, not the kernel's pick: a port the kernel picks could be one
        # already written into a gateway's config that has not bound it yet.
        self.server = _Server(("127.0.0.1", port if port is not None else free_port()), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def gate(self, key: str) -> threading.Event:
        with self._lock:
            return self._gates.setdefault(key, threading.Event())

    def release(self, key: str) -> None:
        self.gate(key).set()

    def record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)

    def requests_to(self, fragment: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if fragment in r["target"]]

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            for event in self._gates.values():
                event.set()
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: Upstream  # set on the bound subclass

    def log_message(self, format, *args):  # noqa: A002 - quiet; pytest shows failures, not traffic
        pass

    # -- body reading -------------------------------------------------------------------------------

    def _body_pieces(self, piece_size=65536):
        """Yields the request body as it arrives, with Content-Length or chunked framing."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line:
                    raise ConnectionError("request body ended inside a chunk size")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return
                remaining = size
                while remaining:
                    piece = self.rfile.read(min(remaining, piece_size))
                    if not piece:
                        raise ConnectionError("request body ended inside a chunk")
                    remaining -= len(piece)
                    yield piece
                self.rfile.readline(16)  # CRLF after the chunk
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                piece = self.rfile.read(min(remaining, piece_size))
                if not piece:
                    raise ConnectionError("request body ended early")
                remaining -= len(piece)
                yield piece

    # -- answers --------------------------------------------------------------------------------------

    def _send(self, status, body=b"", headers=(), content_type="application/json"):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _head(self, headers, status=200):
        """A status line and `headers` exactly as given, for answers that frame their body themselves."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _dispatch(self):
        target = self.path
        path = target.split("?", 1)[0]
        query = target.split("?", 1)[1] if "?" in target else ""
        segments = path.split("/")
        last = segments[-1]
        header_list = [[name, value] for name, value in self.headers.items()]
        self.upstream.record({"method": self.command, "target": target, "headers": header_list})

        if last == "upload":
            digest = hashlib.sha256()
            length = 0
            for piece in self._body_pieces():
                digest.update(piece)
                length += len(piece)
            body = json.dumps({"length": length, "sha256": digest.hexdigest(), "upstream": self.upstream.name})
            return self._send(200, body.encode())

        body = b"".join(self._body_pieces())

        if last == "sse":
            gate = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("gate", "default")
            self._head([
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-cache"),
                ("Transfer-Encoding", "chunked"),
            ])
            self._write_chunk(SSE_FIRST)
            released = self.upstream.gate(gate).wait(timeout=60)
            if released and not self.upstream.stopping.is_set():
                self._write_chunk(SSE_SECOND)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        if last == "hang":
            self.upstream.stopping.wait(timeout=120)
            self.close_connection = True
            return
        if last == "truncated":
            self._head([("Content-Type", "application/octet-stream"), ("Content-Length", str(TRUNCATED_LENGTH))])
            self.wfile.write(b"x" * TRUNCATED_SENT)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if last == "badheader":
            return self._send(200, b"{}", headers=[("X-Broken", "a\x01b")])
        if last == "badheader-204":
            return self._head([("X-Broken", "a\rSet-Cookie: injected=1")], status=204)
        if last == "cookies":
            return self._send(200, b"{}", headers=[("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/; HttpOnly")])
        if last == "chunked":
            self._head([("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])
            if self.command == "HEAD":
                return
            for i in range(0, len(CHUNKED_BODY), 70):
                self._write_chunk(CHUNKED_BODY[i : i + 70])
            self.wfile.write(b"0\r\n\r\n")
            return
        if last == "two-lengths":
            # Two different lengths: libcurl takes the last, a lenient client the first.
            self._head([("Content-Type", "text/plain"), ("Content-Length", "5"), ("Content-Length", "10")])
            self.wfile.write(b"helloworld")
            return
        if last == "listed-lengths":
            # One length repeated, as a list and on another line (RFC 9110 section 8.6): libcurl reads 5.
            self._head([("Content-Type", "text/plain"), ("Content-Length", "5, 5"), ("Content-Length", "5")])
            self.wfile.write(b"hello")
            return
        if last == "chunked-listed":
            # An empty list element is no coding (RFC 9110 section 5.6.1): libcurl de-chunks as usual.
            self._head([("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked,")])
            self._write_chunk(CHUNKED_BODY)
            self.wfile.write(b"0\r\n\r\n")
            return
        if last == "long-length":
            # A length of 19 digits that fits in 64 bits: libcurl trusts it, as a client does.
            self._head([("Content-Type", "text/plain"), ("Content-Length", "1" + "0" * 18), ("Connection", "close")])
            self.wfile.write(b"hello")
            self.wfile.flush()
            self.close_connection = True
            return
        if last == "gzip-chunked":
            # A transfer coding besides chunked: libcurl removes only the chunking.
            self._head([("Content-Type", "text/plain"), ("Transfer-Encoding", "gzip, chunked")])
            self._write_chunk(gzip.compress(GZIP_PLAIN))
            self.wfile.write(b"0\r\n\r\n")
            return
        if last == "undated":
            # An upstream without a clock: no Date field (send_response would add one).
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nundated")
            return
        if last == "huge-length":
            # A length past 64 bits: libcurl ignores it and reads until close; a client would trust it.
            self._head([("Content-Type", "text/plain"), ("Content-Length", "9" * 23), ("Connection", "close")])
            self.wfile.write(b"hello")
            return
        if last == "huge-head":
            # A header block over libcurl's 100 KiB limit (CURL_MAX_HTTP_HEADER).
            self._head([("X-Big", "b" * 200_000), ("Content-Length", "2")])
            self.wfile.write(b"ok")
            return
        if last == "unasked-switch":
            # 101 Switching Protocols to a request that offered no Upgrade, then bytes of "the other protocol".
            self._head([("Upgrade", "websocket"), ("Connection", "Upgrade")], status=101)
            self.wfile.write(b"\x81\x05hello")
            self.close_connection = True
            return
        if last == "length-and-chunked":
            # Both framings: the chunked one wins (RFC 9112 section 6.3); the length is a lie.
            self._head([("Content-Type", "text/plain"), ("Content-Length", "5"), ("Transfer-Encoding", "chunked")])
            self._write_chunk(CHUNKED_BODY)
            self.wfile.write(b"0\r\n\r\n")
            return
        if last == "hop":
            return self._send(
                200,
                b"{}",
                headers=[
                    ("Connection", "X-Hop-Custom"),
                    ("X-Hop-Custom", "must-not-reach-the-client"),
                    ("Keep-Alive", "timeout=5"),
                    ("Proxy-Connection", "keep-alive"),
                    ("X-End-To-End", "kept"),
                ],
            )
        if last == "legacy-cors":
            return self._send(
                200,
                b"{}",
                headers=[
                    ("Access-Control-Allow-Origin", "*"),
                    ("access-control-allow-credentials", "true"),
                    ("Access-Control-Expose-Headers", "X-Legacy"),
                    ("Access-Control-Max-Age", "86400"),
                    ("Vary", "Accept-Encoding"),
                    ("X-Legacy", "kept"),
                ],
            )
        if last == "redirect":
            return self._send(302, b"", headers=[("Location", "/elsewhere")], content_type=None)
        if last == "gzip":
            return self._send(200, gzip.compress(GZIP_PLAIN), headers=[("Content-Encoding", "gzip")],
                              content_type="text/plain")
        if len(segments) >= 2 and segments[-2] == "status" and last.isdigit():
            status = int(last)
            if status in (204, 304):
                self.send_response(status)
                if status == 304:
                    self.send_header("ETag", '"v1"')
                self.end_headers()
                return
            return self._send(status, f"upstream said {status}".encode(), content_type="text/plain")
        if last == "close-delimited":
            self._head([("Content-Type", "text/plain"), ("Connection", "close")])
            self.wfile.write(CHUNKED_BODY)
            self.wfile.flush()
            self.close_connection = True
            return
        if last == "download":
            size = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("size", "0"))
            self._head([("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
            piece = download_piece()
            sent = 0
            while sent < size:
                part = piece[: min(len(piece), size - sent)]
                self.wfile.write(part)
                sent += len(part)
            return

        echo = {
            "upstream": self.upstream.name,
            "method": self.command,
            "target": target,
            "headers": header_list,
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body": body.decode("latin-1") if len(body) <= 4096 else None,
        }
        return self._send(200, json.dumps(echo).encode(), headers=[("X-Upstream", self.upstream.name)])

    def _write_chunk(self, data: bytes):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def handle_one_request(self):
        # Like the base class, but every method goes to one dispatcher.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._dispatch()
            self.wfile.flush()
        except (ConnectionError, TimeoutError, ValueError):
            self.close_connection = True


def download_piece() -> bytes:
    """The repeating unit of `.../download` bodies (256 KiB)."""
    return hashlib.sha256(b"upstream-download").digest() * 8192


def header_values(echo: dict, name: str) -> list[str]:
    """Every value the upstream received for `name`, exact spelling of the name, case-insensitive."""
    return [value for key, value in echo["headers"] if key.lower() == name.lower()]


def header_names(echo: dict) -> list[str]:
    return [key for key, _ in echo["headers"]]


def https_upstream(name: str, cert_path, key_path) -> Upstream:
    """The same scriptable upstream behind TLS (Python's ssl), at `https://127.0.0.1:port`."""
    import ssl

    upstream = Upstream(name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    # Handshakes run in the per-connection thread (not in accept), so one bad client cannot stall the rest.
    upstream.server.socket = context.wrap_socket(upstream.server.socket, server_side=True, do_handshake_on_connect=False)
    upstream.url = f"https://127.0.0.1:{upstream.port}"
    return upstream

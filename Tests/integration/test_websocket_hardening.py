"""Issue 22, the WebSocket upgrade: only a real WebSocket handshake is asked of the upstream (item 1) and only a real
one opens a tunnel (item 2); one user cannot take every tunnel, and the bytes all tunnels hold together are bounded
(item 3).

Same processes and helpers as test_websocket.py: the gateway binary, ws_upstream.py (whose raw modes answer 101s no
WebSocket library would send) and raw-socket clients. Timeouts are hang guards only; memory is judged by the
gateway's RSS once the flooding upstream has been held still.
"""
import http.server
import json
import os
import socket
import subprocess
import threading
import time

from conftest import wait_for
from gateway_process import reload_and_wait, unique
from test_websocket import (  # noqa: F401 (fixtures)
    HANG, MiB, RawTunnel, client_frame, fresh_gateway, gateway, header, read_body, read_head, rss_kib,
    tunnel_line, upgrade_answer, upgrade_request, ws_gateway, ws_upstream)
from tokens import mint

RAW_GREETING = b"raw bytes from behind the gateway\n"  # what ws_upstream.py's raw modes write after their 101


def raw_upgrade(gw, target, lines, token=None):
    """Sends an upgrade whose handshake fields are exactly `lines`: (status, headers, rest, socket)."""
    token = token or mint(unique())
    request = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{gw.port}", f"Authorization: Bearer {token}", *lines]
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=HANG)
    sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
    status, headers, rest = read_head(sock)
    return status, headers, rest, sock


def read_text_frame(sock, pending: bytes) -> str:
    """One unmasked text frame (the upstream's), of up to 64 KiB."""
    while len(pending) < 4:
        pending += sock.recv(65536)
    assert pending[0] & 0x0F == 0x1, f"not a text frame: {pending[:2]!r}"
    length, start = pending[1] & 0x7F, 2
    if length == 126:
        length, start = int.from_bytes(pending[2:4], "big"), 4
    while len(pending) < start + length:
        pending += sock.recv(65536)
    return pending[start:start + length].decode()


# -- item 1: only `websocket` is asked of the upstream -------------------------------------------------------

VERSION = "Sec-WebSocket-Version: 13"
KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
SWITCH = ["Connection: Upgrade", "Upgrade: websocket"]


def test_an_upgrade_without_a_version_13_key_is_400_before_any_upstream_connection(gateway, ws_upstream):
    before = ws_upstream.contacts()
    for lines in (
        SWITCH + [KEY],  # no version
        SWITCH + ["Sec-WebSocket-Version: 8", KEY],
        SWITCH + [VERSION],  # no key
        SWITCH + [VERSION, "Sec-WebSocket-Key: c2hvcnQ="],  # 5 bytes
        SWITCH + [VERSION, "Sec-WebSocket-Key: not base64 at all, 24ch"],
        SWITCH + [VERSION, KEY, KEY],
    ):
        status, headers, rest, sock = raw_upgrade(gateway, "/ws/echo", lines)
        with sock:
            body, _ = read_body(sock, headers, rest)
        assert status == 400, (lines, status, body)
        assert json.loads(body)["error"] == "invalid_websocket_handshake", body
    assert ws_upstream.contacts() == before, "a refused handshake must never reach the upstream"


def test_the_upstream_is_asked_for_websocket_alone_and_never_sees_http2_settings(gateway):
    # An h2c switch offered beside websocket, with its settings (not listed in Connection, so only the rule that
    # HTTP2-Settings is connection-specific removes them).
    lines = ["Connection: Upgrade", "Upgrade: h2c, websocket", "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA", VERSION,
             KEY]
    status, headers, rest, sock = raw_upgrade(gateway, "/ws/headers", lines)
    with sock:
        assert status == 101, (status, headers, rest)
        seen = json.loads(read_text_frame(sock, rest))["headers"]
    upgrades = [value for name, value in seen if name.lower() == "upgrade"]
    assert upgrades == ["websocket"], seen
    assert not [name for name, _ in seen if name.lower() == "http2-settings"], seen


# -- item 2: only a real WebSocket handshake opens a tunnel --------------------------------------------------

def test_a_101_without_a_real_websocket_handshake_is_502_and_the_upstream_connection_closes(gateway, ws_upstream):
    # raw101: no Sec-WebSocket-Accept; h2c: another protocol; badaccept: the accept of another key;
    # noconnection: the right accept without Connection: upgrade. Each would be a raw socket behind the route.
    for mode in ("raw101", "h2c", "badaccept", "noconnection"):
        target = f"/ws/{mode}?tag={unique()}"
        status, headers, body, closed = upgrade_answer(gateway, target, [("Authorization",
                                                                          f"Bearer {mint(unique())}")],
                                                       wait_for_close=True)
        assert status == 502, (mode, status, headers, body)
        assert json.loads(body)["error"] == "bad_gateway", body
        assert RAW_GREETING not in body
        assert closed, f"{mode}: the client connection must close after the 502"

        def upstream_closed():
            entries = [e for e in ws_upstream.stats()["raw"] if e["target"] == target]
            return entries and all(e["closed"] for e in entries)

        wait_for(upstream_closed, timeout=HANG, what=f"{mode}: the gateway to close the upstream connection")


def test_an_upgrade_answer_with_a_field_split_by_a_bare_lf_is_502_whether_it_switches_or_refuses(gateway):
    # RFC 9110 section 5.5: a field value holds no CR, LF or NUL. Passed on, "X-Note: a<LF>Set-Cookie: ..." would be
    # two fields to the client, the second one of the upstream's making (response splitting).
    for mode in ("splitrefusal", "splitswitch"):
        status, headers, body, closed = upgrade_answer(
            gateway, f"/ws/{mode}?tag={unique()}", [("Authorization", f"Bearer {mint(unique())}")],
            wait_for_close=True)
        assert status == 502, (mode, status, headers, body)
        assert json.loads(body)["error"] == "bad_gateway", body
        assert not [value for name, value in headers if name.lower() in ("set-cookie", "x-note")], headers
        assert closed, f"{mode}: the client connection must close after the 502"


# -- item 3: per-user limit, the budget over all tunnels, held tunnels count as idle -------------------------

def test_one_user_over_max_tunnels_per_user_is_429_and_others_are_unaffected(fresh_gateway, ws_upstream):
    gw = fresh_gateway("max_tunnels_per_user = 2")
    alice = unique("alice")
    # Two tokens of the same openid (two logins) count together.
    first = RawTunnel(gw, "/ws/echo", mint(alice))
    second = RawTunnel(gw, "/ws2/echo", mint(alice))
    before = ws_upstream.contacts()
    status, headers, body, _ = upgrade_answer(gw, "/ws/echo", [("Authorization", f"Bearer {mint(alice)}")])
    assert status == 429, (status, body)
    assert json.loads(body)["error"] == "too_many_tunnels"
    assert header(headers, "Retry-After")
    assert ws_upstream.contacts() == before, "refused before any upstream connection"
    # Another user opens as many as allowed.
    others = [RawTunnel(gw, "/ws/echo", mint(unique("bob"))) for _ in range(2)]
    # A tunnel that ends gives its place back.
    first.close()
    wait_for(lambda: upgrade_answer(gw, "/ws/refuse", [("Authorization", f"Bearer {mint(alice)}")])[0] == 403,
             timeout=HANG, what="alice's closed tunnel to be counted out")
    for tunnel in [second, *others]:
        tunnel.close()


def test_max_tunnels_per_user_applies_on_reload(fresh_gateway, ws_upstream):
    gw = fresh_gateway("max_tunnels_per_user = 1")
    alice = unique("alice")
    held = RawTunnel(gw, "/ws/echo", mint(alice))
    assert upgrade_answer(gw, "/ws/echo", [("Authorization", f"Bearer {mint(alice)}")])[0] == 429
    gw.config.write_text(gw.config.read_text().replace("max_tunnels_per_user = 1", "max_tunnels_per_user = 2"))
    reload_and_wait(gw, "success")
    second = RawTunnel(gw, "/ws/echo", mint(alice))
    assert upgrade_answer(gw, "/ws/echo", [("Authorization", f"Bearer {mint(alice)}")])[0] == 429
    held.close()
    second.close()


def test_max_tunnels_over_max_connections_is_a_config_error_naming_both(gateway_bin, tmp_path):
    conf = tmp_path / "gateway.conf"
    conf.write_text(f"""
[server]
listen = "127.0.0.1:8080"
admin_listen = "127.0.0.1:9090"
max_connections = 100
[[wechat.apps]]
appid = "wx0000000000000001"
secret = "s"
[tokens]
secret = "{'k' * 40}"
[store]
url = "sqlite://{tmp_path}/g.db"
[websocket]
max_tunnels = 101
""")
    result = subprocess.run([gateway_bin, "check", "--config", str(conf)], capture_output=True, text=True,
                            timeout=HANG)
    assert result.returncode == 1, result
    line = next(line for line in result.stderr.splitlines() if "websocket.max_tunnels" in line)
    assert "server.max_connections" in line, result.stderr


def test_tunnels_whose_clients_never_read_hold_no_more_than_max_buffered_together(fresh_gateway, ws_upstream):
    # 100 tunnels, each allowed 1 MiB, flooded by the upstream; no client reads. Without a budget over all of them
    # the gateway would hold about 100 MiB; with max_buffered = 4 MiB it holds that, plus what came with each 101.
    count = 100
    gw = fresh_gateway('buffer = "1MiB"\nmax_buffered = "4MiB"\nmax_tunnels_per_user = 100')
    token = mint(unique())
    start = ws_upstream.stats()["flood_sent"]
    before = rss_kib(gw)
    tunnels = [RawTunnel(gw, f"/ws/flood?bytes={16 * MiB}", token) for _ in range(count)]
    history = []

    def upstream_held():
        history.append(ws_upstream.stats()["flood_sent"] - start)
        return len(history) > 4 and history[-1] > 0 and len(set(history[-5:])) == 1

    wait_for(upstream_held, timeout=120, interval=0.5, what="the flooding upstream to be held back")
    growth = rss_kib(gw) - before
    for tunnel in tunnels:
        tunnel.close()
    assert growth < 48 * 1024, f"the gateway's RSS grew by {growth} KiB for {count} tunnels nobody read"


class PeerPortUpstream:
    """A keep-alive HTTP/1.1 upstream answering each request with the source port of the connection it came on.
    Each engine worker has its own libcurl pool, so requests sent one after the other reuse their worker's one
    pooled connection: the port names the worker a client connection landed on."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = str(self.client_address[1]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def worker_of(sock, port) -> str:
    """Asks the peer-port upstream through `sock` (kept open): the name of the worker serving that connection."""
    sock.sendall(f"GET /who/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    status, headers, rest = read_head(sock)
    assert status == 200, (status, headers, rest)
    length = int(header(headers, "Content-Length"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return rest[:length].decode()


def upgrade_on(sock, port, target, token):
    """Turns the open connection `sock` into a tunnel to `target`."""
    sock.sendall(upgrade_request(port, target, [("Authorization", f"Bearer {token}")]))
    status, headers, rest = read_head(sock)
    assert status == 101, (status, headers, rest)
    return rest


def test_max_buffered_is_the_bytes_all_workers_tunnels_hold_together(tmp_path, ws_upstream):
    # Two workers. Tunnels on one of them, flooded by the upstream and never read, hold the whole budget; a tunnel on
    # the other worker, whose client reads everything, is then not read either until they let go (a budget per
    # worker would let the second worker's tunnel run, and the process hold twice max_buffered).
    who = PeerPortUpstream()
    who_route = f'\n[[routes]]\nprefix = "/who/"\nupstreams = ["{who.url}"]\nauth = "none"\n'
    gw = ws_gateway(tmp_path, ws_upstream, 'max_buffered = "64KiB"\nmax_tunnels_per_user = 100', "workers = 2\n",
                    who_route)
    token = mint(unique())
    by_worker: dict[str, list] = {}
    sockets = []
    try:
        # Connections one after the other until one worker has 8 and the other 1.
        while len(by_worker) < 2 or max(len(group) for group in by_worker.values()) < 8:
            assert len(sockets) < 200, {name: len(group) for name, group in by_worker.items()}
            sock = socket.create_connection(("127.0.0.1", gw.port), timeout=HANG)
            sockets.append(sock)
            by_worker.setdefault(worker_of(sock, gw.port), []).append(sock)
        assert len(by_worker) == 2, f"{len(by_worker)} workers answered: {list(by_worker)}"
        full, other = sorted(by_worker.values(), key=len, reverse=True)
        frame = client_frame(os.urandom(MiB))
        frames_sent = [0]

        def send_until_closed(sock):
            try:
                while True:
                    sock.sendall(frame)
                    frames_sent[0] += 1
            except OSError:
                pass

        sent_history = []

        def senders_held():
            sent_history.append(frames_sent[0])
            return len(sent_history) > 4 and len(set(sent_history[-5:])) == 1

        for sock in full[:8]:
            upgrade_on(sock, gw.port, "/ws/echo", token)
            sock.settimeout(None)
            threading.Thread(target=send_until_closed, args=(sock,), daemon=True).start()
        wait_for(senders_held, timeout=120, interval=0.5, what="the clients not reading their echoes to be held")

        flood = 64 * MiB
        reader = other[0]
        reader.settimeout(None)
        start = ws_upstream.stats()["flood_sent"]
        received = [len(upgrade_on(reader, gw.port, f"/ws/flood?bytes={flood}", token))]

        def read_all():
            try:
                while piece := reader.recv(MiB):
                    received[0] += len(piece)
            except OSError:
                pass

        history = []

        def upstream_held():
            history.append(ws_upstream.stats()["flood_sent"] - start)
            return len(history) > 4 and history[-1] > 0 and len(set(history[-5:])) == 1

        threading.Thread(target=read_all, daemon=True).start()
        wait_for(upstream_held, timeout=120, interval=0.5, what="the flood to be held back")
        assert received[0] < flood, "a tunnel on the other worker was read while the budget was spent"

        def drain(sock):
            try:
                while sock.recv(MiB):
                    pass
            except OSError:
                pass

        for sock in full[:8]:
            threading.Thread(target=drain, args=(sock,), daemon=True).start()
            sock.shutdown(socket.SHUT_WR)  # ends its sender, then its tunnel once what it sent is through
        wait_for(lambda: received[0] >= flood, timeout=120, interval=0.2,
                 what="the held tunnel to be read once the budget had room")
    finally:
        for sock in sockets:
            sock.close()
        gw.stop()
        who.stop()


def test_a_tunnel_held_longer_than_idle_timeout_is_closed_while_its_client_keeps_sending(fresh_gateway):
    # The client reads nothing of a flood but keeps sending: bytes move one way, the other is held for good.
    gw = fresh_gateway('idle_timeout = "1s"\nbuffer = "64KiB"')
    request_id = unique("ws-held")
    tunnel = RawTunnel(gw, f"/ws/flood?bytes={64 * MiB}", mint(unique()), headers=[("X-Request-Id", request_id)])
    frame = client_frame(b"still here")
    deadline = time.monotonic() + HANG
    try:
        while time.monotonic() < deadline and not [
                line for line in gw.access_log() if line.get("request_id") == request_id]:
            tunnel.sock.sendall(frame)
            time.sleep(0.2)
    except OSError:
        pass  # the gateway closed the connection
    tunnel.close()
    assert tunnel_line(gw, request_id)["error"] == "idle_timeout"

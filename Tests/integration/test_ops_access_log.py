"""The access log (issue 7): one JSON line per request on stdout with the documented fields, never a
token, secret or session key; login and refresh outcomes counted in /metrics; the log level from the
config and `--log-level`."""
import json

import pytest

from conftest import wait_for
from gateway_process import Gateway, bearer, metric, scrape
from tokens import SECRET
from wechat_simulator import APP_SECRET, AuthGateway, WeChatSimulator

UPSTREAM_NAME = "main"  # conftest.py's `upstream` fixture puts this name in its answers

FIELDS = {"time", "request_id", "client", "method", "path", "route", "status", "bytes_in", "bytes_out", "duration_ms"}


@pytest.fixture
def simulator():
    from tokens import APPID

    sim = WeChatSimulator({APPID: APP_SECRET}).start()
    yield sim
    sim.stop()


def access_lines(gateway, count):
    """Waits for `count` lines (the writer flushes in the background), each parsed as JSON."""
    def lines():
        text = gateway.stdout_path.read_text()
        return text if text.count("\n") >= count else None

    text = wait_for(lines, timeout=20, what=f"{count} access-log lines")
    return [json.loads(line) for line in text.splitlines()]


def test_every_request_gives_one_json_line_without_secrets(tmp_path, simulator, upstream):
    gw = AuthGateway(tmp_path, simulator, upstream_url=upstream.url).start()
    try:
        login = gw.login("openid:alice-log")
        session_key = simulator.session_key("alice-log")
        refreshed = gw.refresh(login["refresh_token"])[2]
        access = refreshed["access_token"]
        status, _, _ = gw.request(
            "GET", f"/api/echo?access_token={access}&code=query-secret", {**bearer(access), "X-Request-Id": "trace-1"})
        assert status == 200
        assert gw.request("GET", "/api/echo", bearer(access + "tampered"))[0] == 401
        gw.login("invalid-code", expect=400)

        lines = access_lines(gw, 5)
        samples = scrape(gw)
    finally:
        gw.stop()

    assert len(lines) == 5
    for line in lines:
        assert FIELDS <= line.keys(), line
    proxied = next(line for line in lines if line["request_id"] == "trace-1")
    assert proxied["route"] == "/api/" and proxied["status"] == 200 and proxied["openid"] == "alice-log"
    assert proxied["path"] == "/api/echo"  # no query string: it can carry codes and tokens
    assert proxied["upstream"] and proxied["upstream_ms"] >= 0
    assert [line["error"] for line in lines if line["status"] == 401] == ["invalid_token"]

    everything = gw.stdout_path.read_text() + gw.stderr()
    for secret in (login["access_token"], login["refresh_token"], access, refreshed["refresh_token"],
                   session_key, SECRET, APP_SECRET, "query-secret", "invalid-code"):
        assert secret not in everything

    assert metric(samples, "gateway_logins_total", outcome="success") == 1
    assert metric(samples, "gateway_logins_total", outcome="rejected") == 1
    assert metric(samples, "gateway_refreshes_total", outcome="success") == 1


def started_with_level(workdir, routes, extra_args=()):
    """A gateway whose config says `[log] level = "warning"`, started and stopped; its stderr."""
    workdir.mkdir()
    gw = Gateway(workdir, routes=routes)
    gw.config.write_text(gw.config.read_text().replace("[wechat]", '[log]\nlevel = "warning"\n\n[wechat]'))
    gw.extra_args = list(extra_args)
    gw.start()
    gw.stop()
    return gw.stderr()


def test_log_level_comes_from_the_config_and_the_command_line_overrides_it(tmp_path, upstream):
    routes = f'[[routes]]\nprefix = "/"\nupstreams = ["{upstream.url}"]\nauth = "none"\n'
    assert "gateway listening" not in started_with_level(tmp_path / "quiet", routes)
    assert "gateway listening" in started_with_level(tmp_path / "loud", routes, ["--log-level", "info"])


def test_clients_that_close_are_logged_by_what_they_received(tmp_path, upstream):
    """Closed before any answer: 499. Closed halfway through a download: the upstream's status with error
    client_closed. Closed right after reading a whole answer (before the gateway heard the upstream transfer end):
    a complete request, with its upstream time."""
    import socket

    gw = Gateway(tmp_path, routes=f"""
        [[routes]]
        prefix = "/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """).start()
    try:
        with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as sock:
            sock.sendall(b"GET /early/hang HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_for(lambda: upstream.requests_to("/early/hang"), what="the request to reach the upstream")
        with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as sock:
            sock.sendall(b"GET /midway/download?size=200000000 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        for i in range(20):
            with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as sock:
                sock.sendall(f"GET /whole/{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                response = http_response(sock)
                assert response.status == 200
                response.read()

        def logged():
            lines = [line for line in gw.access_log() if "path" in line]
            by_kind = {kind: [line for line in lines if line["path"].startswith(f"/{kind}/")]
                       for kind in ("early", "midway", "whole")}
            done = len(by_kind["early"]) == 1 and len(by_kind["midway"]) == 1 and len(by_kind["whole"]) == 20
            return by_kind if done else None

        logs = wait_for(logged, what="the access-log lines")
        early, midway = logs["early"][0], logs["midway"][0]
        assert early["status"] == 499 and early["error"] == "client_closed", early
        assert midway["status"] == 200 and midway["error"] == "client_closed" and "upstream_ms" in midway, midway
        for line in logs["whole"]:
            assert line["status"] == 200 and "error" not in line and "upstream_ms" in line, line
    finally:
        gw.stop()


def http_response(sock):
    import http.client

    response = http.client.HTTPResponse(sock)
    response.begin()
    return response


def test_a_control_request_whose_client_leaves_before_the_answer_is_logged_once(tmp_path):
    """Issue 15 item 7: the client disconnects while /auth/login waits on WeChat. The request still gets its
    one access-log line (499 client_closed), as a proxied request in the same spot does."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from conftest import free_port
    from tokens import APPID

    release = threading.Event()
    asked = threading.Event()

    class SlowWeChat(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.set()
            release.wait(timeout=20)
            body = b'{"errcode": -1, "errmsg": "system busy"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    wechat = ThreadingHTTPServer(("127.0.0.1", free_port()), SlowWeChat)
    threading.Thread(target=wechat.serve_forever, daemon=True).start()
    gw = AuthGateway(tmp_path, api_base=f"http://127.0.0.1:{wechat.server_address[1]}",
                     apps={APPID: APP_SECRET}).start()
    try:
        body = b'{"code": "openid:leaver"}'
        with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as client:
            client.sendall(b"POST /auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
                           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            # The request is with the endpoint when WeChat has been asked.
            wait_for(asked.is_set, timeout=10, what="the gateway to call WeChat")
        release.set()
        # A request after it proves the log has caught up.
        assert gw.request("GET", "/nowhere")[0] == 404
        lines = access_lines(gw, 2)
        logins = [line for line in lines if line["path"] == "/auth/login"]
        assert len(logins) == 1, lines
        assert logins[0]["status"] == 499 and logins[0]["error"] == "client_closed"
    finally:
        release.set()
        gw.stop()
        wechat.shutdown()


"""`gateway engine-probe`, issue 23's measuring slice of the engine (one epoll worker, llhttp, libcurl's
socket_action): the behaviour it must keep to be worth measuring, against the real binary and an echo upstream.
"""
import http.client
import json
import socket
import subprocess

import pytest

from conftest import GATEWAY_BIN, wait_until_listening
from gateway_process import Gateway, bearer, unique
from tokens import mint
from upstream import CHUNKED_BODY, header_values


class EngineProbe(Gateway):
    """The same config as the gateway tests, run by `engine-probe` (no admin listener: only the public port)."""

    def start(self):
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [GATEWAY_BIN, "engine-probe", "--config", str(self.config)], stdout=out, stderr=err)
        wait_until_listening(self.process, self.port, "engine-probe", details=self.stderr, stop=self.stop)
        return self


@pytest.fixture(scope="module")
def probe(tmp_path_factory, upstream):
    gw = EngineProbe(
        tmp_path_factory.mktemp("engine-probe"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        auth = "required"
        """,
    ).start()
    yield gw
    gw.stop()


def read_response(sock_file):
    """One HTTP/1.1 response from a socket file: (status, {lower-case name: [values]}, body), de-chunked."""
    status_line = sock_file.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
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


def test_valid_token_is_forwarded_with_the_identity_and_a_forged_one_removed(probe, upstream):
    openid = unique()
    headers = {**bearer(mint(openid)), "X-OpenId": "forged", "x_openid": "forged-too"}
    status, response_headers, body = probe.request("GET", "/api/who?page=1", headers)
    assert status == 200
    echo = json.loads(body)
    assert echo["target"] == "/api/who?page=1"
    assert [v for k, v in echo["headers"] if k.lower().replace("_", "-") == "x-openid"] == [openid]
    assert header_values(echo, "X-Forwarded-For") == ["127.0.0.1"]
    assert header_values(echo, "Authorization") == []
    request_ids = [v for k, v in response_headers if k.lower() == "x-request-id"]
    assert request_ids == header_values(echo, "X-Request-Id")


def test_request_without_token_is_refused_before_the_upstream(probe, upstream):
    marker = unique("no-token")
    status, headers, body = probe.request("GET", f"/api/{marker}")
    assert status == 401
    assert json.loads(body)["error"] == "unauthorized"
    assert any(k.lower() == "www-authenticate" for k, _ in headers)
    assert upstream.requests_to(marker) == []


def test_two_requests_on_one_kept_alive_connection(probe):
    token = mint(unique())
    conn = http.client.HTTPConnection("127.0.0.1", probe.port, timeout=10)
    try:
        for path in ("/api/first", "/api/second"):
            conn.request("GET", path, headers=bearer(token))
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["target"] == path
            assert response.getheader("Connection") != "close"
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(probe):
    token = mint(unique())
    with socket.create_connection(("127.0.0.1", probe.port), timeout=10) as sock:
        sock.sendall(raw_get(probe.port, "/api/one", token) + raw_get(probe.port, "/api/two", token))
        sock_file = sock.makefile("rb")
        targets = []
        for _ in range(2):
            status, _, body = read_response(sock_file)
            assert status == 200
            targets.append(json.loads(body)["target"])
        assert targets == ["/api/one", "/api/two"]


def test_pipelined_refusal_and_forward_keep_their_order(probe):
    token = mint(unique())
    with socket.create_connection(("127.0.0.1", probe.port), timeout=10) as sock:
        sock.sendall(
            raw_get(probe.port, "/api/a", token)
            + f"GET /api/b HTTP/1.1\r\nHost: 127.0.0.1:{probe.port}\r\n\r\n".encode()
            + raw_get(probe.port, "/api/c", token))
        sock_file = sock.makefile("rb")
        statuses = [read_response(sock_file)[0] for _ in range(3)]
        assert statuses == [200, 401, 200]


def test_chunked_upstream_answer_is_relayed_chunked(probe):
    token = mint(unique())
    with socket.create_connection(("127.0.0.1", probe.port), timeout=10) as sock:
        sock.sendall(raw_get(probe.port, "/api/chunked", token) + raw_get(probe.port, "/api/after", token))
        sock_file = sock.makefile("rb")
        status, headers, body = read_response(sock_file)
        assert status == 200
        assert headers.get("transfer-encoding") == ["chunked"]
        assert "content-length" not in headers
        assert body == CHUNKED_BODY
        # The connection is still usable after the last chunk.
        status, _, body = read_response(sock_file)
        assert status == 200 and json.loads(body)["target"] == "/api/after"


def test_access_log_line_per_request(probe):
    openid = unique()
    marker = unique("logged")
    assert probe.request("GET", f"/api/{marker}", bearer(mint(openid)))[0] == 200

    def logged():
        return [line for line in probe.access_log() if line.get("path") == f"/api/{marker}"]

    from conftest import wait_for

    lines = wait_for(logged, what="the access-log line")
    assert len(lines) == 1
    assert lines[0]["status"] == 200 and lines[0]["openid"] == openid and lines[0]["route"] == "/api/"

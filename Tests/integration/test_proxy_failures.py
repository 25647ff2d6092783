"""Proxied requests when upstreams fail, several upstreams, and many clients at once.

docs/configuration.md, "Forwarding" (round-robin, passive ejection, one retry of idempotent requests), and
README.md, "HTTP endpoints of the gateway" (failures: 502 refused, 504 too slow, an upstream dropping mid-body ends the client's response
abruptly; gateway errors are JSON with `error` and the request id).
"""
import http.client
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port, wait_for
from gateway_process import Gateway, bearer, headers_named, send_raw_expecting_close, unique
from tokens import mint
from upstream import TRUNCATED_LENGTH, TRUNCATED_SENT, Upstream, header_values


@pytest.fixture(scope="module")
def upstreams():
    first, second = Upstream("first"), Upstream("second")
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture(scope="module")
def dead_url():
    # a port nobody listens on: connections are refused
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstreams, dead_url):
    first, second = upstreams
    gw = Gateway(
        tmp_path_factory.mktemp("proxy-failures"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{first.url}"]
        auth = "required"

        [[routes]]
        prefix = "/refused/"
        upstreams = ["{dead_url}"]
        auth = "none"
        connect_timeout = "1s"

        [[routes]]
        prefix = "/slow/"
        upstreams = ["{first.url}"]
        auth = "none"
        timeout = "1s"

        [[routes]]
        prefix = "/slowstream/"
        upstreams = ["{first.url}"]
        auth = "none"
        timeout = "1s"

        [[routes]]
        prefix = "/open/"
        upstreams = ["{first.url}"]
        auth = "none"

        [[routes]]
        prefix = "/rr/"
        upstreams = ["{first.url}", "{second.url}"]
        auth = "none"

        [[routes]]
        prefix = "/eject/"
        upstreams = ["{first.url}", "{dead_url}"]
        auth = "none"
        """,
    ).start()
    yield gw
    gw.stop()


def assert_gateway_error(status, headers, body, expected_status):
    assert status == expected_status, body[:300]
    assert headers_named(headers, "Content-Type")[0].startswith("application/json")
    answer = json.loads(body)
    assert answer["error"]
    assert answer["request_id"]
    assert headers_named(headers, "X-Request-Id") == [answer["request_id"]]


def test_refused_upstream_is_502_json(gateway):
    status, headers, body = gateway.request("GET", "/refused/x")
    assert_gateway_error(status, headers, body, 502)


def test_refused_upstream_is_502_for_a_post_with_body(gateway):
    status, headers, body = gateway.request("POST", "/refused/x", body=b'{"a":1}')
    assert_gateway_error(status, headers, body, 502)


def test_upstream_slower_than_the_route_timeout_is_504_json(gateway):
    status, headers, body = gateway.request("GET", "/slow/hang", timeout=60)
    assert_gateway_error(status, headers, body, 504)


def test_upstream_slower_than_the_timeout_is_504_for_a_post_too(gateway):
    status, headers, body = gateway.request("POST", "/slow/hang", body=b"payload", timeout=60)
    assert_gateway_error(status, headers, body, 504)


def test_stream_outliving_the_route_timeout_ends_abruptly_not_silently(gateway, upstreams):
    first, _ = upstreams
    gate = unique("never-released")
    conn = gateway.connection(timeout=60)
    try:
        conn.request("GET", f"/slowstream/sse?gate={gate}")
        response = conn.getresponse()
        if response.status == 504:
            return  # the timeout struck before the head was relayed: an honest gateway error
        assert response.status == 200
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            response.read()  # a clean end of the chunked body would pretend the stream completed
    finally:
        first.release(gate)
        conn.close()


def test_upstream_closing_mid_body_ends_the_client_response_abruptly(gateway):
    conn = gateway.connection(timeout=60)
    try:
        conn.request("GET", "/open/truncated")
        response = conn.getresponse()
        # the head may already be on its way (streaming), so the status can be 200; the body must not complete
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            response.read()
    finally:
        conn.close()


def test_truncated_response_is_never_a_fake_success_of_the_announced_length(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=60) as sock:
        sock.sendall(b"GET /open/truncated HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        assert not body.endswith(b"0\r\n\r\n"), "a chunked answer must not end with the last-chunk marker"
    elif b"content-length" in head.lower():
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
        assert len(body) < length
    else:
        assert head.startswith(b"HTTP/1.1 5"), "without framing, only a gateway error is honest"
    assert b"x" * TRUNCATED_SENT in body or head.startswith(b"HTTP/1.1 5")


def test_gateway_still_serves_after_upstream_failures(gateway):
    assert gateway.healthy("/open/after-failures")


def test_round_robin_over_two_upstreams(gateway):
    names = [gateway.get_json(f"/rr/echo/{i}")[2]["upstream"] for i in range(10)]
    assert names.count("first") == 5 and names.count("second") == 5, names
    assert all(a != b for a, b in zip(names, names[1:])), names


def test_dead_upstream_is_ejected_and_gets_retried_for_idempotent_requests(gateway):
    for i in range(20):
        status, _, echo = gateway.get_json(f"/eject/echo/{i}")
        assert status == 200, i
        assert echo["upstream"] == "first"


def test_300_concurrent_requests_each_carry_their_own_openid(gateway, upstreams):
    openids = [f"concurrent-{i:03d}-{unique()}" for i in range(300)]

    def call(openid):
        status, _, raw = gateway.request("GET", f"/api/whoami/{openid}", bearer(mint(openid)), timeout=120)
        return openid, status, raw

    with ThreadPoolExecutor(max_workers=300) as pool:
        results = list(pool.map(call, openids))
    for openid, status, raw in results:
        assert status == 200, (openid, status, raw[:200])
        echo = json.loads(raw)
        assert echo["target"] == f"/api/whoami/{openid}"
        assert header_values(echo, "X-OpenId") == [openid]


@pytest.mark.parametrize("raw", [b"NOT A REQUEST\r\n\r\n", b"GET /api/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                                 b"GET /api/x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                                 b"POST /open/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"])
def test_malformed_request_is_400_and_closed(gateway, raw):
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed, "the gateway must close the connection after a malformed request"


def test_bad_chunk_in_a_proxied_upload_is_one_400_logged_once_as_that_request(gateway):
    path = "/open/" + unique("bad-chunk")
    unattributed_before = sum(1 for e in _settled_access_log(gateway) if e["path"] == "-")
    raw = (f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
           + b"5\r\nhello\r\nZZ\r\n")
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed
    entries = wait_for(lambda: [e for e in gateway.access_log() if e["path"] == path], what="the request's log line")
    assert len(entries) == 1, entries
    assert entries[0]["status"] == 400 and entries[0]["error"] == "bad_request", entries[0]
    # No second, unattributed line for the same bytes.
    assert sum(1 for e in _settled_access_log(gateway) if e["path"] == "-") == unattributed_before


def test_bad_chunk_in_a_control_request_is_one_400_logged_once(gateway):
    before = _settled_access_log(gateway)
    raw = (b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nZZ\r\n")
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed
    after = _settled_access_log(gateway)
    new = [e for e in after[len(before):] if e["path"] in ("/auth/login", "-")]
    assert len(new) == 1, new
    assert new[0]["path"] == "/auth/login" and new[0]["status"] == 400, new[0]


def _settled_access_log(gateway):
    """The access log once every line recorded so far is written: lines are written in the order they are
    recorded, so once a fresh request's line is there, so is everything before it."""
    marker = "/open/" + unique("log-marker")
    assert gateway.healthy(marker)
    wait_for(lambda: any(e["path"] == marker for e in gateway.access_log()), what="the marker's log line")
    return gateway.access_log()


def test_client_abandoning_an_upload_midway_leaves_the_gateway_serving(gateway):
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
            sock.sendall(b"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 5000)
    assert gateway.healthy("/open/after-abandoned-upload")


def test_client_leaving_an_event_stream_leaves_the_gateway_serving(gateway, upstreams):
    first, _ = upstreams
    gate = unique("sse-abandon")
    conn = gateway.connection(timeout=30)
    conn.request("GET", f"/open/sse?gate={gate}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read1(4096)
    conn.close()
    try:
        assert gateway.healthy("/open/after-abandoned-stream")
    finally:
        first.release(gate)


def test_gateway_survives_everything_above(gateway):
    assert gateway.process.poll() is None
    assert gateway.healthy("/api/final", bearer(mint(unique())))


def test_upstream_header_with_a_control_character_is_a_502_not_relayed(gateway):
    # RFC 9110 section 5.5: such a value could split a header on the way to the client.
    status, headers, body = gateway.request("GET", "/open/badheader")
    assert status == 502
    assert json.loads(body)["error"] == "bad_gateway"
    assert not [v for k, v in headers if k.lower() == "x-broken"]
    # The gateway keeps serving.
    assert gateway.request("GET", "/open/echo")[0] == 200


def test_upstream_header_with_a_bare_cr_is_a_502_on_a_bodyless_answer_too(gateway):
    # A 204 has no framing to break, but its fields still reach the client: a bare CR in one could end the line
    # there for a lenient client, and what follows would be a field of the upstream's choosing (response splitting).
    status, headers, body = gateway.request("GET", "/open/badheader-204")
    assert status == 502
    assert json.loads(body)["error"] == "bad_gateway"
    assert not [v for k, v in headers if k.lower() in ("x-broken", "set-cookie")]

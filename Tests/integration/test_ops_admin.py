"""The admin listener (docs/architecture.md, "Beside the serving path"; issue 7): /healthz, /readyz, /metrics on `admin_listen`
only, and what a scrape says after some traffic."""
import http.client
import socket
import time

import pytest

from conftest import wait_for
from gateway_process import Gateway, bearer, metric, parse_prometheus_text, scrape, unique
from tokens import mint
from upstream import SSE_FIRST

UPSTREAM_NAME = "main"  # conftest.py's `upstream` fixture puts this name in its answers


def start_gateway(tmp_path_factory, upstream):
    return Gateway(
        tmp_path_factory.mktemp("ops-admin"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        auth = "required"

        [[routes]]
        prefix = "/open/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """,
    ).start()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstream):
    gw = start_gateway(tmp_path_factory, upstream)
    yield gw
    gw.stop()


@pytest.fixture
def quiet_gateway(tmp_path_factory, upstream):
    """A gateway of its own: no earlier test's request can still be on its way to the counters."""
    gw = start_gateway(tmp_path_factory, upstream)
    yield gw
    gw.stop()


def test_healthz_answers_up(gateway):
    status, body = gateway.admin("GET", "/healthz")
    assert (status, body) == (200, b'{"status":"up"}')


def test_readyz_answers_ready_when_config_and_store_are_there(gateway):
    status, body = gateway.admin("GET", "/readyz")
    assert (status, body) == (200, b'{"status":"ready"}')


def test_admin_answers_head_without_body_and_refuses_other_methods(gateway):
    assert gateway.admin("HEAD", "/healthz") == (200, b"")
    status, _ = gateway.admin("POST", "/metrics")
    assert status == 405
    status, _ = gateway.admin("GET", "/nothing-here")
    assert status == 404


def test_admin_endpoints_are_not_served_on_the_public_listener(gateway):
    for target in ("/healthz", "/readyz", "/metrics"):
        status, _, body = gateway.request("GET", target)
        assert status == 404, target
        assert b"gateway_" not in body


def test_metrics_content_type_is_the_prometheus_text_format(gateway):
    conn = http.client.HTTPConnection("127.0.0.1", gateway.admin_port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        response.read()
        assert response.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    finally:
        conn.close()


def test_scrape_after_traffic_counts_requests_by_route_method_and_status(quiet_gateway):
    gateway = quiet_gateway
    before = scrape(gateway)
    token = mint(unique())
    for _ in range(3):
        assert gateway.request("GET", "/api/echo", bearer(token))[0] == 200
    assert gateway.request("POST", "/open/status/503", body=b"x")[0] == 503
    assert gateway.request("GET", "/nowhere")[0] == 404
    # The HTTP parser refuses an unknown method; the refusal is still counted, under bounded labels.
    assert gateway.request("BREW", "/open/echo")[0] == 400

    expected = {
        ("gateway_requests_total", (("route", "/api/"), ("method", "GET"), ("status", "200"))): 3,
        ("gateway_requests_total", (("route", "/open/"), ("method", "POST"), ("status", "503"))): 1,
        ("gateway_requests_total", (("route", "none"), ("method", "GET"), ("status", "404"))): 1,
        # Odd methods share one label value: a client cannot mint new series.
        ("gateway_requests_total", (("route", "none"), ("method", "other"), ("status", "400"))): 1,
        ("gateway_request_duration_seconds_count", (("route", "/api/"),)): 3,
        ("gateway_upstream_duration_seconds_count", (("route", "/api/"),)): 3,
        ("gateway_request_body_bytes_total", (("route", "/open/"),)): 1,
    }

    def deltas():
        after = scrape(gateway)
        return {key: metric(after, key[0], **dict(key[1])) - metric(before, key[0], **dict(key[1])) for key in expected}

    # A request is logged and counted when its upstream transfer ends, which can be a moment after the
    # client has read the last byte of a Content-Length body: wait for the counts, do not race them.
    from conftest import wait_for

    try:
        wait_for(lambda: deltas() == expected, timeout=10, what="the request counters")
    except AssertionError:
        assert deltas() == expected


def test_token_verification_failures_are_counted_by_reason(gateway):
    before = scrape(gateway)
    now = int(time.time())
    cases = {
        "missing": {},
        "expired": bearer(mint(unique(), iat=now - 7200, exp=now - 3600)),
        "bad_signature": bearer(mint(unique(), secret="another-secret-0123456789abcdef-xyz")),
        "wrong_issuer": bearer(mint(unique(), iss="someone-else")),
        "malformed": bearer("not-a-jwt"),
    }
    for reason, headers in cases.items():
        assert gateway.request("GET", "/api/echo", headers)[0] == 401, reason

    after = scrape(gateway)
    for reason in cases:
        assert (metric(after, "gateway_token_verification_failures_total", reason=reason)
                - metric(before, "gateway_token_verification_failures_total", reason=reason)) == 1, reason


def test_open_connections_gauge_counts_client_connections(gateway):
    conns = [gateway.connection() for _ in range(3)]
    try:
        for conn in conns:
            conn.request("GET", "/open/echo", headers={"Host": "x"})
            conn.getresponse().read()
        assert metric(scrape(gateway), "gateway_open_client_connections") >= 3
    finally:
        for conn in conns:
            conn.close()


def test_scrape_parses_and_announces_every_family(gateway):
    status, body = gateway.admin("GET", "/metrics")
    samples = parse_prometheus_text(body.decode())
    names = {name for name, _ in samples}
    for family in (
        "gateway_requests_total",
        "gateway_request_duration_seconds_bucket",
        "gateway_upstream_duration_seconds_bucket",
        "gateway_open_client_connections",
        "gateway_upstream_transfers_in_flight",
        "gateway_config_last_reload_successful",
    ):
        assert family in names, family


def test_upstream_transfers_in_flight_counts_a_running_stream(gateway, upstream):
    stream = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    try:
        stream.sendall(b"GET /open/sse?gate=gauge HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while SSE_FIRST not in received:
            piece = stream.recv(65536)
            assert piece, received
            received += piece
        wait_for(lambda: metric(scrape(gateway), "gateway_upstream_transfers_in_flight") >= 1, timeout=20,
                 what="the stream's transfer to be counted")
        upstream.release("gauge")
        while not received.endswith(b"0\r\n\r\n"):
            piece = stream.recv(65536)
            assert piece, received
            received += piece
        wait_for(lambda: metric(scrape(gateway), "gateway_upstream_transfers_in_flight") == 0, timeout=20,
                 what="the ended transfer to leave the gauge")
    finally:
        stream.close()

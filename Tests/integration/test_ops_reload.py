"""SIGHUP reload (issue 7): a valid gateway.conf replaces the running snapshot without dropping a
connection; a broken one is logged with every error and the running one stays. Outcomes are counted."""
import json

import pytest

from gateway_process import Gateway, metric, reload_and_wait, replace_routes, scrape
from upstream import Upstream


@pytest.fixture
def upstreams():
    first, second = Upstream("first"), Upstream("second")
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def gateway(tmp_path, upstreams):
    first, _ = upstreams
    gw = Gateway(tmp_path, routes=ONE_ROUTE.format(url=first.url)).start()
    yield gw
    gw.stop()


ONE_ROUTE = """
[[routes]]
prefix = "/one/"
upstreams = ["{url}"]
auth = "none"
"""


def echo_on(conn, target):
    conn.request("GET", target, headers={"Host": "reload.test"})
    response = conn.getresponse()
    body = response.read()
    return response.status, (json.loads(body) if response.status == 200 else body)


def test_reload_adds_a_route_without_dropping_a_keep_alive_connection(gateway, upstreams):
    first, second = upstreams
    conn = gateway.connection()
    try:
        assert echo_on(conn, "/two/echo")[0] == 404
        sock = conn.sock

        replace_routes(gateway, ONE_ROUTE.format(url=first.url) + ONE_ROUTE.replace("/one/", "/two/").format(url=second.url))
        reload_and_wait(gateway, "success")

        status, echo = echo_on(conn, "/two/echo")
        assert status == 200 and echo["upstream"] == "second"
        assert conn.sock is sock, "the client connection was replaced"
        assert echo_on(conn, "/one/echo")[1]["upstream"] == "first"
    finally:
        conn.close()
    assert metric(scrape(gateway), "gateway_config_last_reload_successful") == 1


def test_reload_that_changes_an_upstream_sends_new_requests_there(gateway, upstreams):
    first, second = upstreams
    assert gateway.get_json("/one/echo", {"Host": "x"})[2]["upstream"] == "first"

    replace_routes(gateway, ONE_ROUTE.format(url=second.url))
    reload_and_wait(gateway, "success")

    assert gateway.get_json("/one/echo", {"Host": "x"})[2]["upstream"] == "second"


def test_in_flight_stream_finishes_on_the_snapshot_it_started_with(gateway, upstreams):
    first, second = upstreams
    conn = gateway.connection()
    try:
        conn.request("GET", "/one/sse?gate=reload", headers={"Host": "x"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.read1(65536).startswith(b"id: 1")

        replace_routes(gateway, ONE_ROUTE.replace("/one/", "/moved/").format(url=second.url))
        reload_and_wait(gateway, "success")
        assert gateway.request("GET", "/one/echo", {"Host": "x"})[0] == 404

        first.release("reload")
        assert b"id: 2" in response.read()
    finally:
        conn.close()


def test_broken_reload_is_logged_with_every_error_and_keeps_the_running_config(gateway, upstreams):
    first, _ = upstreams
    replace_routes(
        gateway,
        """
        [[routes]]
        prefix = "no-leading-slash"
        upstreams = ["ftp://nowhere"]
        auth = "sometimes"
        """,
    )
    reload_and_wait(gateway, "failure")

    stderr = gateway.stderr()
    assert "configuration rejected" in stderr
    for key in ("routes[0].prefix", "routes[0].upstreams[0]", "routes[0].auth"):
        assert key in stderr, key
    assert gateway.get_json("/one/echo", {"Host": "x"})[2]["upstream"] == "first"
    samples = scrape(gateway)
    assert metric(samples, "gateway_config_reloads_total", outcome="failure") == 1
    assert metric(samples, "gateway_config_last_reload_successful") == 0


def test_reload_warns_about_settings_that_need_a_restart(gateway, upstreams):
    first, _ = upstreams
    replace_routes(gateway, ONE_ROUTE.format(url=first.url), server="workers = 3\n")
    reload_and_wait(gateway, "success")
    assert "server.workers takes effect only after a restart" in gateway.stderr()

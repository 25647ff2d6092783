"""Tracing (issue 25 item 1): W3C Trace Context in and out, spans exported over OTLP/HTTP to a real receiver
(otlp_receiver.py, decoding with opentelemetry-proto), trace ids in the access log with export off, and the
dropped-span count when the collector is down. Real gateway binary, real upstream (upstream.py records the
headers it received) and the WeChat simulator."""
import os
import re

import pytest

from conftest import free_port, wait_for
from gateway_process import bearer, metric, scrape
from otlp_receiver import OtlpReceiver, tree
from wechat_simulator import AuthGateway

UPSTREAM_NAME = "traced"

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_PARENT = "00f067aa0ba902b7"
TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$")


@pytest.fixture
def receiver():
    server = OtlpReceiver()
    yield server
    server.stop()


def traced_gateway(tmp_path, simulator, upstream, tracing: str | None):
    """An AuthGateway with an /api/ route to `upstream` and the given [tracing] section (None: no section).
    Batches leave every 100 ms instead of 5 s (swift-otel reads OTEL_BSP_SCHEDULE_DELAY)."""
    gw = AuthGateway(tmp_path, simulator, upstream_url=upstream.url)
    if tracing is not None:
        text = gw.config.read_text()
        gw.config.write_text(text.replace("[rate_limit]", f"[tracing]\n{tracing}\n\n[rate_limit]", 1))
    gw.env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    return gw.start()


def upstream_trace_headers(upstream, marker):
    """The traceparent and tracestate lines the upstream received on the request whose target holds `marker`."""
    entry = wait_for(lambda: next((r for r in upstream.requests if marker in r["target"]), None),
                     what=f"the upstream to receive {marker}")
    traceparents = [v for k, v in entry["headers"] if k.lower() == "traceparent"]
    tracestates = [v for k, v in entry["headers"] if k.lower() == "tracestate"]
    return traceparents, tracestates


def access_line(gw, marker):
    import json

    def find():
        for line in gw.stdout_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("request_id") == marker:
                return entry
        return None

    return wait_for(find, what=f"the access-log line of {marker}")


def span_named(spans, name, trace_id=None):
    return next((s for s in spans if s["name"] == name and (trace_id is None or s["trace_id"] == trace_id)), None)


def test_a_clients_trace_is_continued_and_the_upstream_joins_it_under_the_gateways_span(
        tmp_path, simulator, upstream, receiver):
    gw = traced_gateway(tmp_path, simulator, upstream, f'endpoint = "{receiver.endpoint}"\nservice_name = "edge-gw"')
    try:
        token = gw.login("openid:trace-alice")["access_token"]
        status, _, _ = gw.request("GET", "/api/echo?m=continued", {
            **bearer(token), "X-Request-Id": "continued",
            "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01", "tracestate": "vendor=opaque,other=1"})
        assert status == 200
        traceparents, tracestates = upstream_trace_headers(upstream, "m=continued")
        span = receiver.wait_for(lambda spans: span_named(spans, "GET /api/", CLIENT_TRACE),
                                 what="the proxied request's span")
        line = access_line(gw, "continued")
    finally:
        gw.stop()

    # One traceparent upstream (the client's replaced, not repeated): same trace, the gateway's span as parent.
    assert len(traceparents) == 1, traceparents
    trace_id, parent_id, = TRACEPARENT_RE.match(traceparents[0]).groups()
    assert trace_id == CLIENT_TRACE
    assert parent_id == span["span_id"] != CLIENT_PARENT
    assert traceparents[0].endswith("-01"), "the caller's sampled flag is followed"
    assert tracestates == ["vendor=opaque,other=1"], "tracestate passes unchanged"
    # The gateway's span is the client's span's child, with the HTTP server conventions.
    assert span["parent_span_id"] == CLIENT_PARENT
    assert span["kind"] == "server" and span["service"] == "edge-gw"
    attributes = span["attributes"]
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.route"] == "/api/"
    assert attributes["http.response.status_code"] == 200
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == upstream.port
    assert "enduser.id" not in attributes, "the openid is personal data: only with include_openid"
    assert line["trace_id"] == CLIENT_TRACE
    print(tree(receiver.snapshot(), CLIENT_TRACE, upstream_parent=parent_id))


def test_a_malformed_traceparent_is_ignored_and_a_new_trace_started(tmp_path, simulator, upstream, receiver):
    gw = traced_gateway(tmp_path, simulator, upstream, f'endpoint = "{receiver.endpoint}"')
    try:
        token = gw.login("openid:trace-bob")["access_token"]
        bad = f"00-{CLIENT_TRACE.upper()}-{CLIENT_PARENT}-01"  # uppercase hex is invalid
        status, _, _ = gw.request("GET", "/api/echo?m=malformed", {
            **bearer(token), "X-Request-Id": "malformed", "traceparent": bad, "tracestate": "vendor=dropped"})
        assert status == 200, "never a 400 for a bad traceparent"
        traceparents, tracestates = upstream_trace_headers(upstream, "m=malformed")
        line = access_line(gw, "malformed")
        span = receiver.wait_for(lambda spans: span_named(spans, "GET /api/", line["trace_id"]),
                                 what="the new trace's span")
    finally:
        gw.stop()

    assert len(traceparents) == 1 and traceparents[0] != bad
    trace_id, parent_id = TRACEPARENT_RE.match(traceparents[0]).groups()
    assert trace_id == line["trace_id"] != CLIENT_TRACE.lower()
    assert parent_id == span["span_id"]
    assert span["parent_span_id"] == "", "a new trace: the span is a root"
    assert tracestates == [], "tracestate is not passed on without a valid traceparent"


def test_the_login_span_has_the_wechat_call_and_the_store_operation_as_children(
        tmp_path, simulator, upstream, receiver):
    gw = traced_gateway(tmp_path, simulator, upstream, f'endpoint = "{receiver.endpoint}"')
    try:
        status, _, body = gw.post_json("/auth/login", {"code": "openid:trace-carol"},
                                       {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"})
        assert status == 200, body

        def family(spans):
            login = span_named(spans, "POST /auth/login", CLIENT_TRACE)
            if login is None:
                return None
            children = [s for s in spans if s["parent_span_id"] == login["span_id"]]
            wechat = [s for s in children if s["name"].startswith("wechat ")]
            store = [s for s in children if s["name"] == "store createSession"]
            return (login, wechat, store) if wechat and store else None

        login, wechat, store = receiver.wait_for(family, what="the login span and its children")
    finally:
        gw.stop()

    assert login["parent_span_id"] == CLIENT_PARENT
    assert login["attributes"]["http.response.status_code"] == 200
    assert "jscode2session" in wechat[0]["name"] and wechat[0]["kind"] == "client"
    assert wechat[0]["trace_id"] == store[0]["trace_id"] == CLIENT_TRACE
    assert store[0]["attributes"]["db.operation.name"] == "createSession"
    # Children lie within their parent.
    for child in wechat + store:
        assert login["start"] <= child["start"] and child["end"] <= login["end"]
    print(tree(receiver.snapshot(), CLIENT_TRACE))


def test_with_export_off_the_access_log_and_the_upstream_still_carry_the_trace(tmp_path, simulator, upstream):
    gw = traced_gateway(tmp_path, simulator, upstream, None)
    try:
        token = gw.login("openid:trace-dave")["access_token"]
        assert gw.request("GET", "/api/echo?m=off-continued", {
            **bearer(token), "X-Request-Id": "off-continued",
            "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"})[0] == 200
        assert gw.request("GET", "/api/echo?m=off-new", {**bearer(token), "X-Request-Id": "off-new"})[0] == 200
        continued, _ = upstream_trace_headers(upstream, "m=off-continued")
        new, _ = upstream_trace_headers(upstream, "m=off-new")
        continued_line = access_line(gw, "off-continued")
        new_line = access_line(gw, "off-new")
    finally:
        gw.stop()

    assert continued_line["trace_id"] == CLIENT_TRACE
    trace_id, parent_id = TRACEPARENT_RE.match(continued[0]).groups()
    assert (trace_id, len(continued)) == (CLIENT_TRACE, 1)
    assert parent_id != CLIENT_PARENT, "the gateway's own span id"
    assert continued[0].endswith("-01"), "the caller's flag is passed on"
    new_trace, _ = TRACEPARENT_RE.match(new[0]).groups()
    assert new_line["trace_id"] == new_trace != CLIENT_TRACE, "the log line finds the upstream's trace"


def test_enduser_id_is_the_openid_only_with_include_openid(tmp_path, simulator, upstream, receiver):
    ids = {}
    for include in (False, True):
        workdir = tmp_path / f"include-{include}"
        workdir.mkdir()
        gw = traced_gateway(workdir, simulator, upstream,
                            f'endpoint = "{receiver.endpoint}"\ninclude_openid = {str(include).lower()}')
        try:
            token = gw.login(f"openid:trace-erin-{include}")["access_token"]
            assert gw.request("GET", "/api/echo", {**bearer(token), "X-Request-Id": f"who-{include}"})[0] == 200
            ids[include] = access_line(gw, f"who-{include}")["trace_id"]
            receiver.wait_for(lambda spans: span_named(spans, "GET /api/", ids[include]), what="the span")
        finally:
            gw.stop()
    spans = receiver.snapshot()
    assert "enduser.id" not in span_named(spans, "GET /api/", ids[False])["attributes"]
    assert span_named(spans, "GET /api/", ids[True])["attributes"]["enduser.id"] == "trace-erin-True"


def test_sample_ratio_zero_exports_no_new_trace_but_follows_a_sampled_parent(
        tmp_path, simulator, upstream, receiver):
    gw = traced_gateway(tmp_path, simulator, upstream, f'endpoint = "{receiver.endpoint}"\nsample_ratio = 0')
    try:
        token = gw.login("openid:trace-frank")["access_token"]
        assert gw.request("GET", "/api/echo?m=unsampled", {**bearer(token), "X-Request-Id": "unsampled"})[0] == 200
        unsampled, _ = upstream_trace_headers(upstream, "m=unsampled")
        unsampled_trace = access_line(gw, "unsampled")["trace_id"]
        # A caller that sampled its span is followed whatever the ratio; its span arriving shows that everything
        # ended before it has been through the exporter too.
        assert gw.request("GET", "/api/echo?m=sampled", {
            **bearer(token), "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"})[0] == 200
        receiver.wait_for(lambda spans: span_named(spans, "GET /api/", CLIENT_TRACE), what="the sampled span")
    finally:
        gw.stop()

    assert unsampled[0].endswith("-00"), "the upstream is told the trace is not sampled"
    spans = receiver.snapshot()
    assert [s for s in spans if s["trace_id"] == unsampled_trace] == []
    assert [s["name"] for s in spans if s["name"].startswith("POST /auth/login")] == [], "the login was not sampled"


def test_an_unsampled_parent_is_followed_even_when_every_new_trace_is_sampled(
        tmp_path, simulator, upstream, receiver):
    gw = traced_gateway(tmp_path, simulator, upstream, f'endpoint = "{receiver.endpoint}"\nsample_ratio = 1')
    unsampled_trace = "0af7651916cd43dd8448eb211c80319c"
    try:
        token = gw.login("openid:trace-henry")["access_token"]
        assert gw.request("GET", "/api/echo?m=parent-unsampled", {
            **bearer(token), "traceparent": f"00-{unsampled_trace}-b7ad6b7169203331-00"})[0] == 200
        forwarded, _ = upstream_trace_headers(upstream, "m=parent-unsampled")
        assert gw.request("GET", "/api/echo?m=root", {**bearer(token), "X-Request-Id": "root"})[0] == 200
        root_trace = access_line(gw, "root")["trace_id"]
        receiver.wait_for(lambda spans: span_named(spans, "GET /api/", root_trace), what="the new trace's span")
    finally:
        gw.stop()

    trace_id, _ = TRACEPARENT_RE.match(forwarded[0]).groups()
    assert trace_id == unsampled_trace and forwarded[0].endswith("-00")
    assert [s for s in receiver.snapshot() if s["trace_id"] == unsampled_trace] == []


def test_spans_the_collector_cannot_take_are_dropped_and_counted_and_requests_still_succeed(
        tmp_path, simulator, upstream):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    gw = traced_gateway(tmp_path, simulator, upstream, f'endpoint = "{nowhere}"')
    try:
        assert metric(scrape(gw), "gateway_trace_spans_dropped_total") == 0
        token = gw.login("openid:trace-grace")["access_token"]
        for index in range(5):
            assert gw.request("GET", f"/api/echo?n={index}", bearer(token))[0] == 200
        dropped = wait_for(lambda: metric(scrape(gw), "gateway_trace_spans_dropped_total") >= 6 and
                           metric(scrape(gw), "gateway_trace_spans_dropped_total"),
                           timeout=60, what="the dropped spans to be counted")
        assert gw.request("GET", "/api/echo?after=1", bearer(token))[0] == 200
    finally:
        gw.stop()
    # The login, its WeChat call and store operation, and five proxied requests.
    assert dropped >= 6


def test_a_websocket_tunnel_is_one_span_from_upgrade_to_close(tmp_path, simulator, upstream, receiver):
    import asyncio

    from test_websocket import HANG, WsUpstream, open_ws

    ws_upstream = WsUpstream(tmp_path)
    gw = AuthGateway(tmp_path, simulator)
    text = gw.config.read_text().replace(
        "[rate_limit]", f'[tracing]\nendpoint = "{receiver.endpoint}"\n\n[rate_limit]', 1)
    gw.config.write_text(text + f"""
[[routes]]
prefix = "/ws/"
upstreams = ["{ws_upstream.url}"]
auth = "required"
websocket = true
""")
    gw.env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    gw.start()
    try:
        token = gw.login("openid:trace-tunnel")["access_token"]

        async def scenario():
            async with open_ws(gw, "/ws/echo", token,
                               headers=[("traceparent", f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01")]) as ws:
                await ws.send("through the tunnel")
                assert await asyncio.wait_for(ws.recv(), HANG) == "through the tunnel"

        asyncio.run(asyncio.wait_for(scenario(), HANG))
        span = receiver.wait_for(lambda spans: span_named(spans, "GET websocket /ws/", CLIENT_TRACE),
                                 what="the tunnel's span")
    finally:
        gw.stop()
        ws_upstream.stop()

    assert span["parent_span_id"] == CLIENT_PARENT and span["kind"] == "server"
    assert span["attributes"]["http.response.status_code"] == 101
    assert span["attributes"]["http.route"] == "/ws/"
    assert span["attributes"]["server.port"] == ws_upstream.port

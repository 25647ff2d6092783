"""Revocations in a fleet on PostgreSQL, read as an attacker and as an outage would (issue 22, items 9 and 4).

A notification is a wake-up, not a fact: anyone who can connect to the database can `NOTIFY` the gateways'
channel with any payload, and that must revoke nothing. And an instance cut off from the store for longer
than `access_ttl + leeway` must still close, once it is back, the tunnels of every session revoked meanwhile.

Real processes only: two gateway binaries on one real PostgreSQL, `psql` for the forged notifications, a
small TCP relay between one instance and PostgreSQL that the test cuts and restores, and a WebSocket upstream.
"""
import asyncio
import base64
import json
import select
import socket
import threading
import time

import pytest

from conftest import wait_for
from gateway_process import bearer, parse_prometheus_text, unique
from test_websocket import HANG, WsUpstream, assert_echoes, auth_gateway, open_ws, run, watch_close
from wechat_simulator import AuthGateway

UPSTREAM_NAME = "legacy"  # conftest.py's `upstream` fixture puts this name in its answers

# The other instance hears a revocation within a second; the polls allow that plus a loaded machine.
ONE_SECOND = 1.5


@pytest.fixture(scope="module")
def ws_upstream(tmp_path_factory):
    up = WsUpstream(tmp_path_factory.mktemp("ws-upstream"))
    yield up
    up.stop()


def api(gw, token):
    return gw.request("GET", "/api/whoami", bearer(token))[0]


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def database(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


# -- a forged notification -------------------------------------------------------------------------------------

def test_a_forged_notify_revokes_nothing_on_any_instance(tmp_path, simulator, upstream, postgres):
    url = postgres.create_database()
    fleet = [AuthGateway(tmp_path, simulator, upstream_url=upstream.url, name=f"gw{i}", store_url=url,
                         store_settings='timeout = "2s"') for i in range(2)]
    try:
        a, b = (member.start() for member in fleet)
        victim = a.login(f"openid:{unique('victim')}")
        for gw in (a, b):
            assert api(gw, victim["access_token"]) == 200
        token = claims(victim["access_token"])
        expiry = (int(time.time()) + 3600) * 1000
        # What any role that can connect may send (PostgreSQL checks no privilege on NOTIFY): the token's own
        # jti, its session's revocation key, and the previous release's "reload everything".
        for payload in (f"{expiry} {token['jti']}", f"{expiry} sid:{token['sid']}", "*"):
            postgres.psql(f"NOTIFY gateway_revocations, '{payload}'", database(url))
        # A real logout after the forgeries: once B refuses it, B has handled every notification before it.
        marker = a.login(f"openid:{unique('marker')}")
        assert api(b, marker["access_token"]) == 200
        assert a.request("POST", "/auth/logout", bearer(marker["access_token"]))[0] == 204
        wait_for(lambda: api(b, marker["access_token"]) == 401, timeout=ONE_SECOND, interval=0.02,
                 what="B to refuse the real logout")
        for gw in (a, b):
            assert api(gw, victim["access_token"]) == 200, "a forged notification revoked a token"
    finally:
        for member in fleet:
            member.stop()


def feed_reads(gw) -> float:
    status, body = gw.admin("GET", "/metrics")
    assert status == 200, body
    samples = parse_prometheus_text(body.decode())
    assert ("gateway_revocation_feed_reads_total", frozenset()) in samples, "no revocation feed metric"
    return samples[("gateway_revocation_feed_reads_total", frozenset())]


def test_a_burst_of_notifications_costs_a_few_reads_not_one_each(tmp_path, simulator, upstream, postgres):
    url = postgres.create_database()
    fleet = [AuthGateway(tmp_path, simulator, upstream_url=upstream.url, name=f"gw{i}", store_url=url,
                         store_settings='timeout = "2s"') for i in range(2)]
    try:
        a, b = (member.start() for member in fleet)
        before = feed_reads(b)
        burst = 2000
        # Distinct payloads in one transaction, all delivered at its commit (equal ones would be folded).
        postgres.psql(f"SELECT count(pg_notify('gateway_revocations', 'wake ' || g)) "
                      f"FROM generate_series(1, {burst}) AS g", database(url))
        marker = a.login(f"openid:{unique('burst')}")
        assert a.request("POST", "/auth/logout", bearer(marker["access_token"]))[0] == 204
        wait_for(lambda: api(b, marker["access_token"]) == 401, timeout=ONE_SECOND * 4, interval=0.02,
                 what="B to refuse the logout made after the burst")
        reads = feed_reads(b) - before
        assert 1 <= reads < burst / 20, f"{burst} notifications cost {reads} reads"
    finally:
        for member in fleet:
            member.stop()


# -- an instance cut off from the store -----------------------------------------------------------------------

class Relay:
    """A TCP relay on a free loopback port to `target_port`. `cut()` drops every connection and refuses new ones
    (closed at once) until `restore()`: to the gateway behind it, the database is gone."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = True
        self.sockets: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.open:
                    client.close()
                    continue
                try:
                    server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                except OSError:
                    client.close()
                    continue
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client, server):
        pair = [client, server]
        try:
            while True:
                readable, _, _ = select.select(pair, [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (server if sock is client else client).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in pair:
                sock.close()

    def cut(self):
        with self.lock:
            self.open = False
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []

    def restore(self):
        with self.lock:
            self.open = True

    def stop(self):
        self.stopped = True
        self.cut()
        self.listener.close()


SHORT_TOKENS = ('access_ttl = "15m"', 'access_ttl = "2s"'), ('leeway = "30s"', 'leeway = "1s"')


def test_an_instance_back_from_a_long_outage_closes_the_tunnels_of_sessions_revoked_meanwhile(
        tmp_path, simulator, ws_upstream, postgres):
    url = postgres.create_database()
    relay = Relay(postgres.port)
    cut_off_url = url.replace(f":{postgres.port}/", f":{relay.port}/")
    a = auth_gateway(tmp_path, simulator, ws_upstream, name="cut-off", store_url=cut_off_url,
                     store_settings='timeout = "2s"')
    b = auth_gateway(tmp_path, simulator, ws_upstream, name="connected", store_url=url,
                     store_settings='timeout = "2s"')
    for gw in (a, b):
        text = gw.config.read_text()
        for old, new in SHORT_TOKENS:
            assert old in text
            text = text.replace(old, new)
        gw.config.write_text(text)
    try:
        a.start()
        b.start()

        async def scenario():
            # Each tunnel opened right after its login: the access tokens live two seconds.
            doomed = await asyncio.to_thread(a.login, f"openid:{unique('ws-away')}")
            ws = await open_ws(a, "/ws/echo", doomed["access_token"])
            kept = await asyncio.to_thread(a.login, f"openid:{unique('ws-kept')}")
            other = await open_ws(a, "/ws/echo", kept["access_token"])
            await assert_echoes(ws, "before the outage")
            relay.cut()
            # The session ends on B while A cannot hear of it.
            status, _, _ = await asyncio.to_thread(b.post_form, "/auth/revoke", {"token": doomed["refresh_token"]})
            assert status == 200
            # Past access_ttl + leeway (3 s) and a margin: every access token of the session has expired, and so
            # has the session's revocation entry; only the tunnel, opened before, is still there.
            await asyncio.sleep(5)
            await assert_echoes(ws, "during the outage: A does not know yet")
            watcher = asyncio.create_task(watch_close(ws))
            relay.restore()
            await asyncio.wait_for(watcher, HANG)
            await assert_echoes(other, "another session's tunnel stays open")
            await other.close()

        run(scenario())
    finally:
        a.stop()
        b.stop()
        relay.stop()

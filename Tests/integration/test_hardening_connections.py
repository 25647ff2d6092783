"""Issue 15, item 9: slow clients cannot starve normal ones, and `[server] max_connections` is a wall.

1,000 connections trickling their header bytes (slowloris) stay open while normal requests keep being answered;
with `max_connections` reached, one more connection is accepted and closed at once, and counted.
"""
import resource
import socket
import threading

import pytest

from conftest import wait_for
from gateway_process import Gateway, bearer, metric, scrape, unique
from tokens import mint

SLOW_CLIENTS = 1000


def start_gateway(directory, upstream, server_keys):
    return Gateway(directory, server=server_keys, routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        """).start()


def raise_open_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the hard open-file limit here ({hard}) is under {needed}")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else needed, hard))


def is_open(sock) -> bool:
    """True while the gateway has neither closed nor reset the connection (no bytes are expected)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_thousand_slow_clients_leave_normal_requests_answered(tmp_path, upstream):
    raise_open_file_limit(SLOW_CLIENTS * 2 + 200)
    # client_timeout long enough that the slow clients are not cut off during the test: the point is that they
    # are still there, holding their connections, while others are served.
    gw = start_gateway(tmp_path, upstream, 'client_timeout = "10m"\nidle_timeout = "10m"\n')
    slow = []
    stop = threading.Event()
    try:
        for i in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
            sock.sendall(f"GET /api/slow-{i} HTTP/1.1\r\nHost: a.example\r\nX-Trickle: ".encode())
            slow.append(sock)
        wait_for(lambda: metric(scrape(gw), "gateway_open_client_connections") >= SLOW_CLIENTS,
                 timeout=60, what="every slow client to be accepted")

        def trickle():
            # One header byte per connection per round, never the end of the header block.
            while not stop.is_set():
                for sock in slow:
                    try:
                        sock.send(b"x")
                    except OSError:
                        pass
                stop.wait(0.2)

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()

        token = mint(unique())
        for i in range(50):
            status, _, body = gw.request("GET", f"/api/normal-{i}", bearer(token), timeout=30)
            assert status == 200, body
        assert gw.admin("GET", "/healthz")[0] == 200

        stop.set()
        trickler.join(timeout=30)
        still_open = sum(1 for sock in slow if is_open(sock))
        assert still_open == SLOW_CLIENTS, f"only {still_open} slow clients still connected"
        assert not any(r["target"].startswith("/api/slow-") for r in upstream.requests), \
            "an unfinished request head must never reach the upstream"
    finally:
        stop.set()
        for sock in slow:
            sock.close()
        gw.stop()


def test_connection_over_max_connections_is_closed_at_once_and_counted(tmp_path, upstream):
    gw = start_gateway(tmp_path, upstream, 'max_connections = 5\nclient_timeout = "10m"\nidle_timeout = "10m"\n')
    held = []
    try:
        # The start-up probe's connection (Gateway.start checks the port) must be gone first: counted, it would
        # make one of the five below the sixth, and that one would be refused.
        wait_for(lambda: metric(scrape(gw), "gateway_open_client_connections") == 0, timeout=20,
                 what="the start-up probe's connection to close")
        for count in range(1, 6):
            held.append(socket.create_connection(("127.0.0.1", gw.port), timeout=10))
            wait_for(lambda: metric(scrape(gw), "gateway_open_client_connections") == count, timeout=20,
                     what=f"{count} connections to be open")
        assert metric(scrape(gw), "gateway_connections_rejected_total") == 0

        extra = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        try:
            extra.sendall(b"GET /api/over HTTP/1.1\r\nHost: a.example\r\n\r\n")
        except OSError:
            pass
        try:
            answer = extra.recv(65536)
        except ConnectionResetError:
            answer = b""
        extra.close()
        assert answer == b"", "the connection over the limit is closed without an answer"
        assert metric(scrape(gw), "gateway_connections_rejected_total") == 1
        assert all(is_open(sock) for sock in held), "the connections under the limit are untouched"

        # Below the limit again, a new connection is served.
        for sock in held:
            sock.close()
        held.clear()
        wait_for(lambda: metric(scrape(gw), "gateway_open_client_connections") == 0, timeout=20,
                 what="the held connections to close")
        status, _, body = gw.request("GET", "/api/after", bearer(mint(unique())))
        assert status == 200, body
    finally:
        for sock in held:
            sock.close()
        gw.stop()

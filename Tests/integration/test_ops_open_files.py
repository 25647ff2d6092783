"""The gateway raises its soft open-file limit to the hard one at start-up, as HAProxy and Go programs do:
every proxied connection holds two descriptors, and many hosts start services with a soft limit of 1024."""
import resource
import socket

import pytest

from gateway_process import Gateway

UPSTREAM_NAME = "main"  # conftest.py's `upstream` fixture puts this name in its answers

SOFT_LIMIT = 64
CLIENTS = 120  # with their upstream connections, far more descriptors than SOFT_LIMIT


def test_more_clients_than_the_inherited_soft_limit_are_all_served(tmp_path, upstream):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 4 * CLIENTS:
        pytest.skip(f"the hard open-file limit here ({hard}) is too low to tell")
    gw = Gateway(tmp_path, routes=f"""
        [[routes]]
        prefix = "/s/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """)
    gw.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (SOFT_LIMIT, hard))
    gw.start()
    clients = []
    try:
        # All connections open at once, then one request on each: each holds a client descriptor while it is served.
        for _ in range(CLIENTS):
            clients.append(socket.create_connection(("127.0.0.1", gw.port), timeout=15))
        for i, sock in enumerate(clients):
            sock.sendall(f"GET /s/{i} HTTP/1.1\r\nHost: a.example\r\n\r\n".encode())
        answered = 0
        for sock in clients:
            received = b""
            while b"\r\n\r\n" not in received:
                piece = sock.recv(65536)
                if not piece:
                    break
                received += piece
            answered += received.startswith(b"HTTP/1.1 200")
        assert answered == CLIENTS
        assert "open file limit raised" in gw.stderr()
    finally:
        for sock in clients:
            sock.close()
        gw.stop()

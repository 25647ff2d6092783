"""`gateway demo --once` with stdout a pipe (`| tee`, a CI log): each step of the walk-through reaches the reader
while the demo is still running, not all at once when it exits (issue 26, item 6).

The demo's API route points at a socket this test holds: the demo prints step 2's heading, then waits for that
call's answer, which the test gives only once it has read the heading from the pipe. Output held back in a stdio
buffer until exit would never arrive in time: the demo's call gives up first, and its answer is not ours.
"""
import queue
import socket
import subprocess
import textwrap
import threading
import time

from conftest import GATEWAY_BIN, free_port, stop_process
from tokens import APPID, AUDIENCE, ISSUER, SECRET

MARKER = "answered-by-the-test-upstream"


def read_lines(stream, lines: queue.Queue):
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


def next_line_containing(lines: queue.Queue, text: str, seen: list, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if line is None:
            return False
        seen.append(line)
        if text in line:
            return True
    return False


def answer_one_request(listener: socket.socket):
    """Accepts the gateway's connection to the API route and answers its request with MARKER."""
    listener.settimeout(20)
    connection, _ = listener.accept()
    with connection:
        connection.settimeout(20)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                return
            received += chunk
        body = MARKER.encode()
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body))


def test_demo_walkthrough_reaches_a_pipe_step_by_step(gateway_bin, tmp_path):
    api_port = free_port()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", api_port))
    listener.listen(8)
    config = tmp_path / "gateway.conf"
    config.write_text(textwrap.dedent(f"""\
        [server]
        listen = "127.0.0.1:{free_port()}"
        admin_listen = "127.0.0.1:{free_port()}"

        [log]
        access_log = false

        [wechat]
        api_base = "http://127.0.0.1:{free_port()}"

        [[wechat.apps]]
        appid = "{APPID}"
        secret = "integration-app-secret"

        [tokens]
        issuer = "{ISSUER}"
        audience = "{AUDIENCE}"
        algorithm = "HS256"
        secret = "{SECRET}"

        [store]
        url = "sqlite://{tmp_path}/demo.db"

        [[routes]]
        prefix = "/api/"
        upstreams = ["http://127.0.0.1:{api_port}"]
        timeout = "60s"
        """))
    process = subprocess.Popen(
        [GATEWAY_BIN, "demo", "--once", "--config", str(config)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list = []
    try:
        assert next_line_containing(lines, "1. Log in", seen), "".join(seen)
        assert next_line_containing(lines, "access_token", seen), "".join(seen)
        assert next_line_containing(lines, "2. Call the legacy API", seen), "".join(seen)
        # The demo now waits for the test's answer: it cannot have exited, so what arrived was flushed by a
        # running process.
        assert process.poll() is None, "the walk-through reached the pipe only when the demo exited"
        answer_one_request(listener)
        assert next_line_containing(lines, MARKER, seen), "".join(seen)
        assert next_line_containing(lines, "4. Log out", seen), "".join(seen)
        assert process.wait(timeout=30) == 0, process.stderr.read()
    finally:
        listener.close()
        stop_process(process)

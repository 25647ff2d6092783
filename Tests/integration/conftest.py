"""Black-box helpers: start the real gateway binary and real peer processes on loopback."""
import os
import pathlib
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GATEWAY_BIN = os.environ.get("GATEWAY_BIN", str(ROOT / ".build" / "debug" / "gateway"))
# How a fixture starts the gateway: its public listener is always the engine's epoll workers (issue 23).
SERVE_ARGS = ["serve"]


_ports_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on, never one this test run handed out before.

    The kernel may give the same ephemeral port to two back-to-back binds once the first
    socket is closed, which once gave a gateway the same `listen` and `admin_listen`.
    """
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


def wait_for(condition, timeout=20.0, interval=0.05, what="condition"):
    """Polls `condition` until it is truthy; a deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until_listening(process, port: int, name: str, details=lambda: "", stop=None):
    """Waits for a started process to accept connections on `port`; fails at once if it exits. When it
    never comes up, `stop` runs first: a fixture that fails in setup never reaches its teardown."""

    def ready():
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{details()}")
        return port_open(port)

    try:
        wait_for(ready, timeout=30, what=f"{name} to accept connections")
    except BaseException:
        if stop is not None:
            stop()
        raise


def stop_process(process, timeout=20):
    """SIGTERM (what ops send; the gateway drains), then SIGKILL if it does not exit in time."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def run_gateway(*args, env=None, cwd=None, timeout=30):
    return subprocess.run([GATEWAY_BIN, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture
def gateway_bin():
    assert os.path.exists(GATEWAY_BIN), f"build the gateway first: {GATEWAY_BIN} is missing"
    return GATEWAY_BIN


@pytest.fixture(scope="module")
def upstream(request):
    """One plain-HTTP test upstream (upstream.py) per test module. A module that wants its answers to carry
    another name than "echo" sets `UPSTREAM_NAME`."""
    from upstream import Upstream

    server = Upstream(getattr(request.module, "UPSTREAM_NAME", "echo"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """One real PostgreSQL server (postgres_server.py: Debian's package, loopback, no TLS) per test module."""
    from postgres_server import PostgresServer

    server = PostgresServer(tmp_path_factory.mktemp("postgres")).start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def simulator():
    """One real `gateway mock-wechat` per test module, knowing the default test app."""
    from tokens import APPID
    from wechat_simulator import APP_SECRET, WeChatSimulator

    sim = WeChatSimulator({APPID: APP_SECRET}).start()
    yield sim
    sim.stop()

"""Issue 22 item 6: `[wechat] api_base` has no loopback default.

An omitted `api_base` used to mean `http://127.0.0.1:9100`: every `jscode2session` call, AppSecret in its query,
went in clear text to whatever listened on that port, and its answer was taken as the user's identity. The default
is now `https://api.weixin.qq.com`, and `gateway check` warns about an `http://` api_base on an exposed listener.

No test sends anything beyond loopback: the login test gives the gateway an `https_proxy` (WeChat calls honour it,
docs/configuration.md) that records the request line and closes, so the gateway's way to WeChat is observed without
reaching it.
"""
import os
import socket
import subprocess
import threading
import time
import urllib.request

from conftest import GATEWAY_BIN, free_port, run_gateway, stop_process, wait_until_listening
from tokens import SECRET

APP_SECRET = "app-secret-that-must-not-travel-in-clear-9f2c"


def write_config(directory, *, api_base=None, server=""):
    port, admin = free_port(), free_port()
    api = f'api_base = "{api_base}"' if api_base else ""
    path = directory / "gateway.conf"
    path.write_text(f"""
[server]
listen = "127.0.0.1:{port}"
admin_listen = "127.0.0.1:{admin}"
{server}

[wechat]
{api}
timeout = "5s"

[[wechat.apps]]
appid = "wx0000000000000001"
secret = "{APP_SECRET}"

[tokens]
secret = "{SECRET}"

[store]
url = "sqlite://{directory}/g.db"
""")
    return path, port


class RecordingProxy:
    """An HTTP proxy on loopback that keeps what each client sends first and closes: it forwards nothing."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with client:
                client.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = client.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                self.received.append(data)
                try:
                    client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def stop(self):
        self.listener.close()


def test_login_without_api_base_goes_to_the_real_wechat_api_over_https(tmp_path):
    config, port = write_config(tmp_path)
    proxy = RecordingProxy()
    # What the old default reached: a listener on 127.0.0.1:9100 (if the port is free here) must stay untouched.
    try:
        squatter = socket.create_server(("127.0.0.1", 9100))
        squatter.settimeout(0.5)
    except OSError:
        squatter = None
    env = dict(os.environ)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[name] = f"http://127.0.0.1:{proxy.port}"
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    process = subprocess_popen(config, env)
    try:
        wait_until_listening(process, port, "gateway")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/auth/login", data=b"code=a-login-code", method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        assert status >= 500, "WeChat was not reached, so the login cannot succeed"
        deadline = time.monotonic() + 10
        while not proxy.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.received, "the gateway called WeChat without its egress proxy"
        first = proxy.received[0]
        assert first.startswith(b"CONNECT api.weixin.qq.com:443 "), first
        assert all(APP_SECRET.encode() not in data for data in proxy.received), "the AppSecret travelled in clear"
        if squatter is not None:
            try:
                squatter.accept()[0].close()
                raise AssertionError("the gateway called 127.0.0.1:9100, the old loopback default")
            except socket.timeout:
                pass
    finally:
        stop_process(process)
        proxy.stop()
        if squatter is not None:
            squatter.close()


def subprocess_popen(config, env):
    return subprocess.Popen([GATEWAY_BIN, "serve", "--config", str(config)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_check_warns_about_plain_http_api_base_on_an_exposed_listener(gateway_bin, tmp_path):
    config, _ = write_config(tmp_path, api_base="http://127.0.0.1:9100", server='trusted_proxies = ["10.0.0.0/8"]')
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "warning: wechat.api_base" in result.stderr, result.stderr
    assert "http://127.0.0.1:9100" in result.stderr and "trusted_proxies" in result.stderr, result.stderr


def test_check_is_quiet_about_the_simulator_on_a_private_listener_or_https_anywhere(gateway_bin, tmp_path):
    exposed = 'trusted_proxies = ["10.0.0.0/8"]'
    for api_base, server in [("http://127.0.0.1:9100", ""), ("https://api.weixin.qq.com", exposed)]:
        config, _ = write_config(tmp_path, api_base=api_base, server=server)
        result = run_gateway("check", "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr, result.stderr

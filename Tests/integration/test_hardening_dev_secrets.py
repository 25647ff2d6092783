"""Issue 15, item 6: the shipped development secrets never serve a listener other machines can reach.

`gateway serve` refuses to start with the default [tokens] secret or the default WeChat app secret when
`server.listen` is not loopback, naming the key and how to set it; `--allow-dev-secrets` overrides; a loopback
listener starts as before.
"""
import subprocess
import textwrap

import pytest

from conftest import GATEWAY_BIN, free_port, port_open, stop_process, wait_until_listening
from gateway_process import Gateway, ThrowawayCA, bearer, reload_and_wait
from tokens import SECRET, mint

UPSTREAM_NAME = "secrets"  # conftest.py's `upstream` fixture puts this name in its answers

DEV_TOKEN_SECRET = "dev-only-change-me-0123456789abcdef"
REAL_TOKEN_SECRET = "a-real-secret-from-the-environment-0123456789"


def write_config(directory, host, token_secret, app_secret, server=""):
    port, admin = free_port(), free_port()
    path = directory / "gateway.conf"
    path.write_text(textwrap.dedent(f"""\
        [server]
        listen = "{host}:{port}"
        admin_listen = "127.0.0.1:{admin}"
        #SERVER

        [wechat]
        api_base = "http://127.0.0.1:{free_port()}"

        [[wechat.apps]]
        appid = "wx0000000000000001"
        secret = "${{WECHAT_APP_SECRET:-{app_secret}}}"

        [tokens]
        secret = "${{GATEWAY_TOKEN_SECRET:-{token_secret}}}"

        [store]
        url = "sqlite://{directory}/g.db"
        """).replace("#SERVER", server))
    return path, port


def run_serve(config, *flags):
    """Starts `serve`; returns the process once it has exited or is listening."""
    return subprocess.Popen([GATEWAY_BIN, "serve", "--config", str(config), *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_dev_token_secret_on_public_listener_refuses_to_start(tmp_path):
    config, _ = write_config(tmp_path, "0.0.0.0", DEV_TOKEN_SECRET, "a-real-app-secret")
    process = run_serve(config)
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        stop_process(process)
    assert process.returncode == 1
    assert "tokens.secret is the shipped development secret" in stderr
    assert "GATEWAY_TOKEN_SECRET" in stderr and "--allow-dev-secrets" in stderr
    assert DEV_TOKEN_SECRET not in stderr, "the message names the key, never the secret"


def test_dev_wechat_secret_on_public_listener_refuses_to_start(tmp_path):
    config, _ = write_config(tmp_path, "0.0.0.0", REAL_TOKEN_SECRET, "dev-secret")
    process = run_serve(config)
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        stop_process(process)
    assert process.returncode == 1
    assert "wechat.apps[0].secret is the shipped development secret" in stderr
    assert "WECHAT_APP_SECRET" in stderr


@pytest.mark.parametrize("host, flags", [("0.0.0.0", ["--allow-dev-secrets"]), ("127.0.0.1", [])])
def test_dev_secrets_start_on_loopback_or_with_the_override(tmp_path, host, flags):
    config, port = write_config(tmp_path, host, DEV_TOKEN_SECRET, "dev-secret")
    process = run_serve(config, *flags)
    try:
        wait_until_listening(process, port, "gateway", details=lambda: "")
        assert port_open(port)
    finally:
        stop_process(process)
        _, stderr = process.communicate(timeout=10)
    if flags:
        assert "warning: tokens.secret is the shipped development secret" in stderr


def test_real_secrets_on_public_listener_start(tmp_path):
    config, port = write_config(tmp_path, "0.0.0.0", REAL_TOKEN_SECRET, "a-real-app-secret")
    process = run_serve(config)
    try:
        wait_until_listening(process, port, "gateway", details=lambda: "")
    finally:
        stop_process(process)
        process.communicate(timeout=10)


# Issue 22 item 5: exposed also means behind a proxy or serving TLS, and the rule holds on reload.

def exposed_server_keys(kind, directory):
    if kind == "trusted_proxies":
        return 'trusted_proxies = ["127.0.0.1/32"]'
    cert, key, _ = ThrowawayCA(directory).issue("localhost")
    return f'tls_certificate = "{cert}"\ntls_private_key = "{key}"'


@pytest.mark.parametrize("kind", ["trusted_proxies", "tls"])
def test_dev_token_secret_on_a_loopback_listener_behind_a_proxy_or_with_tls_refuses_to_start(tmp_path, kind):
    config, _ = write_config(
        tmp_path, "127.0.0.1", DEV_TOKEN_SECRET, "a-real-app-secret", server=exposed_server_keys(kind, tmp_path))
    process = run_serve(config)
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        stop_process(process)
    assert process.returncode == 1, stderr
    assert "tokens.secret is the shipped development secret" in stderr
    assert ("trusted_proxies" if kind == "trusted_proxies" else "TLS") in stderr, stderr


def exposed_gateway(tmp_path, upstream, *extra_args):
    gateway = Gateway(tmp_path, server='trusted_proxies = ["127.0.0.1/32"]\n', routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        """)
    gateway.extra_args = list(extra_args)
    return gateway.start()


def bring_back_the_dev_token_secret(gateway):
    # A renamed environment variable: the file falls back to the shipped default.
    text = gateway.config.read_text()
    assert f'secret = "{SECRET}"' in text
    gateway.config.write_text(text.replace(
        f'secret = "{SECRET}"', f'secret = "${{GATEWAY_TOKEN_SECRET_RENAMED:-{DEV_TOKEN_SECRET}}}"'))


def test_reload_that_brings_back_the_dev_token_secret_is_rejected(tmp_path, upstream):
    gateway = exposed_gateway(tmp_path, upstream)
    try:
        forged = bearer(mint("oForgedByAnyone", secret=DEV_TOKEN_SECRET))
        assert gateway.request("GET", "/api/x", forged)[0] == 401
        bring_back_the_dev_token_secret(gateway)
        reload_and_wait(gateway, "failure")
        assert gateway.request("GET", "/api/x", forged)[0] == 401, "the development secret was applied"
        assert gateway.request("GET", "/api/x", bearer(mint("oRealUser")))[0] == 200, "the running config was lost"
        log = gateway.stderr()
        assert "tokens.secret is the shipped development secret" in log, log
        assert "keeping the running one" in log, log
        assert DEV_TOKEN_SECRET not in log, "the log names the key, never the secret"
    finally:
        gateway.stop()


def test_reload_with_the_dev_token_secret_applies_when_started_with_the_override(tmp_path, upstream):
    gateway = exposed_gateway(tmp_path, upstream, "--allow-dev-secrets")
    try:
        bring_back_the_dev_token_secret(gateway)
        reload_and_wait(gateway, "success")
        assert gateway.request("GET", "/api/x", bearer(mint("oDev", secret=DEV_TOKEN_SECRET)))[0] == 200
        assert "warning" in gateway.stderr() and "--allow-dev-secrets" in gateway.stderr()
    finally:
        gateway.stop()

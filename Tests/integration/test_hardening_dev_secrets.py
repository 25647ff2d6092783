"""Issue 15, item 6: the shipped development secrets never serve a listener other machines can reach.

`gateway serve` refuses to start with the default [tokens] secret or the default WeChat app secret when
`server.listen` is not loopback, naming the key and how to set it; `--allow-dev-secrets` overrides; a loopback
listener starts as before.
"""
import subprocess
import textwrap

import pytest

from conftest import GATEWAY_BIN, free_port, port_open, stop_process, wait_until_listening

DEV_TOKEN_SECRET = "dev-only-change-me-0123456789abcdef"
REAL_TOKEN_SECRET = "a-real-secret-from-the-environment-0123456789"


def write_config(directory, host, token_secret, app_secret):
    port, admin = free_port(), free_port()
    path = directory / "gateway.conf"
    path.write_text(textwrap.dedent(f"""\
        [server]
        listen = "{host}:{port}"
        admin_listen = "127.0.0.1:{admin}"

        [wechat]
        api_base = "http://127.0.0.1:{free_port()}"

        [[wechat.apps]]
        appid = "wx0000000000000001"
        secret = "${{WECHAT_APP_SECRET:-{app_secret}}}"

        [tokens]
        secret = "${{GATEWAY_TOKEN_SECRET:-{token_secret}}}"

        [store]
        url = "sqlite://{directory}/g.db"
        """))
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

"""`gateway check` as a process: the shipped config, and a file with several mistakes."""
import pytest

from conftest import ROOT, free_port, run_gateway


def test_shipped_config_is_ok(gateway_bin):
    result = run_gateway("check", "--config", str(ROOT / "gateway.conf"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": ok")


def test_default_config_path_is_the_working_directory(gateway_bin):
    result = run_gateway("check", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "./gateway.conf: ok" in result.stdout


def test_every_mistake_is_reported_with_its_key_path(gateway_bin, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(
        """
[server]
listen = "127.0.0.1"
max_body_bytes = "10 megabytes"

[[wechat.apps]]
appid = "wx0000000000000001"
secret = "${SURELY_UNSET_SECRET_VAR}"

[tokens]
secret = "too-short"

[[routes]]
prefix = "/api/"
upstreams = ["http://127.0.0.1:9001", "ftp://nope"]
auth = "sometimes"
timout = "5s"
"""
    )
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 1
    out = result.stderr
    for fragment in [
        "server.listen",
        "server.max_body_bytes",
        "wechat.apps[0].secret: environment variable SURELY_UNSET_SECRET_VAR is not set",
        "tokens.secret: must be at least 32 bytes",
        "routes[0].upstreams[1]",
        "routes[0].auth",
        "routes[0].timout: unknown key",
    ]:
        assert fragment in out, f"missing '{fragment}' in:\n{out}"


def test_syntax_error_names_the_line(gateway_bin, tmp_path):
    conf = tmp_path / "syntax.conf"
    conf.write_text('[server]\nlisten = "127.0.0.1:8080"\nbroken = = 1\n')
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 1
    assert "line 3" in result.stderr


def test_missing_file_is_a_clear_error(gateway_bin, tmp_path):
    result = run_gateway("check", "--config", str(tmp_path / "absent.conf"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_serve_refuses_a_bad_config_with_the_same_messages(gateway_bin, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text('[server]\nlisten = "nowhere"\n')
    checked = run_gateway("check", "--config", str(conf))
    served = run_gateway("serve", "--config", str(conf))
    assert served.returncode != 0
    assert "server.listen" in served.stderr
    first_line = checked.stderr.splitlines()[0]
    assert first_line in served.stderr


def test_the_thread_counts_the_engine_replaced_are_errors_that_point_to_workers(gateway_bin, tmp_path):
    # Issue 23: one engine worker per core owns both the client and the libcurl sockets, so the old thread counts
    # mean nothing any more; a file that still sets them is refused by name rather than silently run otherwise.
    conf = tmp_path / "threads.conf"
    conf.write_text(
        """
[server]
listen = "127.0.0.1:8080"
event_loops = 4
curl_threads = 4

[[wechat.apps]]
appid = "wx0000000000000001"
secret = "s"

[tokens]
secret = "0123456789abcdef0123456789abcdef"

[websocket]
threads = 2
"""
    )
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 1
    for key in ["server.event_loops", "server.curl_threads", "websocket.threads"]:
        line = next((line for line in result.stderr.splitlines() if f"{key}: no longer exists" in line), None)
        assert line is not None, f"missing {key} in:\n{result.stderr}"
        assert "use [server] workers" in line
    workers = conf.read_text().replace("event_loops = 4\ncurl_threads = 4\n", "workers = 4\n")
    conf.write_text(workers.replace("[websocket]\nthreads = 2\n", ""))
    assert run_gateway("check", "--config", str(conf)).returncode == 0


def test_serve_on_a_host_name_says_the_public_listener_needs_an_ip_address(gateway_bin, tmp_path):
    # The engine's workers bind the address themselves (SO_REUSEPORT, one socket each): an IP address or localhost.
    conf = tmp_path / "named.conf"
    conf.write_text(
        f"""
[server]
listen = "gateway.invalid:{free_port()}"
admin_listen = "127.0.0.1:{free_port()}"

[[wechat.apps]]
appid = "wx0000000000000001"
secret = "s"

[tokens]
secret = "0123456789abcdef0123456789abcdef-not-shipped"

[store]
url = "sqlite://{tmp_path}/g.db"
"""
    )
    served = run_gateway("serve", "--config", str(conf))
    assert served.returncode != 0
    assert "server.listen: the gateway's public listener binds an IP address (or localhost), not gateway.invalid" \
        in served.stderr, served.stderr
    assert "probe" not in served.stderr


def test_help_lists_the_commands(gateway_bin):
    result = run_gateway("--help")
    assert result.returncode == 0
    for command in ["serve", "check", "token", "mock-wechat", "demo"]:
        assert command in result.stdout


STORE_PASSWORD = "hunter2-store-pw"


@pytest.mark.parametrize("url", [
    f"postgres:gw:{STORE_PASSWORD}@db/gw",
    f"postgres:/gw:{STORE_PASSWORD}@db/gw",
    f"gw:{STORE_PASSWORD}@db/gw",
    f"gw:{STORE_PASSWORD}@db://gw",
    f"postgres://gw:{STORE_PASSWORD}@db:99999/gw",
    f"postgres://gw:{STORE_PASSWORD}@db/gw?sslmode=sometimes",
    f"postgres://db/gw?user=gw&password={STORE_PASSWORD}",
    f"postgres://gw:{STORE_PASSWORD}@127.0.0.1:1/gw?sslmode=disable",  # parses; nothing listens
])
def test_store_url_password_never_printed(gateway_bin, tmp_path, url):
    """Issue 22 item 7: whatever the shape of [store] url, neither `check` nor `serve` prints its password."""
    conf = tmp_path / "store.conf"
    conf.write_text(
        f"""
[server]
listen = "127.0.0.1:{free_port()}"
admin_listen = "127.0.0.1:{free_port()}"

[wechat]
api_base = "http://127.0.0.1:{free_port()}"

[[wechat.apps]]
appid = "wx0000000000000001"
secret = "an-app-secret"

[tokens]
secret = "0123456789abcdef0123456789abcdef"

[store]
url = "{url}"
timeout = "2s"
"""
    )
    checked = run_gateway("check", "--config", str(conf))
    served = run_gateway("serve", "--config", str(conf))
    assert served.returncode != 0, served.stderr
    assert "store.url" in served.stderr, served.stderr
    for result in (checked, served):
        output = result.stdout + result.stderr
        assert STORE_PASSWORD not in output, output

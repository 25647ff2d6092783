"""Issue 22 item 10: the rate and cost of the control endpoints.

`/auth/revoke` and `/auth/logout` share the per-client-address bucket of `/auth/login` and `/auth/token` (429
`slow_down` with `Retry-After`); `/auth/phone` has a bucket per user, since each call spends the app's WeChat
quota. A revoke writes (and notifies the fleet) only when it ends something: revoking an ended session again adds
no row to the store, counted here in the SQLite file the gateway writes.
"""
import sqlite3

import pytest

from conftest import wait_for
from gateway_process import bearer, unique
from wechat_simulator import AuthGateway, header


def assert_slowed_down(answer):
    status, headers, body = answer
    assert status == 429, (status, body)
    assert body["error"] == "slow_down", body
    assert int(header(headers, "Retry-After")) >= 1


@pytest.fixture
def tight(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator, auth_per_minute=1, auth_burst=3).start()
    yield gw
    gw.stop()


def test_revoke_is_rate_limited_per_client_address(tight):
    for _ in range(3):
        assert tight.post_form("/auth/revoke", {"token": unique("junk")})[0] == 200
    assert_slowed_down(tight.post_form("/auth/revoke", {"token": unique("junk")}))
    # One bucket per address for every token endpoint: a revoke flood also holds back this address's logins.
    assert_slowed_down(tight.post_json("/auth/login", {"code": unique("code")}))


def test_logout_is_rate_limited_per_client_address(tight):
    for _ in range(3):
        assert tight.post_form("/auth/logout", {}, bearer("not.a.token"))[0] == 401
    assert_slowed_down(tight.post_form("/auth/logout", {}, bearer("not.a.token")))


def test_phone_is_rate_limited_per_user_not_per_address(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator)
    gw.config.write_text(gw.config.read_text().replace("[rate_limit]\n", "[rate_limit]\nphone_per_minute = 1\nphone_burst = 2\n"))
    gw.start()
    try:
        first = gw.login(f"openid:{unique('phone-a')}")
        second = gw.login(f"openid:{unique('phone-b')}")
        for _ in range(2):
            assert gw.post_json("/auth/phone", {"code": unique("pc")}, bearer(first["access_token"]))[0] == 200
        assert_slowed_down(gw.post_json("/auth/phone", {"code": unique("pc")}, bearer(first["access_token"])))
        # Another user on the same address is not held back.
        assert gw.post_json("/auth/phone", {"code": unique("pc")}, bearer(second["access_token"]))[0] == 200
    finally:
        gw.stop()


def store_rows(gw):
    with sqlite3.connect(f"file:{gw.workdir / 'auth.db'}?mode=ro", uri=True) as db:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("revoked_access_tokens", "revocation_feed")}


@pytest.fixture
def gateway(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator).start()
    yield gw
    gw.stop()


def test_revoking_an_ended_session_again_writes_nothing(gateway):
    tokens = gateway.login(f"openid:{unique('revoke-again')}")
    assert gateway.post_form("/auth/revoke", {"token": tokens["refresh_token"]})[0] == 200
    after_first = store_rows(gateway)
    assert after_first["revocation_feed"] >= 1, after_first
    for _ in range(5):
        assert gateway.post_form("/auth/revoke", {"token": tokens["refresh_token"]})[0] == 200
        assert gateway.post_form("/auth/revoke", {"token": tokens["access_token"]})[0] == 200
    assert store_rows(gateway) == after_first, "a revoke that changed nothing wrote to the store"
    status, _, body = gateway.refresh(tokens["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant", body


def test_logout_writes_one_revocation_for_the_session(gateway):
    tokens = gateway.login(f"openid:{unique('logout-once')}")
    before = store_rows(gateway)
    assert gateway.post_form("/auth/logout", {}, bearer(tokens["access_token"]))[0] == 204
    after = store_rows(gateway)
    # The session's entry refuses every access token of it, the presented one included: one row, one notice.
    assert after["revocation_feed"] - before["revocation_feed"] == 1, (before, after)
    assert gateway.post_form("/auth/logout", {}, bearer(tokens["access_token"]))[0] == 401
    assert gateway.post_form("/auth/revoke", {"token": tokens["refresh_token"]})[0] == 200
    assert store_rows(gateway) == after

"""Issue 15, item 4: `/auth/revoke` answers 503 when the store cannot record the revocation.

RFC 7009 section 2.2.1 allows 503; a 200 would tell the client its session ended when the fleet never heard of
it. Proven against a real PostgreSQL that is stopped under the gateway, then started again: the same revoke then
succeeds, and the session is over.
"""
import pytest

from gateway_process import bearer, unique
from wechat_simulator import AuthGateway, header

UPSTREAM_NAME = "legacy"  # conftest.py's `upstream` fixture puts this name in its answers


@pytest.fixture
def gateway(tmp_path, simulator, upstream, postgres):
    gw = AuthGateway(tmp_path, simulator, upstream_url=upstream.url, store_url=postgres.create_database(),
                     store_settings='timeout = "2s"').start()
    yield gw
    gw.stop()


def assert_store_unavailable(answer):
    status, headers, body = answer
    assert status == 503, (status, body)
    assert body["error"] == "temporarily_unavailable", body
    assert int(header(headers, "Retry-After")) > 0


def test_revoke_answers_503_while_the_store_is_down_and_works_once_it_is_back(gateway, postgres):
    tokens = gateway.login(f"openid:{unique('revoke')}")
    postgres.stop("fast")
    try:
        assert_store_unavailable(gateway.post_form("/auth/revoke", {"token": tokens["refresh_token"]}))
        assert_store_unavailable(gateway.post_form("/auth/revoke", {"token": tokens["access_token"]}))
    finally:
        postgres.start()
    # The 503 changed nothing the client must know about: the same revoke now ends the session.
    from conftest import wait_for

    wait_for(lambda: gateway.post_form("/auth/revoke", {"token": tokens["refresh_token"]})[0] == 200,
             timeout=30, what="revoke to succeed once the store is back")
    status, _, body = gateway.refresh(tokens["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant", body

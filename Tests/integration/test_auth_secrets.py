"""Secrets stay inside the gateway (docs/architecture.md, "The control plane"): no HTTP answer and no line the
gateway writes on stdout or stderr contains a WeChat session_key, the app secret or the token secret, and a
refresh token appears only in the one token response that issued it.

The test drives every control endpoint, success and failure paths, with the log level at `trace`,
then scans what its own gateways said together with everything the earlier `test_auth_*` modules'
gateways said in this pytest session (they record into `EVIDENCE`; this file sorts after them).
"""
import base64
import json
import os
import urllib.parse

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import free_port
from gateway_process import bearer, unique
from tokens import APPID, SECRET
from upstream import Upstream
from wechat_simulator import APP_SECRET, EVIDENCE, AuthGateway, WeChatSimulator


def spellings(secret: str) -> set[str]:
    """The ways a secret could be written out: as is, JSON-escaped, percent-encoded."""
    return {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


def encrypted_user_info(session_key: str, appid: str) -> dict:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps({"nickName": "n", "watermark": {"appid": appid}}).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(iv)).encryptor()
    data = encryptor.update(plain) + encryptor.finalize()
    return {"encryptedData": base64.b64encode(data).decode(), "iv": base64.b64encode(iv).decode()}


def exercise_every_endpoint(gw, sim):
    tokens = gw.login(f"openid:{unique('leak')}+union")
    session_key = sim.session_key(tokens["openid"])
    auth = bearer(tokens["access_token"])
    assert gw.request("GET", "/api/echo", auth)[0] == 200
    gw.post_json("/auth/userinfo", encrypted_user_info(session_key, APPID), auth)
    gw.post_json("/auth/userinfo", encrypted_user_info(session_key, "wx-other"), auth)
    signed = {**encrypted_user_info(session_key, APPID), "rawData": "{}", "signature": "0" * 40}
    gw.post_json("/auth/userinfo", signed, auth)
    gw.post_json("/auth/phone", {"code": unique("phone")}, auth)
    gw.post_json("/auth/phone", {"code": f"invalid-{unique()}"}, auth)
    for code in ["invalid-x", "busy-x", "limit-x", "blocked-x", "slow:3000"]:
        gw.post_json("/auth/login", {"code": f"{code}{unique()}"})
    used = f"openid:{unique('used')}"
    gw.login(used)
    gw.post_json("/auth/login", {"code": used})
    status, _, rotated = gw.refresh(tokens["refresh_token"])
    assert status == 200
    gw.refresh(tokens["refresh_token"])  # reuse: the family is revoked and a warning is logged
    gw.refresh(rotated["refresh_token"])
    second = gw.login(f"openid:{unique('leak2')}")
    gw.post_form("/auth/revoke", {"token": second["refresh_token"]})
    gw.post_form("/auth/revoke", {"token": second["access_token"]})
    third = gw.login(f"openid:{unique('leak3')}")
    gw.request("POST", "/auth/logout", bearer(third["access_token"]))
    gw.request("GET", "/api/echo", bearer(third["access_token"]))
    gw.post_form("/auth/token", {"grant_type": "refresh_token", "refresh_token": third["refresh_token"]})


def test_no_session_key_refresh_token_or_secret_leaves_the_gateway(tmp_path):
    sim = WeChatSimulator({APPID: APP_SECRET}).start()
    upstream = Upstream("leak")
    gateways = [
        AuthGateway(tmp_path, sim, upstream_url=upstream.url, log_level="trace", wechat_timeout="1s", name="traced"),
        # WeChat down: curl's errors must not quote the jscode2session URL, whose query holds the secret.
        AuthGateway(
            tmp_path, api_base=f"http://127.0.0.1:{free_port()}", apps={APPID: APP_SECRET}, log_level="trace",
            name="down",
        ),
        # WeChat rejecting the secret (40125): the answer and log name the cause, not the secret.
        AuthGateway(tmp_path, sim, apps={APPID: APP_SECRET + "-wrong"}, log_level="trace", name="wrong-secret"),
    ]
    try:
        for gw in gateways:
            gw.start()
        exercise_every_endpoint(gateways[0], sim)
        for gw in gateways[1:]:
            gw.post_json("/auth/login", {"code": f"openid:{unique()}"})
    finally:
        for gw in gateways:
            gw.stop()
        upstream.stop()
        sim.stop()

    answers, log_files, session_keys = EVIDENCE.snapshot()
    assert session_keys, "the scan needs the session_keys WeChat handed out"
    fixed_secrets = {"app secret": APP_SECRET, "token secret": SECRET}
    refresh_tokens = {issued for *_, issued in answers if issued}
    assert len(refresh_tokens) >= 5

    def leaks(text: str, issued: str | None = None) -> list[str]:
        found = [name for name, value in fixed_secrets.items() if any(s in text for s in spellings(value))]
        found += ["session_key"] * any(s in text for key in session_keys for s in spellings(key))
        found += ["refresh token"] * any(t in text for t in refresh_tokens if t != issued)
        return found

    for target, status, headers, body, issued in answers:
        text = body.decode(errors="replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in headers)
        assert not leaks(text, issued), f"{target} answered {status} with {leaks(text, issued)}: {text[:300]}"
    scanned_lines = 0
    for path in log_files:
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            scanned_lines += 1
            assert not leaks(line), f"{path.name}:{number} contains {leaks(line)}: {line[:300]}"
    assert scanned_lines > 20, "the gateways should have logged something to scan"

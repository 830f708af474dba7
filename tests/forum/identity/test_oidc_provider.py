"""The test identity provider itself (tests/forum/identity/oidc_provider.py) behaves as an OpenID Connect provider
must, so the SSO tests' refusals come from the forum and not from a lenient fixture: discovery that Authlib's
metadata validation accepts, PKCE S256 required, a nonce never accepted twice, client authentication, codes that
work once and only with their verifier and redirect URI, ID tokens that verify against the published JWKS, and an
end-session endpoint that checks the ``id_token_hint``."""
from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.forum.identity.oidc_provider import Provider

CALLBACK = "http://forum.test/login/sso/callback"
VERIFIER = "v" * 64


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@pytest.fixture()
def idp():
    provider = Provider().start()
    provider.sign_in_as(sub="p-1", email="p@aldercrest.example", name="P", amr=["pwd", "otp"])
    yield provider
    provider.stop()


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with _opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _authorize(idp, **overrides) -> dict:
    query = {"response_type": "code", "client_id": idp.client_id, "redirect_uri": CALLBACK,
             "scope": "openid email profile", "state": "st", "nonce": secrets.token_urlsafe(16),
             "code_challenge": create_s256_code_challenge(VERIFIER), "code_challenge_method": "S256", **overrides}
    status, headers, body = _get(idp.issuer + "/authorize?" + urlencode({k: v for k, v in query.items() if v}))
    assert status == 302, body
    location = urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _token(idp, code: str, secret: str | None = None, **overrides) -> tuple[int, dict]:
    basic = base64.b64encode(f"{idp.client_id}:{secret or idp.client_secret}".encode()).decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER,
            **overrides}
    request = urllib.request.Request(idp.issuer + "/token", data=urlencode(form).encode(),
                                     headers={"Authorization": f"Basic {basic}"})
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_discovery_and_keys(idp):
    status, _, body = _get(idp.issuer + "/.well-known/openid-configuration")
    doc = OpenIDProviderMetadata(json.loads(body))
    doc.validate()
    assert status == 200 and doc["issuer"] == idp.issuer and doc["end_session_endpoint"] == idp.issuer + "/logout"
    keys = json.loads(_get(doc["jwks_uri"])[2])["keys"]
    assert [k["kid"] for k in keys] == ["key-1"] and all("d" not in k for k in keys)  # public halves only


def test_a_code_flow_gives_an_rs256_id_token_that_verifies_against_the_jwks(idp):
    answer = _authorize(idp, nonce="nonce-1")
    assert answer["state"] == "st"
    status, token = _token(idp, answer["code"])
    assert status == 200 and token["token_type"] == "Bearer"
    keys = KeySet.import_key_set(json.loads(_get(idp.issuer + "/jwks")[2]))
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"] == "key-1"
    claims = decoded.claims
    assert claims["iss"] == idp.issuer and claims["aud"] == idp.client_id and claims["nonce"] == "nonce-1"
    assert claims["sub"] == "p-1" and claims["email"] == "p@aldercrest.example" and claims["amr"] == ["pwd", "otp"]
    assert claims["exp"] > claims["iat"] and "at_hash" in claims


def test_pkce_s256_is_required_and_checked(idp):
    assert _authorize(idp, code_challenge="")["error"] == "invalid_request"
    assert _authorize(idp, code_challenge_method="plain")["error"] == "invalid_request"
    code = _authorize(idp)["code"]
    status, answer = _token(idp, code, code_verifier="w" * 64)
    assert status == 400 and answer["error"] == "invalid_grant"


def test_codes_work_once_for_their_client_redirect_uri_and_secret(idp):
    code = _authorize(idp)["code"]
    assert _token(idp, code, secret="wrong")[0] == 401
    code = _authorize(idp)["code"]
    assert _token(idp, code, redirect_uri="http://elsewhere.example/login/sso/callback")[1]["error"] == "invalid_grant"
    code = _authorize(idp)["code"]
    assert _token(idp, code)[0] == 200
    assert _token(idp, code)[1]["error"] == "invalid_grant"


def test_a_nonce_is_accepted_once(idp):
    assert "code" in _authorize(idp, nonce="only-once")
    assert _authorize(idp, nonce="only-once")["error"] == "invalid_request"
    assert _authorize(idp, nonce="")["error"] == "invalid_request"


def test_the_knobs_still_sign_with_authlib(idp):
    idp.knobs.update(token_issuer="http://127.0.0.1:1/other", audience="other-client", lifetime=-120)
    token = _token(idp, _authorize(idp)["code"])[1]["id_token"]
    claims = jwt.decode(token, idp.jwks(), algorithms=["RS256"]).claims
    assert claims["iss"] == "http://127.0.0.1:1/other" and claims["aud"] == "other-client"
    assert claims["exp"] < time.time()
    idp.knobs = {"wrong_key": True}
    token = _token(idp, _authorize(idp)["code"])[1]["id_token"]
    with pytest.raises(BadSignatureError):
        jwt.decode(token, idp.jwks(), algorithms=["RS256"])


def test_end_session_checks_the_id_token_hint(idp):
    token = _token(idp, _authorize(idp)["code"])[1]["id_token"]
    status, _, body = _get(idp.issuer + "/logout?" + urlencode(
        {"id_token_hint": token, "post_logout_redirect_uri": "http://forum.test/login"}))
    assert status == 200 and json.loads(body) == {"signed_out": True}
    assert idp.logouts[-1]["post_logout_redirect_uri"] == "http://forum.test/login"
    assert idp.ended_sessions[-1]["sub"] == "p-1"
    idp.knobs["wrong_key"] = True
    forged = _token(idp, _authorize(idp)["code"])[1]["id_token"]
    assert _get(idp.issuer + "/logout?" + urlencode({"id_token_hint": forged}))[0] == 400
    assert len(idp.ended_sessions) == 1

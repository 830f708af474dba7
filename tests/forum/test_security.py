"""Security headers, cookie flags, the SECRET_KEY guard, rate limits and CSRF on the auth routes."""
from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

from forum import ConfigurationError, create_app
from forum.config import DEV_SECRET_KEY
from forum.extensions import limiter
from forum.ratelimits import limit_posting, limit_search
from forum.security import is_safe_redirect
from forum.services.orgs import accounts
from tests.conftest import base_config
from tests.factories import Factory, csrf_token_from

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.fixture()
def make_app(app, database_url, monkeypatch):
    """Build a separate app on the same (emptied) database; the shared limiter is put back afterwards."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    saved = limiter.enabled

    def _make(**overrides) -> Flask:
        return create_app({**base_config(database_url), **overrides})

    yield _make
    limiter.enabled = saved


def _assert_security_headers(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert re.search(r"script-src 'self'(;|$)", csp)


# --- headers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,status", [
    ("/login", 200), ("/no/such/page", 404), ("/static/groundwork.css", 200), ("/register/bogus", 404),
])
def test_security_headers_everywhere(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    _assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers


def test_security_headers_on_json_errors_and_redirects(client):
    _assert_security_headers(client.get("/nope", headers={"Accept": "application/json"}))
    _assert_security_headers(client.get("/account"))  # redirect to login
    _assert_security_headers(client.post("/logout"))  # CSRF refusal


@pytest.mark.parametrize("path", ["/login", "/static/groundwork.css", "/missing"])
def test_hsts_only_over_https(client, path):
    response = client.get(path, base_url="https://forum.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    _assert_security_headers(response)


def test_auth_pages_are_not_cached(client, make, login):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    login(make.user())
    assert client.get("/account/password").headers["Cache-Control"] == "no-store"


def test_auth_pages_have_no_inline_script_or_style(client, make, login):
    user = make.user()
    _, token = accounts.create_invitation(user.organisation, None)
    pages = [client.get("/login"), client.get(f"/register/{token}"), client.get("/register/bad")]
    login(user)
    pages += [client.get("/account"), client.get("/account/password"), client.get(f"/u/{user.username}")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), page.request.path
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html, re.I), page.request.path


# --- cookies and configuration ----------------------------------------------------------------------

def _login_over_https(client, user):
    page = client.get("/login", base_url="https://forum.test")
    # Over HTTPS Flask-WTF also insists on a same-origin Referer.
    return client.post("/login", base_url="https://forum.test", headers={"Referer": "https://forum.test/login"}, data={
        "email": user.email, "password": Factory.PASSWORD,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_session_cookie_flags_in_production(make_app, make):
    prod = make_app(TESTING=False, RATELIMIT_ENABLED=False)
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    user = make.user()
    response = _login_over_https(prod.test_client(), user)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie


def test_https_post_with_foreign_referer_is_refused(client, make):
    page = client.get("/login", base_url="https://forum.test")
    user = make.user()
    response = client.post("/login", base_url="https://forum.test", headers={"Referer": "https://evil.test/"},
                           data={"email": user.email, "password": Factory.PASSWORD,
                                 "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 400


def test_session_cookie_not_secure_in_testing_but_httponly_lax(client, make):
    user = make.user()
    response = _login_over_https(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_dev_secret_key_refused_outside_debug(make_app):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app(TESTING=False, DEBUG=False, SECRET_KEY=DEV_SECRET_KEY, RATELIMIT_ENABLED=False)


def test_dev_secret_key_allowed_in_debug_and_testing(make_app):
    assert make_app(TESTING=False, DEBUG=True, SECRET_KEY=DEV_SECRET_KEY, RATELIMIT_ENABLED=False)
    assert make_app(TESTING=True, SECRET_KEY=DEV_SECRET_KEY, RATELIMIT_ENABLED=False)


def test_debug_cookies_not_secure(make_app):
    debug_app = make_app(TESTING=False, DEBUG=True, RATELIMIT_ENABLED=False)
    assert debug_app.config["SESSION_COOKIE_SECURE"] is False


# --- next= ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("target,ok", [
    ("/", True), ("/t/5?page=2#r9", True), ("/u/x", True),
    ("", False), (None, False), ("//evil.test", False), ("/\\evil.test", False), ("\\/evil.test", False),
    ("https://forum.test/", False), ("http:evil.test", False), ("javascript:alert(1)", False),
    ("/\nevil", False), ("/\x00", False), ("evil.test/x", False), ("/" + "a" * 3000, False),
])
def test_is_safe_redirect(target, ok):
    assert is_safe_redirect(target) is ok


# --- rate limits ---------------------------------------------------------------------------------

def test_login_rate_limit_gives_429_with_retry_after(make_app, make):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    limiter.reset()
    user = make.user()
    client = limited.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    bad = {"email": user.email, "password": "wrong guess number x", "csrf_token": token}
    for _ in range(3):
        assert client.post("/login", data=bad).status_code == 401
    assert client.get("/login").status_code == 200, "showing the form is not limited"

    refused = client.post("/login", data={**bad, "password": Factory.PASSWORD})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    html = refused.get_data(as_text=True)
    assert "Too many requests" in html and "<h1>429</h1>" in html
    _assert_security_headers(refused)

    as_json = client.post("/login", data=bad, headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and int(as_json.headers["Retry-After"]) >= 1
    assert as_json.get_json()["error"]["code"] == 429


def test_failed_logins_per_account_are_limited_across_addresses(make_app, make):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="100 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per hour")
    limiter.reset()
    target, bystander = make.user(), make.user()

    def attempt(user, password, address):
        client = limited.test_client()  # a fresh browser each time, as a distributed guesser would use
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        return client.post("/login", data={"email": user.email.upper(), "password": password, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address}).status_code

    # Successful sign-ins do not count against the account.
    assert [attempt(target, Factory.PASSWORD, "10.0.0.9") for _ in range(3)] == [302, 302, 302]
    codes = [attempt(target, "wrong guess number x", f"10.0.0.{i}") for i in range(1, 5)]
    assert codes == [401, 401, 401, 429]
    assert attempt(target, Factory.PASSWORD, "10.0.0.8") == 429, "locked for this window, even with the password"
    assert attempt(bystander, Factory.PASSWORD, "10.0.0.1") == 302


def test_rate_limits_use_redis_when_configured(make_app, make):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"no Redis server on 127.0.0.1:6379 ({exc}); .ci/run starts one")
    # A unique prefix keeps this run's counters apart from any other run sharing the server.
    limited = make_app(RATELIMIT_ENABLED=True, REDIS_URL=url, RATELIMIT_LOGIN="2 per minute",
                       RATELIMIT_KEY_PREFIX=f"gw-test-{uuid.uuid4().hex}")
    # The limiter is one object per process: counters from an earlier app in this run must not count.
    limiter.reset()
    assert limited.config["RATELIMIT_STORAGE_URI"] == url
    assert "redis" in type(limiter.storage).__name__.lower()
    client = limited.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"email": make.user().email, "password": "wrong guess number x", "csrf_token": token}
    assert [client.post("/login", data=data).status_code for _ in range(3)] == [401, 401, 429]


def test_rate_limits_survive_redis_outage(make_app, make):
    limited = make_app(RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_LOGIN="2 per minute")
    client = limited.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"email": make.user().email, "password": "wrong guess number x", "csrf_token": token}
    assert [client.post("/login", data=data).status_code for _ in range(3)] == [401, 401, 429]


def test_register_rate_limit(make_app, make):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="2 per minute")
    limiter.reset()
    _, token = accounts.create_invitation(make.customer_org(), None)
    client = limited.test_client()
    csrf = csrf_token_from(client.get(f"/register/{token}").get_data(as_text=True))
    codes = [client.post(f"/register/{token}", data={"csrf_token": csrf}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_posting_and_search_helpers(make_app):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_POST="2 per minute", RATELIMIT_SEARCH="1 per minute",
                       WTF_CSRF_ENABLED=False)

    @limit_posting
    def _post_a():
        return "ok"

    @limit_posting
    def _post_b():
        return "ok"

    @limit_search
    def _find():
        return "ok"

    limited.add_url_rule("/_test/a", "_test_a", _post_a, methods=["GET", "POST"])
    limited.add_url_rule("/_test/b", "_test_b", _post_b, methods=["POST"])
    limited.add_url_rule("/_test/find", "_test_find", _find)
    limiter.reset()
    client = limited.test_client()
    assert client.get("/_test/a").status_code == 200  # reading is not posting
    # One budget across posting routes.
    assert [client.post(p).status_code for p in ("/_test/a", "/_test/b", "/_test/a")] == [200, 200, 429]
    assert [client.get("/_test/find").status_code for _ in range(2)] == [200, 429]


# --- CSRF on the auth routes ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/logout", "/account", "/account/password", "/register/whatever"])
@pytest.mark.parametrize("token", [None, "forged-token", "foreign"])
def test_auth_posts_refuse_missing_or_foreign_csrf(app, client, make, login, path, token):
    user = make.user(display_name="Kept Name")
    login(user)
    if token == "foreign":
        other = app.test_client()
        token = csrf_token_from(other.get("/login").get_data(as_text=True))
    data = {"email": user.email, "password": Factory.PASSWORD, "display_name": "Changed",
            "current_password": Factory.PASSWORD, "new_password": "another fine passphrase 1",
            "confirm": "another fine passphrase 1"}
    if token:
        data["csrf_token"] = token
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    from forum.extensions import db
    from forum.models import User

    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.display_name == "Kept Name" and fresh.session_version == 1
    assert client.get("/account").status_code == 200

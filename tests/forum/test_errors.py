"""Error pages: HTML or JSON by Accept, no internals, and a 500 rolls the session back."""
from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db, limiter
from forum.models import Organisation, OrgKind
from tests.conftest import base_config

SECRET_DETAIL = "db password is hunter2 at /srv/secret/path"


@pytest.fixture()
def error_app(app, database_url):
    """A separate app (same emptied database) with routes that fail on purpose, registered before use."""
    saved = limiter.enabled
    failing = create_app({**base_config(database_url), "RATELIMIT_ENABLED": False})

    @failing.route("/_test/boom", methods=["GET", "POST"])
    def _boom():
        db.session.add(Organisation(name="Half Done Ltd", slug="half-done", kind=OrgKind.CUSTOMER))
        db.session.flush()
        raise RuntimeError(SECRET_DETAIL)

    @failing.route("/_test/forbidden")
    def _forbidden():
        abort(403)

    @failing.route("/_test/gone")
    def _gone():
        abort(410)

    yield failing
    limiter.enabled = saved


def _organisations() -> int:
    return db.session.execute(select(func.count()).select_from(Organisation)).scalar_one()


@pytest.mark.parametrize("path,status,text", [
    ("/_test/forbidden", 403, "permission"),
    ("/_test/gone", 410, "no longer available"),
    ("/does/not/exist", 404, "nothing here"),
    ("/_test/boom", 500, "went wrong on our side"),
])
def test_error_pages_html_and_json(error_app, path, status, text):
    client = error_app.test_client()
    html = client.get(path)
    assert html.status_code == status
    assert html.mimetype == "text/html"
    body = html.get_data(as_text=True)
    assert f"<h1>{status}</h1>" in body and text in body
    assert "<!doctype html>" in body.lower() and 'href="/login"' in body

    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == status and as_json.mimetype == "application/json"
    assert as_json.get_json()["error"]["code"] == status
    assert text in as_json.get_json()["error"]["message"]


def test_browser_accept_header_gets_html(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/missing", headers={"Accept": accept}).mimetype == "text/html"


def test_500_shows_no_internals_and_rolls_back(error_app):
    client = error_app.test_client()
    # Keep one app context across requests, as the fixture does, so a half-done session would survive.
    with error_app.app_context():
        response = client.get("/_test/boom")
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert SECRET_DETAIL not in body and "Traceback" not in body and "RuntimeError" not in body
        db.session.commit()  # whatever comes next commits: the failed request must have left nothing
        assert _organisations() == 0


def test_405_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "not allowed" in response.get_data(as_text=True)


def test_csrf_400_page_html_and_json(client):
    response = client.post("/logout")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    as_json = client.post("/logout", headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and "CSRF" in as_json.get_json()["error"]["message"]


def test_too_large_request_gets_413_page(app, client):
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data={"email": "a@b.test", "password": too_big})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    as_json = client.post("/login", data={"email": too_big}, headers={"Accept": "application/json"})
    assert as_json.status_code == 413 and as_json.get_json()["error"]["code"] == 413


def test_413_on_body_without_form(app, client):
    response = client.post("/logout", data=b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 10),
                           content_type="application/octet-stream")
    assert response.status_code in (400, 413)
    assert response.headers["X-Content-Type-Options"] == "nosniff"

"""Inputs found by the fault drills to answer 500: each must be the client's error (4xx), on both databases."""
from __future__ import annotations

import base64
import json

import pytest

from forum.extensions import db
from forum.models import Thread

DEEP = "[" * 100_000 + "]" * 100_000


def _token(user, scope="write"):
    from forum.services.orgs.tokens import create_token

    return {"Authorization": f"Bearer {create_token(user, 'test', scope)[1]}"}


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": value}).encode()).decode().rstrip("=")


@pytest.fixture()
def member(make):
    user = make.user(make.customer_org())
    space = make.space()
    thread = make.thread(user, space=space, title="A question", body="with a body")
    return {"user": user, "space": space, "thread": thread, "auth": _token(user)}


def _json(client, path, body: str, headers):
    return client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("path", ["/api/v1/threads", "/api/v1/threads/{thread}/replies"])
def test_deeply_nested_json_is_400(client, member, path):
    r = _json(client, path.format(thread=member["thread"].id), DEEP, member["auth"])
    assert r.status_code == 400 and r.json["error"]["code"] == 400


def test_deeply_nested_json_to_preview_is_400(client, member, login):
    login(member["user"])
    from tests.factories import csrf_token_from

    token = csrf_token_from(client.get("/ask").get_data(as_text=True))
    r = client.post("/preview", data=DEEP, headers={"Content-Type": "application/json", "X-CSRFToken": token})
    assert r.status_code == 400


@pytest.mark.parametrize("field", ["title", "body"])
def test_lone_surrogate_in_json_is_400_and_stores_nothing(client, member, field):
    body = {"space_id": member["space"].id, "title": "A fine title", "body": "A fine body"}
    raw = json.dumps(body).replace(json.dumps(body[field]), '"broken \\ud800 text"')
    r = _json(client, "/api/v1/threads", raw, member["auth"])
    assert r.status_code == 400
    r = _json(client, f"/api/v1/threads/{member['thread'].id}/replies", '{"body": "x \\udfff"}', member["auth"])
    assert r.status_code == 400
    assert db.session.execute(db.select(db.func.count(Thread.id))).scalar() == 1


def test_lone_surrogate_bytes_in_a_form_are_not_a_500(client, member, login):
    """A browser cannot send a surrogate, only bytes that are not UTF-8: they must not reach the database."""
    login(member["user"])
    from tests.factories import csrf_token_from

    token = csrf_token_from(client.get("/ask").get_data(as_text=True))
    body = (f"csrf_token={token}&space_id={member['space'].id}&kind=question&title=Broken%ED%A0%80title"
            "&body=text%ED%BF%BF%00body")
    r = client.post("/ask", data=body, content_type="application/x-www-form-urlencoded")
    assert r.status_code < 500


@pytest.mark.parametrize("path", ["/api/v1/threads", "/api/v1/playbooks", "/api/v1/notifications",
                                  "/api/v1/patterns"])
@pytest.mark.parametrize("before", [2**31, 2**31 + 1, 2**63, 10**30])
def test_cursor_beyond_the_integer_range_is_400(client, make, path, before):
    lead = make.employee()  # may see every list, patterns included
    r = client.get(path, query_string={"cursor": _cursor(before)}, headers=_token(lead, "read"))
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/u/%00", "/orgs/%00", "/u/a%00b", "/t/99999999999", "/t/2147483648",
                                  "/api/v1/threads/99999999999"])
def test_nul_and_huge_ids_in_urls_are_4xx(client, member, login, path):
    login(member["user"])
    r = client.get(path)
    assert 400 <= r.status_code < 500, r.status_code


@pytest.mark.parametrize("path", ["/search?q=%00", "/search?q=a%00b&space=99999999999", "/?space=%00",
                                  "/api/v1/search?q=%00", "/api/v1/threads?limit=99999999999999"])
def test_nul_and_huge_numbers_in_query_strings_are_not_5xx(client, member, login, path):
    login(member["user"])
    assert client.get(path, headers=member["auth"] if "/api/" in path else {}).status_code < 500


def test_nul_in_json_is_400(client, member):
    r = _json(client, "/api/v1/threads", json.dumps({"space_id": member["space"].id, "title": "a\x00b",
                                                     "body": "c"}), member["auth"])
    assert r.status_code == 400
    r = _json(client, "/api/v1/threads", json.dumps({"space_id": 2**40, "title": "ab", "body": "c"}),
              member["auth"])
    assert r.status_code in (400, 404)

"""JSON API: tokens and scopes, CSRF only without a token, visibility canaries, pagination, errors, OpenAPI."""
from __future__ import annotations

import re

import pytest

from forum.extensions import db
from forum.models import Visibility
from tests.factories import csrf_token_from

CANARY_INTERNAL = "zqxcanaryinternal"
CANARY_PRIVATE = "zqxcanaryprivate"
CANARY_NOTE = "zqxcanarystaffnote"


def _token(user, scope="read"):
    from forum.services.orgs.tokens import create_token

    return create_token(user, "test", scope)[1]


def _auth(raw):
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture()
def world(make):
    """A customer, another customer's private thread, an internal thread and a public one with a staff note."""
    customer = make.user(make.customer_org())
    other = make.user(make.customer_org())
    staff = make.employee()
    space = make.space()
    public = make.thread(customer, space=space, title="Public question zqxpublic", body="zqxpublic body")
    make.reply(public, staff, body=f"note {CANARY_NOTE}", staff_note=True)
    make.reply(public, staff, body="a visible answer")
    private = make.thread(other, Visibility.ORG_PRIVATE, space=space, title=f"Private {CANARY_PRIVATE}",
                          body=f"{CANARY_PRIVATE} zqxpublic")
    internal = make.thread(staff, Visibility.INTERNAL, space=space, title=f"Internal {CANARY_INTERNAL}",
                           body=f"{CANARY_INTERNAL} zqxpublic")
    return {"customer": customer, "other": other, "staff": staff, "space": space, "public": public,
            "private": private, "internal": internal}


def test_token_read_scope_and_me(client, world):
    raw = _token(world["customer"])
    r = client.get("/api/v1/me", headers=_auth(raw))
    assert r.status_code == 200
    assert r.json["username"] == world["customer"].username and r.json["token_scope"] == "read"
    assert "Set-Cookie" not in r.headers  # a token call never mints a session
    # read scope may not post, even with a perfect body
    r = client.post("/api/v1/threads", headers=_auth(raw),
                    json={"space_id": world["space"].id, "title": "t", "body": "b"})
    assert r.status_code == 403 and r.json["error"]["code"] == 403


def test_unknown_and_revoked_tokens_are_401(client, world):
    from forum.services.orgs.tokens import create_token, revoke_token

    r = client.get("/api/v1/threads", headers=_auth("gw_nope"))
    assert r.status_code == 401 and r.json == {"error": {"code": 401, "message": r.json["error"]["message"]}}
    token, raw = create_token(world["customer"], "x", "write")
    assert client.get("/api/v1/me", headers=_auth(raw)).status_code == 200
    assert not revoke_token(world["other"], token.id)  # not theirs
    assert revoke_token(world["customer"], token.id)
    assert client.get("/api/v1/me", headers=_auth(raw)).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer "}).status_code == 401


def test_tokens_are_stored_hashed(world):
    from forum.services.orgs.tokens import create_token

    token, raw = create_token(world["customer"], "x", "read")
    assert raw not in token.token_hash and len(token.token_hash) == 64


def test_write_token_posts_without_csrf(client, world):
    raw = _token(world["customer"], "write")
    r = client.post("/api/v1/threads", headers=_auth(raw),
                    json={"space_id": world["space"].id, "title": "From the API", "body": "Hello", "tags": ["x"]})
    assert r.status_code == 201, r.json
    thread_id = r.json["id"]
    r = client.post(f"/api/v1/threads/{thread_id}/replies", headers=_auth(raw), json={"body": "Me again"})
    assert r.status_code == 201 and r.json["body"] == "Me again"
    # a customer may not write staff notes, nor reply where they cannot see
    r = client.post(f"/api/v1/threads/{thread_id}/replies", headers=_auth(raw), json={"body": "x", "staff_note": True})
    assert r.status_code == 403
    r = client.post(f"/api/v1/threads/{world['internal'].id}/replies", headers=_auth(raw), json={"body": "x"})
    assert r.status_code == 404
    # domain validation: a customer may not choose internal visibility
    r = client.post("/api/v1/threads", headers=_auth(raw),
                    json={"space_id": world["space"].id, "title": "t", "body": "b", "visibility": "internal"})
    assert r.status_code == 400 and r.json["error"]["field"] == "visibility"


def test_cookie_posts_still_need_csrf(client, login, world):
    login(world["customer"])
    body = {"space_id": world["space"].id, "title": "Session post", "body": "Hello"}
    r = client.post("/api/v1/threads", json=body)
    assert r.status_code == 400 and "error" in r.json
    page = client.get("/account/tokens/")
    token = csrf_token_from(page.get_data(as_text=True))
    r = client.post("/api/v1/threads", json=body, headers={"X-CSRFToken": token})
    assert r.status_code == 201


def test_token_page_creates_shows_once_and_revokes(client, login, world):
    from forum.models import ApiToken

    login(world["customer"])
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    csrf = csrf_token_from(page.get_data(as_text=True))
    r = client.post("/account/tokens/", data={"name": "ci", "scope": "write", "csrf_token": csrf})
    assert r.status_code == 201
    raw = re.search(r"gw_[A-Za-z0-9_-]+", r.get_data(as_text=True)).group(0)
    assert raw not in client.get("/account/tokens/").get_data(as_text=True)
    assert client.get("/api/v1/me", headers=_auth(raw)).json["token_scope"] == "write"
    row = db.session.execute(db.select(ApiToken)).scalar_one()
    assert client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/api/v1/me", headers=_auth(raw)).status_code == 401
    assert client.post("/account/tokens/", data={"name": "", "scope": "admin", "csrf_token": csrf}).status_code == 400


def test_customer_token_never_sees_canaries(client, world):
    raw = _token(world["customer"])
    everything = []
    r = client.get("/api/v1/threads?limit=100", headers=_auth(raw))
    assert r.status_code == 200
    everything.append(r.get_data(as_text=True))
    assert {t["id"] for t in r.json["items"]} == {world["public"].id}
    for thread in ("private", "internal"):
        r = client.get(f"/api/v1/threads/{world[thread].id}", headers=_auth(raw))
        assert r.status_code == 404
        everything.append(r.get_data(as_text=True))
    assert client.get("/api/v1/threads/999999", headers=_auth(raw)).json == r.json
    r = client.get(f"/api/v1/threads/{world['public'].id}", headers=_auth(raw))
    assert [x["body"] for x in r.json["replies"]] == ["a visible answer"]
    everything.append(r.get_data(as_text=True))
    for q in ("zqxpublic", CANARY_INTERNAL, CANARY_PRIVATE):
        r = client.get("/api/v1/search", query_string={"q": q}, headers=_auth(raw))
        assert r.status_code == 200
        everything.append(r.get_data(as_text=True))
    assert client.get("/api/v1/patterns", headers=_auth(raw)).status_code == 404
    text = "\n".join(everything)
    for canary in (CANARY_INTERNAL, CANARY_PRIVATE, CANARY_NOTE):
        assert canary not in text


def test_employee_sees_everything(client, world):
    raw = _token(world["staff"])
    ids = {t["id"] for t in client.get("/api/v1/threads", headers=_auth(raw)).json["items"]}
    assert {world["public"].id, world["private"].id, world["internal"].id} <= ids
    r = client.get(f"/api/v1/threads/{world['public'].id}", headers=_auth(raw))
    assert any(x["is_staff_note"] for x in r.json["replies"])
    assert client.get("/api/v1/patterns", headers=_auth(raw)).status_code == 200


def test_anonymous_callers(app, client, world):
    app.config["PUBLIC_READ"] = False
    for path in ("/api/v1/threads", "/api/v1/search?q=zqxpublic", "/api/v1/openapi.json", "/api/v1/playbooks"):
        assert client.get(path).status_code == 401
    app.config["PUBLIC_READ"] = True
    r = client.get("/api/v1/threads")
    assert r.status_code == 200 and [t["id"] for t in r.json["items"]] == [world["public"].id]
    r = client.get(f"/api/v1/threads/{world['public'].id}")
    assert CANARY_NOTE not in r.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.get("/api/v1/patterns").status_code == 404


def test_cursor_pagination_walks_every_thread_once(client, make):
    user = make.user()
    space = make.space()
    made = {make.thread(user, space=space).id for _ in range(7)}
    raw = _token(user)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        r = client.get("/api/v1/threads", query_string=query, headers=_auth(raw))
        assert r.status_code == 200
        seen += [t["id"] for t in r.json["items"]]
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == made and seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=!!!", "cursor=eyJhIjoxfQ"])
def test_bad_paging_is_a_json_400(client, make, query):
    raw = _token(make.user())
    r = client.get(f"/api/v1/threads?{query}", headers=_auth(raw))
    assert r.status_code == 400 and r.json["error"]["code"] == 400


def test_json_errors_for_bad_bodies(client, world):
    raw = _token(world["customer"], "write")
    for body in (None, [], {"space_id": "x", "title": "t", "body": "b"}, {"space_id": 10**12, "title": "t", "body": "b"}, {"space_id": 2**31, "title": "t", "body": "b"},
                 {"space_id": world["space"].id, "title": "", "body": "b"},
                 {"space_id": world["space"].id, "title": "t", "body": "b", "kind": "nope"}):
        r = client.post("/api/v1/threads", headers=_auth(raw), json=body)
        assert r.status_code == 400 and r.json["error"]["code"] == 400, (body, r.status_code)
    assert client.get("/api/v1/nowhere", headers=_auth(raw)).json["error"]["code"] == 404
    assert client.get(f"/api/v1/threads/{2**40}", headers=_auth(raw)).status_code == 404
    assert client.post(f"/api/v1/threads/{2**40}/replies", headers=_auth(raw), json={"body": "x"}).status_code == 404


def test_notifications_list_and_mark_read(client, world):
    from forum.models import Notification, NotificationKind

    n = Notification(user_id=world["customer"].id, kind=NotificationKind.REPLY, thread_id=world["internal"].id)
    m = Notification(user_id=world["customer"].id, kind=NotificationKind.REPLY, thread_id=world["public"].id)
    db.session.add_all([n, m])
    db.session.commit()
    read, write = _token(world["customer"]), _token(world["customer"], "write")
    r = client.get("/api/v1/notifications", headers=_auth(read))
    assert r.status_code == 200 and CANARY_INTERNAL not in r.get_data(as_text=True)
    assert {i["id"]: i["visible"] for i in r.json["items"]} == {n.id: False, m.id: True}
    assert client.post(f"/api/v1/notifications/{m.id}/read", headers=_auth(read)).status_code == 403
    r = client.post(f"/api/v1/notifications/{m.id}/read", headers=_auth(write))
    assert r.status_code == 200 and r.json["read"] is True
    other = _token(world["other"], "write")
    assert client.post(f"/api/v1/notifications/{m.id}/read", headers=_auth(other)).status_code == 404


def test_a_version_review_item_names_its_version_for_leads_only(client, make):
    """An item about a new catalog version carries the version's id (its review list); a lead who is no
    longer one sees it as not visible."""
    from forum.models import Notification, NotificationKind

    version, lead = make.product_version("Ledger", "2026.1"), make.employee(is_lead=True)
    db.session.add(Notification(user_id=lead.id, kind=NotificationKind.VERSION_REVIEW, product_version_id=version.id))
    db.session.commit()
    raw = _token(lead)
    item = client.get("/api/v1/notifications", headers=_auth(raw)).json["items"][0]
    assert item["visible"] and item["product_version_id"] == version.id and item["title"] == "Ledger 2026.1"
    lead.is_lead = False
    db.session.commit()
    item = client.get("/api/v1/notifications", headers=_auth(raw)).json["items"][0]
    assert not item["visible"] and "product_version_id" not in item


def test_openapi_matches_the_routes(app, client, make):
    from forum.api.openapi import DOCUMENT

    doc = client.get("/api/v1/openapi.json", headers=_auth(_token(make.user()))).json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert doc == DOCUMENT


def test_api_is_rate_limited_per_token(database_url, make):
    from forum import create_app
    from forum.extensions import limiter
    from tests.conftest import base_config

    saved = limiter.enabled
    limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True,
                          "RATELIMIT_API": "3 per minute"})
    try:
        limiter.reset()
        first, second = _token(make.user()), _token(make.user())
        api = limited.test_client()
        for _ in range(3):
            assert api.get("/api/v1/threads", headers=_auth(first)).status_code == 200
        refused = api.get("/api/v1/threads", headers=_auth(first))
        assert refused.status_code == 429 and refused.json["error"]["code"] == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert api.get("/api/v1/threads", headers=_auth(second)).status_code == 200  # its own budget
    finally:
        limiter.reset()
        limiter.enabled = saved


def test_playbooks_follow_their_visibility(client, world):
    from forum.models import Playbook

    db.session.add_all([Playbook(title="Public playbook", author_id=world["staff"].id),
                        Playbook(title=f"Internal {CANARY_INTERNAL}", author_id=world["staff"].id,
                                 visibility=Visibility.INTERNAL)])
    db.session.commit()
    r = client.get("/api/v1/playbooks", headers=_auth(_token(world["customer"])))
    assert [p["title"] for p in r.json["items"]] == ["Public playbook"]
    assert CANARY_INTERNAL not in r.get_data(as_text=True)
    r = client.get("/api/v1/playbooks", headers=_auth(_token(world["staff"])))
    assert len(r.json["items"]) == 2


def test_a_deactivated_users_tokens_stop_working(client, world):
    raw = _token(world["customer"], "write")
    world["customer"].active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=_auth(raw)).status_code == 401

"""CSRF: every state-changing route refuses a missing or foreign token and changes no row.

The routes come from ``app.url_map``, so a route added later is checked without touching this file — or
the test fails, naming the URL argument it cannot fill yet.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Invitation, utcnow
from tests.factories import csrf_token_from

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# Plausible form fields for every form we have: were the token not checked, most of these requests would
# change something, which is what makes "no row changed" meaningful.
FORM_DATA = {
    "title": "CSRF probe title", "body": "CSRF probe body", "name": "CSRF probe", "slug": "csrf-probe",
    "description": "probe", "email": "probe@example.test", "password": "another long passphrase 99",
    "current_password": "correct horse battery staple 42", "new_password": "another long passphrase 99",
    "confirm": "another long passphrase 99", "display_name": "Probe", "username": "probe", "value": "1",
    "deployment": "1", "kind": "customer", "visibility": "public", "space": "1", "tags": "probe",
    "default_visibility": "public", "is_admin": "y", "is_moderator": "y", "active": "", "staff_note": "y",
    "partner": "1", "customer": "1", "product_version": "1", "hosting": "cloud", "environment": "test",
    "reason": "probe", "target": "1", "thread": "1", "thread_id": "1", "into": "1",
    "on": "1", "decision": "resolved", "note": "probe", "confirm_public": "y", "existing": "", "assignee": "1",
    "due_at": "2030-01-01T10:00", "user": "1", "new_user_hours": "1", "new_user_max_threads": "1",
    "new_user_max_links": "1", "detail": "probe",
}


def _world(make) -> tuple[object, dict[str, object]]:
    """Rows for every kind of URL argument; returns the admin who probes and the argument values."""
    from forum.models import Pattern, Playbook

    customer, partner = make.customer_org(), make.partner_org()
    engagement = make.engage(partner, customer)
    admin = make.employee(is_admin=True, is_moderator=True)
    asker = make.user(customer, is_org_admin=True)
    deployment = make.deployment(customer)
    space = make.space()
    thread = make.thread(asker, space=space)
    reply = make.reply(thread, make.user(partner))
    invitation = Invitation(token_hash="0" * 64, organisation_id=customer.id, created_by_id=admin.id,
                            expires_at=utcnow() + timedelta(days=3))
    patterns = [Pattern(name="Probe pattern"), Pattern(name="Other pattern")]
    db.session.add_all([invitation, *patterns])
    db.session.flush()
    playbook = Playbook(pattern_id=patterns[0].id, title="Probe playbook", author_id=admin.id)
    db.session.add(playbook)
    from forum.models import Flag, FlagReason, SpaceModerator

    flag = Flag(thread_id=thread.id, reporter_id=asker.id, reason=FlagReason.SPAM)
    space_moderator = SpaceModerator(space_id=space.id, user_id=admin.id)
    db.session.add_all([flag, space_moderator])
    db.session.commit()
    version = deployment.product_version
    values = {
        "thread_id": thread.id, "reply_id": reply.id, "slug": customer.slug, "deployment_id": deployment.id,
        "invitation_id": invitation.id, "engagement_id": engagement.id, "organisation_id": customer.id,
        "product_id": version.product_id, "version_id": version.id, "space_id": space.id, "user_id": asker.id,
        "token": "an-invitation-token-from-somewhere", "pattern_id": patterns[0].id,
        "playbook_id": playbook.id, "flag_id": flag.id, "space_moderator_id": space_moderator.id,
        "notification_id": 1, "token_id": 1,  # API: refused before the row is looked up
        "attachment_id": 1, "name": "file.log",  # refused (or sent to log in) before the file is looked up
        "conversation_id": 1, "report_id": 1, "username": asker.username, "sha": "0" * 64,
        "device_id": 1, "webhook_id": 1, "provider_id": 1,
        "message_id": 1, "bookmark_id": 1,  # admins only / the owner only: looked up after the guard
    }
    return admin, values


def _snapshot() -> dict[str, list]:
    """Every row of every table, so "no row changed" means exactly that."""
    with db.engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in db.metadata.sorted_tables}


def _state_changing_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if r.methods & STATE_CHANGING), key=lambda r: r.rule)


def test_every_state_changing_route_refuses_missing_and_foreign_tokens(app, client, make, login):
    admin, values = _world(make)
    login(admin)
    # A token minted for another browser session (an anonymous one here).
    stranger = app.test_client()
    foreign_token = csrf_token_from(stranger.get("/login").get_data(as_text=True))
    # Our own token really works, so the refusals below are about the token, not the session.
    own_token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert own_token != foreign_token

    rules = _state_changing_rules(app)
    assert len(rules) >= 20, "fewer state-changing routes than the forum has: is the url_map loaded?"
    unfilled = sorted({arg for r in rules for arg in r.arguments if arg not in values})
    assert not unfilled, f"test_csrf needs a value for URL arguments {unfilled} (add it to _world)"

    before = _snapshot()
    failures, tried = [], 0
    for rule in rules:
        url = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & STATE_CHANGING):
            for label, extra in (("no token", {}), ("foreign token", {"csrf_token": foreign_token})):
                response = client.open(url, method=method, data={**FORM_DATA, **extra})
                tried += 1
                if response.status_code != 400:
                    failures.append(f"{method} {url} with {label}: {response.status_code}")
            response = client.open(url, method=method, json={"body": "probe"},
                                   headers={"X-CSRFToken": foreign_token})
            tried += 1
            if response.status_code != 400:
                failures.append(f"{method} {url} as JSON with a foreign X-CSRFToken: {response.status_code}")
    after = _snapshot()
    changed = {name: (len(before[name]), len(after[name])) for name in before if before[name] != after[name]}
    print(f"CSRF: {len(rules)} state-changing routes, {tried} forged requests")
    assert not failures, "routes that accepted a forged request:\n" + "\n".join(failures)
    assert not changed, f"tables changed by refused requests (rows before, after): {changed}"
    # Still signed in: the refused logout did not sign us out.
    assert client.get("/").status_code == 200


def test_the_same_post_with_the_right_token_goes_through(app, client, make, login):
    """Control: the refusals above come from the token, not from a broken form or route."""
    admin, values = _world(make)
    login(admin)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post(f"/t/{values['thread_id']}/reply", data={"body": "With a token", "csrf_token": token})
    assert response.status_code in (302, 303)
    response = client.post("/preview", json={"body": "*hi*"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and "<em>hi</em>" in response.get_json()["html"]

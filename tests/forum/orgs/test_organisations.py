"""Organisation pages, deployment profiles and invitation links, through the real HTTP routes."""
from __future__ import annotations

import re
from datetime import date

import pytest

from forum.extensions import db
from forum.models import Deployment, Environment, Hosting, Invitation, User
from tests.factories import Factory, csrf_token_from


def _page(client, url: str) -> str:
    """GET a page's HTML."""
    return client.get(url).get_data(as_text=True)


def _post(client, page_url: str, data: dict, url: str | None = None):
    """Submit a form the way a browser does: fetch the page for its CSRF token, then post."""
    token = csrf_token_from(_page(client, page_url))
    return client.post(url or page_url, data={**data, "csrf_token": token})


@pytest.fixture()
def world(make):
    """Customer A with a deployment, customer B, a partner engaged with A, one not engaged, the vendor."""
    a, b = make.customer_org("Acme Corp"), make.customer_org("Brix Ltd")
    engaged, other = make.partner_org("Engaged Partners"), make.partner_org("Other Partners")
    make.engage(engaged, a)
    deployment = make.deployment(a, name="Acme EU production")
    users = {
        "customer": make.user(a),
        "org_admin": make.user(a, is_org_admin=True),
        "other_customer": make.user(b),
        "other_org_admin": make.user(b, is_org_admin=True),
        "engaged_partner": make.user(engaged),
        "engaged_partner_admin": make.user(engaged, is_org_admin=True),
        "other_partner": make.user(other),
        "employee": make.employee(),
        "admin": make.employee(is_admin=True),
    }
    return {"a": a, "b": b, "engaged": engaged, "other": other, "deployment": deployment, **users}


# Who sees customer A's deployments, and who may change them: (view, edit).
DEPLOYMENT_POLICY = {
    "customer": (True, False),
    "org_admin": (True, True),
    "other_customer": (False, False),
    "other_org_admin": (False, False),
    "engaged_partner": (True, False),
    "engaged_partner_admin": (True, False),
    "other_partner": (False, False),
    "employee": (True, True),
    "admin": (True, True),
}


def test_organisation_pages_need_sign_in(client, world):
    for url in ("/orgs/", f"/orgs/{world['a'].slug}", f"/orgs/{world['a'].slug}/deployments/new",
                f"/orgs/{world['a'].slug}/deployments/{world['deployment'].id}/edit",
                f"/orgs/{world['a'].slug}/invitations"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", list(DEPLOYMENT_POLICY))
def test_deployment_view_and_edit_policy(client, login, world, role):
    may_view, may_edit = DEPLOYMENT_POLICY[role]
    login(world[role])
    a, deployment = world["a"], world["deployment"]
    edit_url = f"/orgs/{a.slug}/deployments/{deployment.id}/edit"

    page = client.get(f"/orgs/{a.slug}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert ("Acme EU production" in html) is may_view
    assert (edit_url in html) is may_edit
    assert (f"/orgs/{a.slug}/deployments/new" in html) is may_edit

    expected = 200 if may_edit else (403 if may_view else 404)
    assert client.get(edit_url).status_code == expected
    assert client.get(f"/orgs/{a.slug}/deployments/new").status_code == expected
    assert client.get(f"/orgs/{a.slug}/deployments/{deployment.id}/delete").status_code == expected

    # A forged POST (valid CSRF token from a page the user may see) changes nothing unless allowed.
    token = csrf_token_from(_any_form_page(client, world[role]))
    data = _deployment_data(deployment.product_version_id, name="Renamed")
    response = client.post(edit_url, data={**data, "csrf_token": token})
    assert response.status_code == (302 if may_edit else expected), response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    assert (db.session.get(Deployment, deployment.id).name == "Renamed") is may_edit


def _any_form_page(client, user) -> str:
    """A page with a CSRF token that every signed-in user can open (the logout form in the header)."""
    return _page(client, f"/orgs/{user.organisation.slug}")


def _deployment_data(product_version_id: int, **overrides) -> dict:
    data = {
        "name": "Acme EU production", "product_version": str(product_version_id), "edition": "Enterprise",
        "hosting": "hybrid", "database": "PostgreSQL 16", "operating_system": "RHEL 9",
        "topology": "HA pair", "integrations": " SAP, ldap ,  Active   Directory,sap,, ", "environment": "test",
        "go_live": "2026-03-01", "size_users": "1200",
    }
    data.update(overrides)
    return data


def test_deployment_edit_is_404_for_another_organisations_deployment(client, login, world, make):
    b_deployment = make.deployment(world["b"])
    login(world["org_admin"])
    # Customer A's admin addressing B's deployment through A's slug: not theirs, so it is "missing".
    assert client.get(f"/orgs/{world['a'].slug}/deployments/{b_deployment.id}/edit").status_code == 404
    assert client.get(f"/orgs/{world['b'].slug}/deployments/{b_deployment.id}/edit").status_code == 404


def test_org_admin_creates_a_deployment_with_normalised_fields(client, login, world, make):
    v2 = make.product_version("Ledger", "2.0")
    make.product_version("Vault", "5.1")
    login(world["org_admin"])
    url = f"/orgs/{world['a'].slug}/deployments/new"
    form_html = client.get(url).get_data(as_text=True)
    assert '<optgroup label="Ledger">' in form_html and '<optgroup label="Vault">' in form_html
    assert 'list="topology-suggestions"' in form_html and 'value="HA pair"' in form_html

    response = _post(client, url, _deployment_data(v2.id, name="  Acme test  "))
    assert response.status_code == 302
    created = db.session.execute(db.select(Deployment).filter_by(name="Acme test")).scalar_one()
    assert created.organisation_id == world["a"].id
    assert created.product_version_id == v2.id
    assert created.integrations == ["sap", "ldap", "active directory"]
    assert created.hosting is Hosting.HYBRID and created.environment is Environment.TEST
    assert created.go_live == date(2026, 3, 1) and created.size_users == 1200
    assert created.topology == "HA pair"


@pytest.mark.parametrize("overrides, field_message", [
    ({"size_users": "-1"}, "A number of users from 0 to 10,000,000."),
    ({"size_users": "many"}, "Not a valid integer value"),
    ({"go_live": "next spring"}, "Not a valid date value"),
    ({"product_version": "999999"}, "Not a valid choice"),
    ({"hosting": "mainframe"}, "Not a valid choice"),
    ({"name": ""}, "This field is required"),
    ({"integrations": "x" * 41}, "at most 40 characters"),
])
def test_bad_deployment_input_is_a_form_error(client, login, world, overrides, field_message):
    login(world["org_admin"])
    url = f"/orgs/{world['a'].slug}/deployments/new"
    before = db.session.execute(db.select(db.func.count(Deployment.id))).scalar_one()
    response = _post(client, url, _deployment_data(world["deployment"].product_version_id,
                                                   **{"name": "New", **overrides}))
    assert response.status_code == 200
    assert field_message in response.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Deployment.id))).scalar_one() == before


def test_size_zero_and_empty_optional_fields_are_accepted(client, login, world):
    login(world["employee"])
    url = f"/orgs/{world['a'].slug}/deployments/new"
    data = {"name": "Minimal", "product_version": str(world["deployment"].product_version_id),
            "hosting": "cloud", "environment": "production", "size_users": "0"}
    assert _post(client, url, data).status_code == 302
    created = db.session.execute(db.select(Deployment).filter_by(name="Minimal")).scalar_one()
    assert created.size_users == 0 and created.integrations == [] and created.go_live is None


def test_editing_a_deployment_leaves_thread_snapshots_alone(client, login, world, make):
    deployment = world["deployment"]
    thread = make.thread(world["customer"], deployment_id=deployment.id, deployment_snapshot=deployment.snapshot())
    v9 = make.product_version("Ledger", "9.0")
    login(world["org_admin"])
    url = f"/orgs/{world['a'].slug}/deployments/{deployment.id}/edit"
    assert 'value="Acme EU production"' in client.get(url).get_data(as_text=True)
    assert _post(client, url, _deployment_data(v9.id)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Deployment, deployment.id).product_version.name == "9.0"
    assert thread.deployment_snapshot["version"] == "1.0"


def test_deleting_a_deployment_asks_first_and_keeps_thread_snapshots(client, login, world, make):
    deployment = world["deployment"]
    deployment_id = deployment.id
    thread = make.thread(world["customer"], deployment_id=deployment_id, deployment_snapshot=deployment.snapshot())
    login(world["org_admin"])
    url = f"/orgs/{world['a'].slug}/deployments/{deployment_id}/delete"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "1 thread mentions this deployment" in confirm.get_data(as_text=True)
    assert db.session.get(Deployment, deployment_id) is not None  # GET changed nothing
    assert _post(client, url, {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Deployment, deployment_id) is None
    db.session.refresh(thread)
    assert thread.deployment_id is None and thread.deployment_snapshot["name"] == "Acme EU production"


def test_organisation_page_lists_engagements_both_ways(client, login, world):
    login(world["other_customer"])
    customer_page = client.get(f"/orgs/{world['a'].slug}").get_data(as_text=True)
    assert "Engaged partners" in customer_page and "Engaged Partners" in customer_page
    assert "Other Partners" not in customer_page
    partner_page = client.get(f"/orgs/{world['engaged'].slug}").get_data(as_text=True)
    assert "Engaged customers" in partner_page and "Acme Corp" in partner_page


def test_directory_filters_by_kind_and_paginates(client, login, make, app):
    app.config["PAGE_SIZE"] = 5
    for n in range(7):
        make.customer_org(f"Customer {n:02d}")
    make.partner_org("Only Partner")
    login(make.user(make.customer_org("Zulu Customer")))
    partners = client.get("/orgs/?kind=partner").get_data(as_text=True)
    assert "Only Partner" in partners and "Customer 00" not in partners
    first = client.get("/orgs/?kind=customer").get_data(as_text=True)
    assert "Customer 00" in first and "Page 1 of 2" in first and "kind=customer" in first
    second = client.get("/orgs/?kind=customer&page=2").get_data(as_text=True)
    assert "Zulu Customer" in second and "Customer 00" not in second
    assert client.get("/orgs/?kind=nonsense&page=999").status_code == 200


def test_members_are_paginated(client, login, make):
    org = make.customer_org("Big Customer")
    for n in range(52):
        make.user(org, display_name=f"Member {n:02d}")
    login(make.user(org, display_name="ZZ Viewer"))
    first = client.get(f"/orgs/{org.slug}").get_data(as_text=True)
    assert "Members <span class=\"muted\">(53)</span>" in first and "Member 00" in first
    assert "Member 50" not in first and "page=2" in first
    assert "Member 50" in client.get(f"/orgs/{org.slug}?page=2").get_data(as_text=True)


# --- invitations ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [
    ("org_admin", 200), ("admin", 200), ("customer", 403), ("other_org_admin", 403), ("employee", 403),
    ("engaged_partner_admin", 403),
])
def test_who_may_invite_into_customer_a(client, login, world, role, status):
    login(world[role])
    url = f"/orgs/{world['a'].slug}/invitations"
    assert client.get(url).status_code == status
    token = csrf_token_from(_any_form_page(client, world[role]))
    response = client.post(url, data={"email": "", "csrf_token": token})
    assert response.status_code == status
    count = db.session.execute(db.select(db.func.count(Invitation.id))).scalar_one()
    assert count == (1 if status == 200 else 0)


def _link_from(html: str) -> str:
    match = re.search(r'id="new-link" readonly value="([^"]+)"', html)
    assert match, "no invitation link shown"
    return match.group(1)


def test_invitation_link_registers_into_the_right_organisation(app, client, login, world):
    login(world["org_admin"])
    page = _post(client, f"/orgs/{world['a'].slug}/invitations",
                 {"email": "New.Person@Example.test", "grants_org_admin": "y"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    link = _link_from(page.get_data(as_text=True))
    assert link.startswith("http://forum.test/register/")
    listing = client.get(f"/orgs/{world['a'].slug}/invitations").get_data(as_text=True)
    assert "new.person@example.test" in listing and link not in listing  # the link is shown once only

    newcomer = app.test_client()
    path = link.removeprefix("http://forum.test")
    token = csrf_token_from(_page(newcomer, path))
    response = newcomer.post(path, data={
        "email": "new.person@example.test", "username": "newperson", "display_name": "New Person",
        "password": Factory.PASSWORD, "confirm": Factory.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    user = db.session.execute(db.select(User).filter_by(username="newperson")).scalar_one()
    assert user.organisation_id == world["a"].id and user.is_org_admin
    assert "No pending invitations" in client.get(f"/orgs/{world['a'].slug}/invitations").get_data(as_text=True)


def test_revoked_invitation_link_stops_working(app, client, login, world):
    login(world["admin"])
    url = f"/orgs/{world['b'].slug}/invitations"
    link = _link_from(_post(client, url, {"email": ""}).get_data(as_text=True))
    invitation = db.session.execute(db.select(Invitation)).scalar_one()
    assert invitation.organisation_id == world["b"].id and not invitation.grants_org_admin
    response = _post(client, url, {}, url=f"{url}/{invitation.id}/revoke")
    assert response.status_code == 302
    assert db.session.execute(db.select(db.func.count(Invitation.id))).scalar_one() == 0
    assert app.test_client().get(link.removeprefix("http://forum.test")).status_code == 404


def test_invitation_of_another_org_cannot_be_revoked_through_mine(client, login, world, make):
    from forum.services.orgs.accounts import create_invitation

    invitation, _token = create_invitation(world["b"], world["other_org_admin"])
    login(world["org_admin"])
    token = csrf_token_from(_any_form_page(client, world["org_admin"]))
    response = client.post(f"/orgs/{world['a'].slug}/invitations/{invitation.id}/revoke",
                           data={"csrf_token": token})
    assert response.status_code == 404
    assert db.session.get(Invitation, invitation.id) is not None


def test_invitation_email_is_validated(client, login, world):
    login(world["org_admin"])
    response = _post(client, f"/orgs/{world['a'].slug}/invitations", {"email": "not an email"})
    assert "Enter a valid email address." in response.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Invitation.id))).scalar_one() == 0


def _queries(client, url: str) -> int:
    from sqlalchemy import event

    client.get(url)  # warm-up
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)
    return len(statements)


def test_directory_and_organisation_page_queries_do_not_grow_with_the_data(client, login, make):
    org = make.customer_org("Growing Customer")
    partner = make.partner_org("Growing Partner")
    make.engage(partner, org)
    make.deployment(org)
    from forum.services.orgs.accounts import create_invitation

    create_invitation(org, make.user(org, is_org_admin=True))  # the list and its creators are loaded
    login(make.employee(is_admin=True))
    urls = ["/orgs/", f"/orgs/{org.slug}", f"/orgs/{partner.slug}", f"/orgs/{org.slug}/invitations"]
    before = [_queries(client, url) for url in urls]
    for n in range(8):
        other = make.customer_org(f"More {n}")
        make.user(other)
        make.engage(partner, other)
        make.deployment(org, product_version=make.product_version(f"Product {n}", "1.0"))
        make.user(org)
        create_invitation(org, make.user(org, is_org_admin=True))
    assert [_queries(client, url) for url in urls] == before


def test_names_and_descriptions_come_back_inert(client, login, make):
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><svg onload=alert(3)>'
    org = make.customer_org(name="Evil " + payload)
    org.description = "About " + payload
    db.session.commit()
    deployment = make.deployment(org, name=("Dep " + payload)[:80], topology=payload[:60],
                                 integrations=["<b>x</b>"])
    admin = make.employee(is_admin=True, display_name="Admin " + payload[:60])
    login(admin)
    for url in ("/orgs/", f"/orgs/{org.slug}", f"/orgs/{org.slug}/deployments/{deployment.id}/edit",
                "/admin/organisations", f"/admin/organisations/{org.id}", "/admin/users",
                f"/orgs/{org.slug}/invitations"):
        html = _page(client, url)
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html, url
        assert "<b>x</b>" not in html, url


def test_unknown_organisation_is_404(client, login, make):
    login(make.user())
    assert client.get("/orgs/no-such-org").status_code == 404
    assert client.get("/orgs/no-such-org/invitations").status_code == 404
    assert client.get("/orgs/no-such-org/deployments/new").status_code == 404

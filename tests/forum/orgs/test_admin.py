"""Admin pages through the real HTTP routes: who may enter, the catalog, organisations, engagements,
spaces and user flags."""
from __future__ import annotations

from datetime import date

import pytest

from forum.extensions import db
from forum.models import Engagement, Organisation, OrgKind, Product, ProductVersion, Space, User, Visibility
from tests.factories import csrf_token_from

GET_PAGES = ["/admin/", "/admin/products", "/admin/products/new", "/admin/organisations",
             "/admin/organisations/new", "/admin/engagements", "/admin/spaces", "/admin/spaces/new",
             "/admin/users"]


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _post(client, page_url: str, data: dict, url: str | None = None):
    token = csrf_token_from(_page(client, page_url))
    return client.post(url or page_url, data={**data, "csrf_token": token})


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count(model.id))).scalar_one()


@pytest.fixture()
def admin(make, login):
    user = make.employee(is_admin=True, display_name="Ada Admin")
    login(user)
    return user


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in GET_PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("who", ["customer", "customer_org_admin", "partner", "employee", "moderator", "lead"])
def test_signed_in_non_admins_get_403(client, login, make, who):
    user = {
        "customer": lambda: make.user(make.customer_org()),
        "customer_org_admin": lambda: make.user(make.customer_org(), is_org_admin=True),
        "partner": lambda: make.user(make.partner_org()),
        "employee": lambda: make.employee(),
        "moderator": lambda: make.employee(is_moderator=True),
        "lead": lambda: make.employee(is_lead=True),
    }[who]()
    target = make.customer_org()
    login(user)
    for url in GET_PAGES + [f"/admin/organisations/{target.id}", f"/admin/users/{user.id}"]:
        assert client.get(url).status_code == 403, url
    # POSTs are refused too (a valid token from a page the user may see) and change nothing.
    token = csrf_token_from(_page(client, f"/orgs/{user.organisation.slug}"))
    response = client.post(f"/admin/users/{user.id}", data={"is_admin": "y", "csrf_token": token})
    assert response.status_code == 403
    response = client.post("/admin/organisations/new", data={"name": "Sneaky", "kind": "vendor",
                                                             "csrf_token": token})
    assert response.status_code == 403
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_admin
    assert db.session.execute(db.select(Organisation).filter_by(name="Sneaky")).first() is None


def test_every_admin_page_renders_for_an_admin(client, admin, make):
    product = make.product_version("Ledger", "1.0").product
    org = make.partner_org()
    space = make.space()
    for url in GET_PAGES + [f"/admin/products/{product.id}", f"/admin/products/{product.id}/versions/new",
                            f"/admin/versions/{product.versions[0].id}", f"/admin/organisations/{org.id}",
                            f"/admin/spaces/{space.id}", f"/admin/users/{admin.id}"]:
        _page(client, url)
    assert client.get("/admin/products/999999").status_code == 404


# --- catalog -------------------------------------------------------------------------------------

def test_products_and_versions(client, admin):
    response = _post(client, "/admin/products/new", {"name": "Ledger Cloud", "description": "Books"})
    assert response.status_code == 302
    product = db.session.execute(db.select(Product).filter_by(name="Ledger Cloud")).scalar_one()
    assert product.slug == "ledger-cloud"

    duplicate = _post(client, "/admin/products/new", {"name": "ledger cloud"})
    assert "A product called &#39;ledger cloud&#39; already exists." in duplicate.get_data(as_text=True)
    bad_slug = _post(client, "/admin/products/new", {"name": "Vault", "slug": "Not A Slug!"})
    assert "A slug is lowercase letters" in bad_slug.get_data(as_text=True)
    assert _count(Product) == 1

    new_version = f"/admin/products/{product.id}/versions/new"
    assert _post(client, new_version, {"name": "2.0", "released_on": "2026-02-01"}).status_code == 302
    assert _post(client, new_version, {"name": "1.0", "position": "0"}).status_code == 302
    assert _post(client, new_version, {"name": "3.0"}).status_code == 302
    clash = _post(client, new_version, {"name": "2.0"})
    assert "already has a version &#39;2.0&#39;" in clash.get_data(as_text=True)
    db.session.expire_all()
    versions = db.session.get(Product, product.id).versions
    assert [v.name for v in versions] == ["1.0", "2.0", "3.0"]  # order by position
    assert versions[1].released_on == date(2026, 2, 1)

    # Re-order: 3.0 goes first; the product page lists versions in that order.
    v3 = versions[2]
    assert _post(client, f"/admin/versions/{v3.id}", {"name": "3.0", "position": "-1"}).status_code == 200
    assert _post(client, f"/admin/versions/{v3.id}", {"name": "3.0 LTS", "position": "0",
                                                      "released_on": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProductVersion, v3.id).name == "3.0 LTS"
    reordered = db.session.get(Product, product.id).versions
    assert [(v.name, v.position) for v in reordered] == [("3.0 LTS", 0), ("1.0", 1), ("2.0", 2)]
    html = _page(client, f"/admin/products/{product.id}")
    assert html.index("3.0 LTS") < html.index("2.0")


def test_version_choices_are_grouped_by_product_on_the_deployment_form(client, admin, make):
    make.product_version("Ledger", "1.0")
    make.product_version("Vault", "5.0")
    org = make.customer_org()
    html = _page(client, f"/orgs/{org.slug}/deployments/new")
    assert '<optgroup label="Ledger"><option value="' in html and ">Vault 5.0</option>" in html


# --- organisations and engagements ---------------------------------------------------------------

def test_create_and_edit_organisations(client, admin):
    assert _post(client, "/admin/organisations/new", {"name": "Acme GmbH & Co.", "kind": "customer"}).status_code == 302
    assert _post(client, "/admin/organisations/new", {"name": "Acme GmbH, Co", "kind": "partner"}).status_code == 302
    first, second = db.session.execute(
        db.select(Organisation).where(Organisation.name.like("Acme%")).order_by(Organisation.id)).scalars()
    assert (first.slug, first.kind) == ("acme-gmbh-co", OrgKind.CUSTOMER)
    assert (second.slug, second.kind) == ("acme-gmbh-co-2", OrgKind.PARTNER)

    duplicate = _post(client, "/admin/organisations/new", {"name": "ACME GMBH & CO.", "kind": "customer"})
    assert "already exists" in duplicate.get_data(as_text=True)
    bad_kind = _post(client, "/admin/organisations/new", {"name": "Odd", "kind": "reseller"})
    assert "Not a valid choice" in bad_kind.get_data(as_text=True)

    edit = f"/admin/organisations/{first.id}"
    clash = _post(client, edit, {"name": "Acme GmbH, Co", "description": ""})
    assert "already exists" in clash.get_data(as_text=True)
    assert _post(client, edit, {"name": "Acme Renamed", "description": "Makes anvils."}).status_code == 302
    db.session.expire_all()
    renamed = db.session.get(Organisation, first.id)
    assert (renamed.name, renamed.description, renamed.slug) == ("Acme Renamed", "Makes anvils.", "acme-gmbh-co")
    assert renamed.kind is OrgKind.CUSTOMER
    assert _count(Organisation) == 3  # the two above and the vendor


def test_organisation_list_filters_and_paginates(client, admin, make, app):
    app.config["PAGE_SIZE"] = 3
    for n in range(4):
        make.customer_org(f"Cust {n}")
    make.partner_org("Part Only")
    assert "Part Only" in _page(client, "/admin/organisations?kind=partner")
    first = _page(client, "/admin/organisations?kind=customer")
    assert "Page 1 of 2" in first and "kind=customer" in first
    assert "Cust 3" in _page(client, "/admin/organisations?kind=customer&page=2")
    searched = _page(client, "/admin/organisations?q=cust+2")
    assert "Cust 2" in searched and "Cust 1" not in searched


@pytest.mark.parametrize("pair, message", [
    (("customer", "customer"), "The first organisation must be a partner firm."),
    (("partner", "partner"), "The second organisation must be a customer."),
    (("customer", "partner"), "The first organisation must be a partner firm."),
    (("vendor", "customer"), "The first organisation must be a partner firm."),
    (("partner", "vendor"), "The second organisation must be a customer."),
])
def test_engagement_must_be_partner_to_customer(client, admin, make, pair, message):
    orgs = {"customer": make.customer_org(), "partner": make.partner_org(), "vendor": make.vendor_org()}
    second = {"customer": make.customer_org(), "partner": make.partner_org(), "vendor": make.vendor_org()}
    response = _post(client, "/admin/engagements", {"partner": orgs[pair[0]].id, "customer": second[pair[1]].id})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(Engagement) == 0


def test_add_and_remove_engagements(client, admin, make):
    partner, customer = make.partner_org("Fixers"), make.customer_org("Needers")
    assert _post(client, "/admin/engagements", {"partner": partner.id, "customer": customer.id}).status_code == 302
    again = _post(client, "/admin/engagements", {"partner": partner.id, "customer": customer.id})
    assert "Fixers is already engaged with Needers." in again.get_data(as_text=True)
    missing = _post(client, "/admin/engagements", {"partner": "0", "customer": customer.id})
    assert "Choose a partner firm." in missing.get_data(as_text=True)
    junk = _post(client, "/admin/engagements", {"partner": "abc", "customer": customer.id})
    assert junk.status_code == 200
    assert _count(Engagement) == 1

    engagement = db.session.execute(db.select(Engagement)).scalar_one()
    listing = _page(client, "/admin/engagements")
    assert "Fixers" in listing and f"/admin/engagements/{engagement.id}/delete" in listing
    assert "Fixers" in _page(client, f"/admin/organisations/{customer.id}")
    response = _post(client, "/admin/engagements", {}, url=f"/admin/engagements/{engagement.id}/delete")
    assert response.status_code == 302 and _count(Engagement) == 0


def test_removing_an_engagement_hides_org_private_threads_at_once(client, login, make, app):
    from forum.services.orgs.organisations import remove_engagement

    partner, customer = make.partner_org(), make.customer_org()
    engagement = make.engage(partner, customer)
    thread = make.thread(make.user(customer), visibility=Visibility.ORG_PRIVATE, title="Private matter")
    partner_user = make.user(partner)
    login(partner_user)
    assert client.get(f"/t/{thread.id}").status_code == 200
    remove_engagement(engagement)
    assert client.get(f"/t/{thread.id}").status_code == 404


# --- spaces --------------------------------------------------------------------------------------

def test_spaces(client, admin):
    assert _post(client, "/admin/spaces/new", {"name": "Installation & upgrades", "description": "How-to",
                                               "default_visibility": "public"}).status_code == 302
    assert _post(client, "/admin/spaces/new", {"name": "Staff room", "slug": "staff",
                                               "default_visibility": "internal", "position": "0"}).status_code == 302
    install = db.session.execute(db.select(Space).filter_by(name="Installation & upgrades")).scalar_one()
    assert install.slug == "installation-upgrades" and install.position == 0
    assert _page(client, "/admin/spaces").index("Installation") < _page(client, "/admin/spaces").index("Staff")

    for data, message in [
        ({"name": "installation & UPGRADES", "default_visibility": "public"}, "already exists"),
        ({"name": "Other", "slug": "staff", "default_visibility": "public"}, "already taken"),
        ({"name": "Other", "slug": "-bad--slug", "default_visibility": "public"}, "A slug is lowercase"),
        ({"name": "Other", "default_visibility": "secret"}, "Not a valid choice"),
        ({"name": "", "default_visibility": "public"}, "This field is required"),
    ]:
        assert message in _post(client, "/admin/spaces/new", data).get_data(as_text=True), data
    assert _count(Space) == 2

    edit = f"/admin/spaces/{install.id}"
    assert 'value="public" selected' in _page(client, edit) or 'selected value="public"' in _page(client, edit)
    assert _post(client, edit, {"name": "Installing", "slug": "", "description": "New words",
                                "default_visibility": "org_private", "position": "5"}).status_code == 302
    db.session.expire_all()
    space = db.session.get(Space, install.id)
    assert (space.name, space.slug, space.default_visibility, space.position) == (
        "Installing", "installation-upgrades", Visibility.ORG_PRIVATE, 5)


# --- users ---------------------------------------------------------------------------------------

def _flags(**on) -> dict:
    return {name: "y" for name, value in on.items() if value}


def test_lead_moderator_and_admin_are_for_employees_only(client, admin, make):
    customer = make.user(make.customer_org("Cust Inc"))
    partner = make.user(make.partner_org())
    for user in (customer, partner):
        for flag in ("is_lead", "is_moderator", "is_admin"):
            response = _post(client, f"/admin/users/{user.id}", _flags(**{flag: True}))
            assert response.status_code == 200
            assert "Only employees (people of the vendor organisation) can be" in response.get_data(as_text=True)
        db.session.expire_all()
        fresh = db.session.get(User, user.id)
        assert not (fresh.is_lead or fresh.is_moderator or fresh.is_admin or fresh.is_org_admin)

    assert _post(client, f"/admin/users/{customer.id}", _flags(is_org_admin=True)).status_code == 302
    employee = make.employee()
    assert _post(client, f"/admin/users/{employee.id}",
                 _flags(is_lead=True, is_moderator=True)).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, customer.id).is_org_admin
    fresh = db.session.get(User, employee.id)
    assert fresh.is_lead and fresh.is_moderator and not fresh.is_admin


def test_admin_cannot_remove_their_own_admin_flag_or_deactivate_themselves(client, admin):
    response = _post(client, f"/admin/users/{admin.id}", _flags(is_lead=True))
    assert "You cannot remove your own admin rights" in response.get_data(as_text=True)
    response = _post(client, f"/admin/users/{admin.id}", {"active": "0"}, url=f"/admin/users/{admin.id}/active")
    assert response.status_code == 302
    db.session.expire_all()
    fresh = db.session.get(User, admin.id)
    assert fresh.is_admin and fresh.active and not fresh.is_lead


def test_deactivation_revokes_sessions_and_reactivation_allows_sign_in(app, client, admin, make, login):
    victim = make.user(make.customer_org())
    victim_client = app.test_client()
    login(victim, victim_client)
    assert victim_client.get("/orgs/").status_code == 200

    response = _post(client, f"/admin/users/{victim.id}", {"active": "0"}, url=f"/admin/users/{victim.id}/active")
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, victim.id).active
    replay = victim_client.get("/orgs/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    assert "deactivated" in _page(client, f"/admin/users/{victim.id}")

    _post(client, f"/admin/users/{victim.id}", {"active": "1"}, url=f"/admin/users/{victim.id}/active")
    db.session.expire_all()
    assert db.session.get(User, victim.id).active
    # The old cookie stays dead (its session version was bumped); a fresh sign-in works.
    assert victim_client.get("/orgs/").status_code == 302
    fresh_client = app.test_client()
    login(victim, fresh_client)
    assert fresh_client.get("/orgs/").status_code == 200


def test_user_list_searches_and_paginates(client, admin, make, app):
    app.config["PAGE_SIZE"] = 4
    org = make.customer_org("Searchable Org")
    for n in range(6):
        make.user(org, display_name=f"Person {n}", email=f"person{n}@acme.test")
    make.user(org, display_name="Zed Unique", email="zed@elsewhere.test")
    first = _page(client, "/admin/users")
    assert "Page 1 of 2" in first
    assert "Zed Unique" in _page(client, "/admin/users?page=2")
    by_email = _page(client, "/admin/users?q=ELSEWHERE")
    assert "Zed Unique" in by_email and "Person 1" not in by_email
    wildcard = _page(client, "/admin/users?q=%25")  # a literal "%" matches nobody, not everybody
    assert "No users match." in wildcard
    paged_search = _page(client, "/admin/users?q=acme.test")
    assert "Page 1 of 2" in paged_search and "q=acme.test" in paged_search


def test_admin_list_queries_do_not_grow_with_the_data(client, admin, make):
    from tests.forum.orgs.test_organisations import _queries

    make.engage(make.partner_org(), make.customer_org())
    make.product_version("Ledger", "1.0")
    make.space()
    urls = ["/admin/", "/admin/products", "/admin/organisations", "/admin/engagements", "/admin/spaces",
            "/admin/users"]
    before = [_queries(client, url) for url in urls]
    for n in range(6):
        partner, customer = make.partner_org(), make.customer_org()
        make.engage(partner, customer)
        make.user(customer)
        make.product_version(f"Product {n}", "1.0")
        make.product_version("Ledger", f"2.{n}")
        make.space()
    assert [_queries(client, url) for url in urls] == before

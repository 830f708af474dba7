"""Where a new thread starts: never in the vendor's announcements space for a customer; a moderator's
"Move to space" starts on the space the thread is in."""
from __future__ import annotations

import re

from forum.extensions import db
from tests.factories import csrf_token_from


def _selected_space(html: str) -> str | None:
    select = re.search(r'<select id="space" name="space"[^>]*>(.*?)</select>', html, re.S).group(1)
    chosen = re.search(r'<option selected value="\d+">([^<]*)</option>', select)
    return chosen.group(1) if chosen else None


def _offered(html: str) -> list[str]:
    select = re.search(r'<select id="space" name="space"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r">([^<]+)</option>", select)


def _spaces(make):
    announcements = make.space("Announcements")
    announcements.position, announcements.staff_posts_only = 0, True
    installs = make.space("Installation & upgrades")
    installs.position = 1
    db.session.commit()
    return announcements, installs


def test_a_customers_ask_page_neither_offers_nor_starts_in_announcements(client, make, login):
    _spaces(make)
    login(make.user(make.customer_org()))
    html = client.get("/ask").get_data(as_text=True)
    assert "Announcements" not in _offered(html)
    assert _selected_space(html) == "Installation &amp; upgrades"


def test_an_employees_ask_page_offers_announcements_but_starts_in_an_ordinary_space(client, make, login):
    _spaces(make)
    login(make.employee())
    html = client.get("/ask").get_data(as_text=True)
    assert "Announcements" in _offered(html)
    assert _selected_space(html) == "Installation &amp; upgrades"
    announcements = client.get("/ask?space=" + _slug(html, "Announcements")).get_data(as_text=True)
    assert _selected_space(announcements) == "Announcements"  # asked for by name: taken


def _slug(html: str, name: str) -> str:
    from forum.models import Space

    return db.session.execute(db.select(Space.slug).where(Space.name == name)).scalar_one()


def test_move_to_space_starts_on_the_threads_current_space(client, make, login):
    announcements, installs = _spaces(make)
    other = make.space("Integrations")
    thread = make.thread(make.user(make.customer_org()), space=installs)
    login(make.employee(is_moderator=True))
    html = client.get(f"/t/{thread.id}/moderate").get_data(as_text=True)
    assert _selected_space(html) == "Installation &amp; upgrades (where it is now)"
    assert {"Announcements", "Integrations"} <= set(_offered(html))
    # Submitting it unchanged moves nothing and says so.
    response = client.post(f"/t/{thread.id}/move", data={"space": str(installs.id),
                                                         "csrf_token": csrf_token_from(html)})
    assert response.status_code == 302
    db.session.refresh(thread)
    assert thread.space_id == installs.id and other.id != installs.id
    assert "already in" in client.get(f"/t/{thread.id}").get_data(as_text=True)


def test_an_admin_marks_a_space_for_vendor_posts_only(client, make, login):
    from forum.models import Space

    space = make.space("News")
    login(make.employee(is_admin=True))
    page = client.get(f"/admin/spaces/{space.id}").get_data(as_text=True)
    response = client.post(f"/admin/spaces/{space.id}", data={
        "name": "News", "slug": space.slug, "description": "", "default_visibility": "public", "position": "3",
        "staff_posts_only": "y", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert db.session.get(Space, space.id).staff_posts_only is True

"""Moderation through real HTTP routes: flags and the review queue, lock, pin, hide, move, visibility,
merge redirects, who may do each, and the audit entry (before/after) every action leaves."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, Flag, FlagStatus, Reply, SpaceModerator, Thread, Visibility
from tests.forum.board.test_pages import Browser


@pytest.fixture()
def web(app):
    return lambda user=None: Browser(app, user)


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)).scalars())


def _reload(obj):
    db.session.refresh(obj)
    return obj


@pytest.fixture()
def world(make):
    """A space with a public thread, and one person of every role that matters here."""
    customer_org, partner_org = make.customer_org(), make.partner_org()
    space, other_space = make.space(), make.space()
    people = {
        "customer": make.user(customer_org), "partner": make.user(partner_org), "employee": make.employee(),
        "space_mod": make.employee(), "other_space_mod": make.employee(),
        "global_mod": make.employee(is_moderator=True), "admin": make.employee(is_admin=True),
    }
    db.session.add_all([SpaceModerator(space_id=space.id, user_id=people["space_mod"].id),
                        SpaceModerator(space_id=other_space.id, user_id=people["other_space_mod"].id)])
    db.session.commit()
    thread = make.thread(people["customer"], space=space, title="Indexer stalls after upgrade")
    return {"space": space, "other_space": other_space, "thread": thread, **people}


# --- flags ---------------------------------------------------------------------------------------

def test_member_flags_once_and_moderator_resolves_with_audit(web, world, make):
    thread = world["thread"]
    reporter = web(world["partner"])
    response = reporter.post(f"/t/{thread.id}/flag", reason="spam", detail="Selling something")
    assert response.status_code == 302
    again = reporter.post(f"/t/{thread.id}/flag", reason="offensive")
    assert again.status_code == 400 and "already flagged" in again.get_data(as_text=True)
    flag = db.session.execute(select(Flag)).scalar_one()
    assert flag.status is FlagStatus.OPEN and flag.reporter_id == world["partner"].id

    # The queue: customers refused, moderators of other spaces see nothing of it, this space's see it.
    assert web(world["customer"]).get("/moderation/queue").status_code == 403
    assert web(world["employee"]).get("/moderation/queue").status_code == 403
    assert thread.title not in web(world["other_space_mod"]).html("/moderation/queue")
    assert web(world["other_space_mod"]).post(f"/moderation/flags/{flag.id}/review",
                                              decision="resolved").status_code == 403
    moderator = web(world["space_mod"])
    assert thread.title in moderator.html("/moderation/queue")
    assert moderator.post(f"/moderation/flags/{flag.id}/review", decision="resolved",
                          note="Removed the advert").status_code == 302
    flag = _reload(flag)
    assert flag.status is FlagStatus.RESOLVED and flag.review_note == "Removed the advert"
    assert flag.reviewed_by_id == world["space_mod"].id
    entry, = _entries("flag.resolved")
    assert entry.actor_id == world["space_mod"].id and entry.target_id == flag.id
    assert entry.before["status"] == "open" and entry.after["status"] == "resolved"
    # Reviewed flags leave the open queue; a second review is refused.
    assert thread.title not in moderator.html("/moderation/queue")
    assert thread.title in moderator.html("/moderation/queue?status=resolved")
    moderator.post(f"/moderation/flags/{flag.id}/review", decision="dismissed")
    assert _reload(flag).status is FlagStatus.RESOLVED
    # Flagged again after the review: a new open flag is allowed.
    assert reporter.post(f"/t/{thread.id}/flag", reason="other").status_code == 302


def test_flags_on_what_one_cannot_see_are_404(web, world, make):
    private = make.thread(make.user(make.customer_org()), Visibility.ORG_PRIVATE, space=world["space"])
    internal_reply = make.reply(world["thread"], world["employee"], staff_note=True)
    customer = web(world["customer"])
    assert customer.post(f"/t/{private.id}/flag", reason="spam").status_code == 404
    assert customer.post(f"/r/{internal_reply.id}/flag", reason="spam").status_code == 404
    public_reply = make.reply(world["thread"], world["partner"])
    assert customer.post(f"/r/{public_reply.id}/flag", reason="offensive").status_code == 302
    assert db.session.execute(select(Flag.reply_id)).scalar_one() == public_reply.id
    assert web().get(f"/t/{world['thread'].id}/flag").status_code == 302  # anonymous: to the login page


# --- who may moderate ----------------------------------------------------------------------------

@pytest.mark.parametrize("role, allowed", [
    ("customer", False), ("partner", False), ("employee", False), ("other_space_mod", False),
    ("space_mod", True), ("global_mod", True), ("admin", True),
])
def test_who_may_moderate_a_thread(web, world, role, allowed):
    thread = world["thread"]
    browser = web(world[role])
    expected = 302 if allowed else 403
    assert browser.get(f"/t/{thread.id}/moderate").status_code == (200 if allowed else 403)
    for action in ("lock", "pin", "hide"):
        assert browser.post(f"/t/{thread.id}/{action}", on="1").status_code == expected, action
    thread = _reload(thread)
    assert (thread.is_locked, thread.is_pinned, thread.hidden_at is not None) == (allowed,) * 3
    assert len(db.session.execute(select(AuditEntry)).scalars().all()) == (3 if allowed else 0)
    # The buttons show exactly to those who may use them.
    assert (f'action="/t/{thread.id}/lock"' in browser.html(f"/t/{thread.id}")) == allowed


# --- lock, pin, hide -----------------------------------------------------------------------------

def test_lock_refuses_replies_except_from_moderators(web, world):
    thread = world["thread"]
    moderator = web(world["global_mod"])
    assert moderator.post(f"/t/{thread.id}/lock", on="1").status_code == 302
    entry, = _entries("thread.lock")
    assert entry.before == {"is_locked": False} and entry.after == {"is_locked": True}
    assert entry.actor_id == world["global_mod"].id and entry.target_type == "thread"
    customer = web(world["customer"])
    page = customer.html(f"/t/{thread.id}")
    assert "Locked" in page and f'action="/t/{thread.id}/reply"' not in page
    assert customer.post(f"/t/{thread.id}/reply", body="Still there?").status_code == 403
    assert web(world["employee"]).post(f"/t/{thread.id}/reply", body="Staff, not moderator").status_code == 403
    assert moderator.post(f"/t/{thread.id}/reply", body="Closing note").status_code == 302
    assert [r.body_md for r in db.session.execute(select(Reply)).scalars()] == ["Closing note"]
    moderator.post(f"/t/{thread.id}/lock", on="0")
    assert _entries("thread.unlock")[0].after == {"is_locked": False}
    assert customer.post(f"/t/{thread.id}/reply", body="Thanks").status_code == 302


def test_pinned_threads_lead_their_space(web, world, make):
    pinned = world["thread"]
    newer = [make.thread(world["customer"], space=world["space"], title=f"Newer {i}") for i in range(3)]
    for i, t in enumerate(newer):
        t.last_activity_at = pinned.last_activity_at.replace(year=pinned.last_activity_at.year + 1, minute=i)
    db.session.commit()
    customer = web(world["customer"])
    page = customer.html(f"/s/{world['space'].slug}")
    assert page.index("Newer 2") < page.index(pinned.title)
    web(world["space_mod"]).post(f"/t/{pinned.id}/pin", on="1")
    page = customer.html(f"/s/{world['space'].slug}")
    assert page.index(pinned.title) < page.index("Newer 2") and "Pinned" in page
    assert _entries("thread.pin")[0].after == {"is_pinned": True}


def test_hidden_threads_only_for_employees(web, world, make):
    thread = world["thread"]
    thread.body_md = "hiddencanary words"
    db.session.commit()
    reply = make.reply(thread, world["partner"])
    web(world["global_mod"]).post(f"/t/{thread.id}/hide", on="1")
    entry, = _entries("thread.hide")
    assert entry.before == {"hidden_at": None} and entry.after["hidden_at"]
    for role in ("customer", "partner"):
        browser = web(world[role])
        assert browser.get(f"/t/{thread.id}").status_code == 404
        assert browser.post(f"/r/{reply.id}/vote", value="1").status_code in (403, 404)
        assert thread.title not in browser.html(f"/s/{world['space'].slug}")
        assert thread.title not in browser.html("/")
        assert thread.title not in browser.html("/search?q=hiddencanary")
    staff = web(world["employee"])
    assert staff.get(f"/t/{thread.id}").status_code == 200
    assert "Hidden" in staff.html(f"/t/{thread.id}")
    assert thread.title in staff.html(f"/s/{world['space'].slug}")
    web(world["global_mod"]).post(f"/t/{thread.id}/hide", on="0")
    assert _entries("thread.unhide")[0].after == {"hidden_at": None}
    assert web(world["customer"]).get(f"/t/{thread.id}").status_code == 200


# --- move and visibility -------------------------------------------------------------------------

def test_move_between_spaces(web, world):
    thread = world["thread"]
    # A space moderator moderates only their space: the other space is not a choice.
    response = web(world["space_mod"]).post(f"/t/{thread.id}/move", space=world["other_space"].id)
    assert response.status_code == 400 and _reload(thread).space_id == world["space"].id
    assert web(world["global_mod"]).post(f"/t/{thread.id}/move", space=world["other_space"].id).status_code == 302
    assert _reload(thread).space_id == world["other_space"].id
    entry, = _entries("thread.move")
    assert entry.before == {"space_id": world["space"].id} and entry.after == {"space_id": world["other_space"].id}
    # Now in the other space: its moderator may act, the first one no longer.
    assert web(world["space_mod"]).post(f"/t/{thread.id}/lock", on="1").status_code == 403
    assert web(world["other_space_mod"]).post(f"/t/{thread.id}/lock", on="1").status_code == 302


def test_making_a_thread_public_needs_confirmation(web, world, make):
    owner_org = make.customer_org()
    private = make.thread(make.user(owner_org), Visibility.ORG_PRIVATE, space=world["space"], title="Our hosts")
    moderator = web(world["global_mod"])
    response = moderator.post(f"/t/{private.id}/visibility", visibility="public")
    assert response.status_code == 400 and "tick the confirmation" in response.get_data(as_text=True)
    assert _reload(private).visibility is Visibility.ORG_PRIVATE and not _entries("thread.visibility")
    assert web(world["customer"]).get(f"/t/{private.id}").status_code == 404
    response = moderator.post(f"/t/{private.id}/visibility", visibility="public", confirm_public="y")
    assert response.status_code == 302 and _reload(private).visibility is Visibility.PUBLIC
    entry, = _entries("thread.visibility")
    assert entry.before == {"visibility": "org_private"} and entry.after == {"visibility": "public"}
    assert web(world["customer"]).get(f"/t/{private.id}").status_code == 200
    # Narrowing needs no confirmation.
    assert moderator.post(f"/t/{private.id}/visibility", visibility="internal").status_code == 302
    assert _reload(private).visibility is Visibility.INTERNAL


# --- merge ---------------------------------------------------------------------------------------

def test_merge_moves_replies_and_redirects(web, world, make):
    target = world["thread"]
    duplicate = make.thread(world["partner"], space=world["space"], title="Indexer stuck (duplicate)")
    moved = make.reply(duplicate, world["customer"], body="Same here on 7.2")
    make.reply(target, world["employee"], body="Known issue")
    moderator = web(world["space_mod"])
    assert moderator.post(f"/t/{duplicate.id}/merge", target=duplicate.id).status_code == 400
    response = moderator.post(f"/t/{duplicate.id}/merge", target=target.id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{target.id}")
    assert _reload(moved).thread_id == target.id
    assert _reload(target).reply_count == 2 and _reload(duplicate).merged_into_id == target.id
    entry, = _entries("thread.merge")
    assert entry.target_id == duplicate.id and entry.before["merged_into_id"] is None
    assert entry.after == {"merged_into_id": target.id, "replies_moved": 1}
    for role in ("customer", "partner", "employee"):
        old = web(world[role]).get(f"/t/{duplicate.id}")
        assert old.status_code == 301 and old.headers["Location"].endswith(f"/t/{target.id}"), role
    page = web(world["customer"]).html(f"/t/{target.id}")
    assert "Same here on 7.2" in page
    # The merged shell is gone from lists.
    assert "(duplicate)" not in web(world["employee"]).html(f"/s/{world['space'].slug}")


def test_merge_redirect_is_404_for_who_may_not_see_the_target(web, world, make):
    owner_org = make.customer_org()
    owner = make.user(owner_org)
    target = make.thread(owner, Visibility.ORG_PRIVATE, space=world["space"], title="Private target")
    duplicate = make.thread(owner, Visibility.PUBLIC, space=world["space"], title="Public duplicate")
    assert web(world["global_mod"]).post(f"/t/{duplicate.id}/merge", target=target.id).status_code == 302
    assert web(owner).get(f"/t/{duplicate.id}").status_code == 301
    outsider = web(world["customer"]).get(f"/t/{duplicate.id}")
    assert outsider.status_code == 404 and "Private target" not in outsider.get_data(as_text=True)
    assert web().get(f"/t/{duplicate.id}").status_code in (302, 404)  # anonymous: login first


def test_merge_refuses_to_widen_the_audience(web, world, make):
    private = make.thread(world["customer"], Visibility.ORG_PRIVATE, space=world["space"], title="Private dup")
    make.reply(private, world["customer"], body="our host names")
    response = web(world["global_mod"]).post(f"/t/{private.id}/merge", target=world["thread"].id)
    assert response.status_code == 400 and "audience" in response.get_data(as_text=True)
    assert _reload(private).merged_into_id is None
    assert db.session.execute(select(Reply.thread_id)).scalar_one() == private.id


def test_merge_needs_moderation_rights_on_the_target_too(web, world, make):
    elsewhere = make.thread(world["customer"], space=world["other_space"], title="In the other space")
    response = web(world["space_mod"]).post(f"/t/{world['thread'].id}/merge", target=elsewhere.id)
    assert response.status_code == 400 and _reload(world["thread"]).merged_into_id is None
    assert db.session.get(Thread, elsewhere.id).merged_into_id is None


def test_space_moderators_remove_and_edit_replies_with_audit(web, world, make):
    reply = make.reply(world["thread"], world["partner"], body="Rude words")
    assert web(world["other_space_mod"]).post(f"/r/{reply.id}/delete").status_code == 403
    assert web(world["space_mod"]).post(f"/r/{reply.id}/delete").status_code == 302
    entry, = _entries("reply.delete")
    assert entry.actor_id == world["space_mod"].id and entry.before["deleted_at"] is None
    assert entry.after["deleted_by_id"] == world["space_mod"].id
    # A global moderator editing someone else's thread leaves an entry; authors editing their own do not.
    thread = world["thread"]
    web(world["global_mod"]).post(f"/t/{thread.id}/edit", title="Indexer stalls after the 7.2 upgrade",
                                  body="Body text", tags="")
    edit, = _entries("thread.edit")
    assert edit.before == {"title": "Indexer stalls after upgrade"}
    assert edit.after == {"title": "Indexer stalls after the 7.2 upgrade"}
    web(world["customer"]).post(f"/t/{thread.id}/edit", title="Mine again", body="Body text", tags="")
    assert len(_entries("thread.edit")) == 1


def test_out_of_range_ids_are_404(web, world):
    admin = web(world["admin"])
    for url in ("/moderation/flags/99999999999/review", "/admin/space-moderators/99999999999/delete",
                "/t/99999999999/lock", "/t/99999999999/flag", "/r/99999999999/flag"):
        assert admin.post(url, on="1", decision="resolved", reason="spam").status_code == 404, url
    assert admin.get("/t/99999999999/moderate").status_code == 404

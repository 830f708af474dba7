"""`flask seed-demo` on both databases: counts, invariants, permissions, idempotence, demo logins."""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from forum import permissions
from forum.demo import DEMO_LOGINS, DEMO_PASSWORD, PLANTED_PROBLEMS, problem_key_for
from forum.extensions import db
from forum.models import (
    Confirmation,
    Deployment,
    Engagement,
    Organisation,
    OrgKind,
    Reply,
    Revision,
    Thread,
    ThreadStatus,
    User,
    Visibility,
    Vote,
)
from forum.passwords import verify_password
from tests.factories import login_as

pytestmark = pytest.mark.slow


def database_state() -> tuple:
    """Row counts of every table plus a checksum of what the threads and replies say."""
    counts = tuple((table.name, db.session.execute(select(func.count()).select_from(table)).scalar_one())
                   for table in db.metadata.sorted_tables)
    h = hashlib.sha256()
    rows = db.session.execute(select(Thread.external_id, Thread.title, Thread.status, Thread.reply_count,
                                     Thread.last_activity_at).order_by(Thread.external_id))
    for row in rows:
        h.update(repr(tuple(row)).encode())
    scores = db.session.execute(select(func.sum(Reply.score), func.count(Reply.deleted_at))).one()
    return counts, h.hexdigest(), tuple(scores)


def seed(app) -> str:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def test_seed_demo_is_consistent_and_idempotent(app):
    """One seed per database (it takes a few seconds), then every check, then a second run."""
    output = seed(app)
    assert "Added" in output and "threads" in output
    check_counts_and_planted_problems()
    check_thread_invariants()
    check_every_demo_action_is_one_the_permissions_allow()
    before = database_state()
    again = seed(app)
    assert "nothing added" in again
    assert database_state() == before


def check_counts_and_planted_problems() -> None:
    kinds = Counter(db.session.execute(select(Organisation.kind)).scalars())
    assert kinds[OrgKind.CUSTOMER] >= 40 and kinds[OrgKind.PARTNER] >= 5 and kinds[OrgKind.VENDOR] == 1
    assert db.session.scalar(select(func.count()).select_from(Thread)) >= 600
    assert db.session.scalar(select(func.count()).select_from(Engagement)) >= 40
    orgs_by_problem: dict[str, set[int]] = defaultdict(set)
    threads_by_problem: Counter = Counter()
    for external_id, org_id in db.session.execute(select(Thread.external_id, Thread.organisation_id)):
        key = problem_key_for(external_id)
        if key:
            orgs_by_problem[key].add(org_id)
            threads_by_problem[key] += 1
    for planted in PLANTED_PROBLEMS:
        assert threads_by_problem[planted["key"]] == planted["threads"] >= 12
        assert len(orgs_by_problem[planted["key"]]) >= 10


def check_thread_invariants() -> None:
    threads = db.session.execute(select(Thread)).scalars().all()
    replies: dict[int, list[Reply]] = defaultdict(list)
    for reply in db.session.execute(select(Reply)).scalars():
        replies[reply.thread_id].append(reply)
    votes = Counter()
    for reply_id, value in db.session.execute(select(Vote.reply_id, Vote.value)):
        votes[reply_id] += value
    for thread in threads:
        public = [r for r in replies[thread.id] if not r.is_staff_note and r.deleted_at is None]
        assert thread.reply_count == len(public), thread.external_id
        assert thread.organisation_id == thread.author.organisation_id
        assert thread.last_activity_at >= thread.created_at
        if thread.status is ThreadStatus.RESOLVED:
            accepted = db.session.get(Reply, thread.accepted_reply_id)
            assert accepted.thread_id == thread.id and accepted in public and thread.resolved_at is not None
        else:
            assert thread.accepted_reply_id is None and thread.resolved_at is None
        if thread.status is ThreadStatus.OPEN:
            assert thread.reply_count == 0
        if thread.status is ThreadStatus.ANSWERED:
            assert thread.reply_count > 0
        if thread.deployment_id is not None:
            deployment = db.session.get(Deployment, thread.deployment_id)
            assert deployment.organisation_id == thread.organisation_id
            snapshot = thread.deployment_snapshot
            assert snapshot["deployment_id"] == deployment.id and snapshot["database"] == deployment.database
            assert snapshot["product"] == deployment.product_version.product.name
        for reply in replies[thread.id]:
            assert reply.score == votes[reply.id]
            assert reply.created_at >= thread.created_at
    revisions = db.session.execute(select(Revision)).scalars().all()
    assert revisions
    for revision in revisions:
        thread = db.session.get(Thread, revision.thread_id)
        assert revision.editor_id == thread.author_id and thread.body_md.startswith(revision.previous_md)
        assert thread.created_at < revision.created_at == thread.updated_at
    statuses = Counter(t.status for t in threads)
    assert all(statuses[s] > 0 for s in ThreadStatus)
    assert Counter(t.visibility for t in threads)[Visibility.INTERNAL] > 0


def check_every_demo_action_is_one_the_permissions_allow() -> None:
    """Authors, voters and confirmers only act where the forum's own rules would let them."""
    loaded = select(Reply).options(selectinload(Reply.thread), selectinload(Reply.author))
    for reply in db.session.execute(loaded).scalars():
        assert permissions.can_view(reply.author, reply.thread), (reply.thread.external_id, reply.author.email)
        if reply.is_staff_note:
            assert permissions.can_post_staff_note(reply.author, reply.thread)
    for thread in db.session.execute(select(Thread)).scalars():
        if thread.space.default_visibility is Visibility.INTERNAL:
            assert thread.visibility is Visibility.INTERNAL and thread.author.is_employee
    for vote in db.session.execute(select(Vote)).scalars():
        reply = db.session.get(Reply, vote.reply_id)
        assert permissions.can_vote(db.session.get(User, vote.user_id), reply)
    for confirmation in db.session.execute(select(Confirmation)).scalars():
        reply = db.session.get(Reply, confirmation.reply_id)
        assert reply.thread.accepted_reply_id == reply.id
        assert permissions.can_confirm(confirmation.user, reply.thread)
        assert confirmation.deployment.organisation_id == confirmation.user.organisation_id


def test_demo_logins_work_and_threads_render(app, make):
    # Content that was there before the demo stays as it was, even where a name collides.
    earlier = make.thread(make.user(username="demo-admin"), title="Written before the demo")
    seed(app)
    assert db.session.get(Thread, earlier.id).title == "Written before the demo"
    for email, _ in DEMO_LOGINS:
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert verify_password(user.password_hash, DEMO_PASSWORD)
    customer = db.session.execute(select(User).where(User.email == "customer@demo.test")).scalar_one()
    client = app.test_client()
    login_as(client, customer, DEMO_PASSWORD)
    resolved = db.session.execute(
        select(Thread).where(Thread.external_id.like("demo-p0%"), Thread.status == ThreadStatus.RESOLVED,
                             Thread.visibility == Visibility.PUBLIC).order_by(Thread.external_id)).scalars().first()
    page = client.get(f"/t/{resolved.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert str(escape(resolved.title)) in html
    assert resolved.accepted_reply.body_html in html
    internal = db.session.execute(
        select(Thread).where(Thread.visibility == Visibility.INTERNAL)).scalars().first()
    assert client.get(f"/t/{internal.id}").status_code == 404


def test_the_demos_announcements_take_threads_from_employees_only_even_on_an_older_demo(app):
    from forum.models import Space

    seed(app)
    announcements = db.session.execute(select(Space).where(Space.slug == "announcements")).scalar_one()
    assert announcements.staff_posts_only
    announcements.staff_posts_only = False  # a demo seeded before spaces had the setting
    db.session.commit()
    seed(app)
    db.session.refresh(announcements)
    assert announcements.staff_posts_only

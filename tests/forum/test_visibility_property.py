"""Property: ``can_view`` and the SQL filter ``visible_threads`` agree for every user and every thread.

Hypothesis builds random worlds — organisations of every kind, engagements, users with any mix of flags,
threads of every visibility owned by any organisation, staff notes — and then asks both faces of
``forum.permissions`` the same question for every (user, thread) pair, anonymous visitors included.
"""
from __future__ import annotations

from flask_login import AnonymousUserMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum import permissions
from forum.extensions import db
from forum.models import (
    Engagement,
    Organisation,
    OrgKind,
    Reply,
    Space,
    Thread,
    ThreadKind,
    User,
    Visibility,
    utcnow,
)
from forum.services.board import pages

KINDS = [OrgKind.CUSTOMER, OrgKind.PARTNER, OrgKind.VENDOR]

worlds = st.fixed_dictionaries({
    # At least one organisation of each kind is likely, but any mix (even vendor-less) is allowed.
    "orgs": st.lists(st.sampled_from(KINDS), min_size=1, max_size=6),
    # (partner index, customer index) pairs; indices are taken modulo the organisations that exist.
    "engagements": st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=8),
    "users": st.lists(st.fixed_dictionaries({
        "org": st.integers(0, 5),
        "is_org_admin": st.booleans(),
        "is_lead": st.booleans(),
        "is_moderator": st.booleans(),
        "is_admin": st.booleans(),
        "active": st.booleans(),
    }), min_size=1, max_size=7),
    "spaces": st.lists(st.sampled_from(list(Visibility)), min_size=1, max_size=3),
    "threads": st.lists(st.fixed_dictionaries({
        "author": st.integers(0, 6),
        # Usually the author's organisation owns the thread; sometimes another (e.g. an employee
        # asking on a customer's behalf, or a user who later moved).
        "owner": st.one_of(st.none(), st.integers(0, 5)),
        "visibility": st.sampled_from(list(Visibility)),
        "kind": st.sampled_from(list(ThreadKind)),
        "space": st.integers(0, 2),
        "replies": st.lists(st.tuples(st.integers(0, 6), st.booleans()), max_size=3),
        # Moderation: hidden (employees only) and merged into another thread (nobody: a redirect).
        "hidden": st.booleans(),
        "merged": st.integers(0, 5).map(lambda n: n == 0),
    }), min_size=1, max_size=10),
})


def _wipe_world() -> None:
    """Delete what ``_build`` made (faster than emptying every table, which matters per example)."""
    db.session.remove()
    with db.engine.begin() as conn:
        for model in (Reply, Thread, Space, Engagement, User, Organisation):
            conn.execute(db.delete(model))


def _build(world: dict) -> None:
    orgs = [Organisation(name=f"Org {i}", slug=f"org-{i}", kind=kind) for i, kind in enumerate(world["orgs"])]
    db.session.add_all(orgs)
    db.session.flush()
    pairs = set()
    for p, c in world["engagements"]:
        partner, customer = orgs[p % len(orgs)], orgs[c % len(orgs)]
        # Admin pages make partner -> customer engagements, but an organisation's kind can change
        # later: the two faces must agree on malformed rows too.
        if partner.id != customer.id:
            pairs.add((partner.id, customer.id))
    db.session.add_all(Engagement(partner_id=p, customer_id=c) for p, c in sorted(pairs))
    users = [
        User(email=f"u{i}@example.test", username=f"u{i}", display_name=f"U {i}", password_hash="x",
             organisation_id=orgs[u["org"] % len(orgs)].id,
             **{k: u[k] for k in ("is_org_admin", "is_lead", "is_moderator", "is_admin", "active")})
        for i, u in enumerate(world["users"])
    ]
    db.session.add_all(users)
    spaces = [Space(slug=f"s{i}", name=f"S {i}", default_visibility=v) for i, v in enumerate(world["spaces"])]
    db.session.add_all(spaces)
    db.session.flush()
    for i, t in enumerate(world["threads"]):
        author = users[t["author"] % len(users)]
        owner = author.organisation_id if t["owner"] is None else orgs[t["owner"] % len(orgs)].id
        thread = Thread(space_id=spaces[t["space"] % len(spaces)].id, author_id=author.id, organisation_id=owner,
                        title=f"T {i}", body_md="b", body_html="<p>b</p>", kind=t["kind"],
                        visibility=t["visibility"], hidden_at=utcnow() if t["hidden"] else None,
                        merged_into_id=1 if t["merged"] else None)
        db.session.add(thread)
        db.session.flush()
        for who, staff in t["replies"]:
            db.session.add(Reply(thread_id=thread.id, author_id=users[who % len(users)].id, body_md="r",
                                 body_html="<p>r</p>", is_staff_note=staff))
    db.session.commit()


def _describe() -> str:
    orgs = db.session.execute(db.select(Organisation.id, Organisation.kind)).all()
    users = db.session.execute(db.select(User.id, User.organisation_id)).all()
    engagements = db.session.execute(db.select(Engagement.partner_id, Engagement.customer_id)).all()
    return (f"orgs {[(i, k.value) for i, k in orgs]}, users (id, org) {list(map(tuple, users))}, "
            f"engagements (partner, customer) {list(map(tuple, engagements))}")


def _check_agreement(viewer) -> int:
    """Both faces agree for this viewer on every thread, reply and space; returns the pairs compared."""
    threads = db.session.execute(db.select(Thread)).scalars().all()
    visible = set(db.session.execute(
        db.select(Thread.id).where(permissions.visible_threads(viewer))).scalars())
    for thread in threads:
        assert permissions.can_view(viewer, thread) == (thread.id in visible), (
            f"can_view and visible_threads disagree for {viewer!r} on thread {thread.id} "
            f"({thread.visibility.value}, owner org {thread.organisation_id}); {_describe()}")
    replies = db.session.execute(db.select(Reply)).scalars().all()
    visible_replies = set(db.session.execute(
        db.select(Reply.id).join(Thread, Reply.thread_id == Thread.id)
        .where(permissions.visible_threads(viewer), permissions.visible_replies(viewer))).scalars())
    for reply in replies:
        assert permissions.can_view_reply(viewer, reply) == (reply.id in visible_replies), (
            f"can_view_reply and visible_replies disagree for {viewer!r} on reply {reply.id}")
    # the lists' statements are kept per visibility_key: a kept one must list exactly what this viewer sees
    listed = {t.id for t in pages.list_threads(viewer, 1, 50).items}
    listed_brief = {row.id for row in pages.list_threads(viewer, 1, 50, brief=True).items}
    assert listed == listed_brief == visible, (viewer, listed, visible, _describe())
    spaces = db.session.execute(db.select(Space)).scalars().all()
    visible_spaces = set(db.session.execute(
        db.select(Space.id).where(permissions.visible_spaces(viewer))).scalars())
    for space in spaces:
        assert permissions.can_view_space(viewer, space) == (space.id in visible_spaces)
    return len(threads) + len(replies) + len(spaces)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds, public_read=st.booleans())
def test_can_view_agrees_with_visible_threads(app, world, public_read):
    _wipe_world()
    app.config["PUBLIC_READ"] = public_read
    _build(world)
    compared = 0
    for user in db.session.execute(db.select(User)).scalars().all():
        compared += _check_agreement(user)
    with app.test_request_context():
        compared += _check_agreement(None)
        compared += _check_agreement(AnonymousUserMixin())
    assert compared > 0


def test_known_world(app, make):
    """A hand-built example of the rules the property compares, so a wrong-but-consistent pair fails too."""
    vendor, a, b = make.vendor_org(), make.customer_org(), make.customer_org()
    engaged, other_partner = make.partner_org(), make.partner_org()
    make.engage(engaged, a)
    cust_a, cust_b = make.user(a), make.user(b)
    partner_in, partner_out, staff = make.user(engaged), make.user(other_partner), make.employee()
    public = make.thread(cust_a, Visibility.PUBLIC)
    internal = make.thread(staff, Visibility.INTERNAL)
    private = make.thread(cust_a, Visibility.ORG_PRIVATE)
    expected = {
        cust_a: {public, private}, cust_b: {public}, partner_in: {public, private},
        partner_out: {public}, staff: {public, internal, private},
    }
    for user, threads in expected.items():
        got = set(db.session.execute(db.select(Thread).where(permissions.visible_threads(user))).scalars())
        assert got == threads, user
    assert vendor.kind is OrgKind.VENDOR
    app.config["PUBLIC_READ"] = False
    with app.test_request_context():
        assert not permissions.can_view(None, public)
    app.config["PUBLIC_READ"] = True
    with app.test_request_context():
        assert permissions.can_view(None, public) and not permissions.can_view(None, private)


def test_engagement_of_a_non_partner_grants_nothing(app, make):
    """A stray engagement row whose "partner" is a customer (e.g. an organisation whose kind was changed)
    must not open the other customer's org-private threads in lists when can_view refuses them."""
    a, b = make.customer_org(), make.customer_org()
    make.engage(b, a)
    private = make.thread(make.user(a), Visibility.ORG_PRIVATE)
    viewer = make.user(b)
    listed = private in set(db.session.execute(
        db.select(Thread).where(permissions.visible_threads(viewer))).scalars())
    assert permissions.can_view(viewer, private) == listed


def test_equal_visibility_keys_mean_equal_filters(app, make):
    """``visibility_key`` says when two readers' ``visible_threads`` are the same clause, so statements built for one
    may serve the other: equal keys, equal SQL; different SQL, different keys."""
    a, b = make.customer_org(), make.customer_org()
    partner = make.partner_org()
    make.engage(partner, a)
    readers = [make.user(a), make.user(a), make.user(b), make.user(partner), make.user(make.partner_org()),
               make.employee(), make.employee(is_admin=True), None, AnonymousUserMixin()]

    def sql(reader) -> str:
        clause = permissions.visible_threads(reader)
        return str(db.select(Thread.id).where(clause).compile(db.engine, compile_kwargs={"literal_binds": True}))

    for public_read in (False, True):
        app.config["PUBLIC_READ"] = public_read
        with app.test_request_context():
            for first in readers:
                for second in readers:
                    same_key = permissions.visibility_key(first) == permissions.visibility_key(second)
                    assert same_key == (sql(first) == sql(second)), (first, second, public_read)

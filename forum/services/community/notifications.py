"""Watches, @mentions, fan-out into inboxes, and email preferences (reading the inbox: ``inbox``).

A notification stores ids only. Whether its recipient may see the thread, reply, pattern or playbook is
asked twice through ``forum.permissions``: when it is created, and again every time it is shown or mailed
(from the current rows), so a visibility change after the event hides it too.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...markdown import MENTION_RE, mention_name
from ...models import (
    EmailMode,
    Notification,
    NotificationKind,
    NotificationSetting,
    Organisation,
    Pattern,
    Playbook,
    ProductVersion,
    Reply,
    Space,
    Tag,
    Thread,
    User,
    Watch,
    WatchTarget,
)
from .. import background
from . import mail as notification_email

log = logging.getLogger(__name__)

# "@alice", "@acme-corp" — not an e-mail address ("bob@example.com") and without trailing punctuation.
MAX_MENTIONS = 20        # names per post; more is a broadcast, not a mention
MAX_GROUP_MEMBERS = 500  # members notified per organisation mention


# --- watches -------------------------------------------------------------------------------------

def is_watching(user: User, target: WatchTarget, target_id: int) -> bool:
    """Does this user watch this target?"""
    return db.session.execute(_watching_query(), {"user_id": user.id, "target_type": target,
                                                  "target_id": target_id}).first() is not None


@functools.cache
def _watching_query() -> Select:
    # built once per process: every thread page asks, and building the statement cost more than running it
    return select(Watch.id).where(Watch.user_id == bindparam("user_id"), Watch.target_type == bindparam("target_type"),
                                  Watch.target_id == bindparam("target_id"))


def watch(user: User, target: WatchTarget, target_id: int) -> Watch:
    """Follow a target (idempotent). The caller has checked that the user may see it."""
    existing = db.session.execute(select(Watch).where(
        Watch.user_id == user.id, Watch.target_type == target, Watch.target_id == target_id)).scalar_one_or_none()
    if existing is not None:
        return existing
    row = Watch(user_id=user.id, target_type=target, target_id=target_id)
    try:
        with db.session.begin_nested():  # two tabs watching at once: the second insert loses quietly
            db.session.add(row)
    except IntegrityError:
        row = db.session.execute(select(Watch).where(
            Watch.user_id == user.id, Watch.target_type == target, Watch.target_id == target_id)).scalar_one()
    db.session.commit()
    return row


def unwatch(user: User, target: WatchTarget, target_id: int) -> bool:
    """Stop following; True when a watch was removed."""
    row = db.session.execute(select(Watch).where(
        Watch.user_id == user.id, Watch.target_type == target, Watch.target_id == target_id)).scalar_one_or_none()
    if row is None:
        return False
    db.session.delete(row)
    db.session.commit()
    return True


def watch_count(user: User) -> int:
    """How many things the user watches."""
    return db.session.execute(select(func.count(Watch.id)).where(Watch.user_id == user.id)).scalar_one()


def remove_watch(watch_row: Watch) -> None:
    """Delete one watch (the unsubscribe link)."""
    db.session.delete(watch_row)
    db.session.commit()


def _thread_watches(thread: Thread, *, with_space_and_tags: bool) -> dict[int, Watch]:
    """user id -> the watch that makes them follow this thread (the thread's own watch wins)."""
    targets = [and_(Watch.target_type == WatchTarget.THREAD, Watch.target_id == thread.id)]
    if with_space_and_tags:
        targets.append(and_(Watch.target_type == WatchTarget.SPACE, Watch.target_id == thread.space_id))
        tag_ids = [t.id for t in thread.tags]
        if tag_ids:
            targets.append(and_(Watch.target_type == WatchTarget.TAG, Watch.target_id.in_(tag_ids)))
    rows = db.session.execute(select(Watch).options(selectinload(Watch.user)).where(or_(*targets))).scalars()
    found: dict[int, Watch] = {}
    for row in rows:
        if row.user_id not in found or row.target_type is WatchTarget.THREAD:
            found[row.user_id] = row
    return found


# --- mentions ------------------------------------------------------------------------------------

def mentioned_names(text: str) -> list[str]:
    """The distinct @names in a text (lower-case), at most ``MAX_MENTIONS``."""
    names: list[str] = []
    for match in MENTION_RE.finditer(text or ""):
        name = mention_name(match).lower()
        if name and name not in names:
            names.append(name)
    return names[:MAX_MENTIONS]


def mentioned_users(text: str) -> list[User]:
    """Users named directly (@username) and members of organisations named by slug (@org-slug)."""
    names = mentioned_names(text)
    if not names:
        return []
    users = {u.id: u for u in db.session.execute(
        select(User).where(func.lower(User.username).in_(names))).scalars()}
    org_ids = list(db.session.execute(
        select(Organisation.id).where(func.lower(Organisation.slug).in_(names))).scalars())
    for org_id in org_ids:
        members = db.session.execute(select(User).where(User.organisation_id == org_id)
                                     .order_by(User.id).limit(MAX_GROUP_MEMBERS)).scalars()
        users.update({u.id: u for u in members})
    return list(users.values())


# --- fan-out -------------------------------------------------------------------------------------

def _deliverable(user: User, actor: User | None) -> bool:
    return user.active and not user.is_placeholder and (actor is None or user.id != actor.id)


def _fan_out(kind: NotificationKind, recipients: Iterable[tuple[User, Watch | None]], *, actor: User | None,
             may_see: Callable[[User], bool], exclude: set[int] | None = None, **refs) -> list[Notification]:
    """One inbox item per recipient who may see the subject now; never the actor themself."""
    made, seen = [], set(exclude or ())
    for user, watch_row in recipients:
        if user.id in seen or not _deliverable(user, actor) or not may_see(user):
            continue
        seen.add(user.id)
        item = Notification(user_id=user.id, kind=kind, actor_id=actor.id if actor else None,
                            watch_id=watch_row.id if watch_row else None, **refs)
        db.session.add(item)
        made.append(item)
    return made


def _finish(made: list[Notification]) -> list[Notification]:
    # Their mail joins the same transaction (the outbox), and leaves once both are committed.
    jobs = notification_email.queue_immediate(made)
    db.session.commit()
    background.dispatch(*jobs)
    return made


def _mention_items(text: str, actor: User, may_see: Callable[[User], bool], **refs) -> list[Notification]:
    users = mentioned_users(text)
    return _fan_out(NotificationKind.MENTION, ((u, None) for u in users), actor=actor, may_see=may_see, **refs)


def mentions_edited(editor: User, previous_md: str, thread: Thread, reply: Reply | None = None) -> list[Notification]:
    """An edit that adds @names notifies only the newly named (who may see the post)."""
    current = reply.body_md if reply is not None else thread.body_md
    before = set(mentioned_names(previous_md))
    added = [name for name in mentioned_names(current) if name not in before]
    if not added:
        return []

    def may_see(user: User) -> bool:
        return permissions.can_view_reply(user, reply) if reply is not None else permissions.can_view(user, thread)

    made = _mention_items(" ".join(f"@{name}" for name in added), editor, may_see, thread_id=thread.id,
                          reply_id=reply.id if reply is not None else None)
    return _finish(made)


def thread_created(thread: Thread) -> list[Notification]:
    """The asker watches their thread; @mentions in it and space/tag watchers hear of it."""
    author = thread.author
    watch(author, WatchTarget.THREAD, thread.id)

    def may_see(user: User) -> bool:
        return permissions.can_view(user, thread)

    made = _mention_items(thread.body_md, author, may_see, thread_id=thread.id)
    mentioned = {n.user_id for n in made}
    watchers = _thread_watches(thread, with_space_and_tags=True)
    made += _fan_out(NotificationKind.NEW_THREAD, ((w.user, w) for w in watchers.values()), actor=author,
                     may_see=may_see, exclude=mentioned, thread_id=thread.id)
    return _finish(made)


def reply_added(reply: Reply) -> list[Notification]:
    """The replier watches the thread; mentioned people and the thread's watchers hear of the reply."""
    thread, author = reply.thread, reply.author
    watch(author, WatchTarget.THREAD, thread.id)

    def may_see(user: User) -> bool:  # a staff note reaches employees only
        return permissions.can_view_reply(user, reply)

    made = _mention_items(reply.body_md, author, may_see, thread_id=thread.id, reply_id=reply.id)
    mentioned = {n.user_id for n in made}
    watchers = _thread_watches(thread, with_space_and_tags=False)
    made += _fan_out(NotificationKind.REPLY, ((w.user, w) for w in watchers.values()), actor=author,
                     may_see=may_see, exclude=mentioned, thread_id=thread.id, reply_id=reply.id)
    return _finish(made)


def _thread_event(kind: NotificationKind, thread: Thread, reply: Reply | None, actor: User,
                  first: User | None = None) -> list[Notification]:
    watchers = _thread_watches(thread, with_space_and_tags=False)
    recipients = [(first, watchers.get(first.id))] if first is not None else []
    recipients += [(w.user, w) for w in watchers.values()]

    def may_see(user: User) -> bool:
        return permissions.can_view_reply(user, reply) if reply is not None else permissions.can_view(user, thread)

    made = _fan_out(kind, recipients, actor=actor, may_see=may_see, thread_id=thread.id,
                    reply_id=reply.id if reply else None)
    return _finish(made)


def answer_accepted(thread: Thread, reply: Reply, actor: User) -> list[Notification]:
    """The answer's author and the thread's watchers hear that an answer was accepted."""
    return _thread_event(NotificationKind.ACCEPTED, thread, reply, actor, first=reply.author)


def answer_confirmed(thread: Thread, actor: User) -> list[Notification]:
    """'Worked for us too': the accepted answer's author and the watchers hear of it."""
    reply = thread.accepted_reply
    return _thread_event(NotificationKind.CONFIRMED, thread, reply, actor,
                         first=reply.author if reply is not None else None)


def thread_assigned(thread: Thread, assignee: User, actor: User) -> list[Notification]:
    """The assignee of an escalated thread hears of it (unless they assigned it to themself)."""
    made = _fan_out(NotificationKind.ASSIGNED, [(assignee, None)], actor=actor,
                    may_see=lambda u: permissions.can_view(u, thread), thread_id=thread.id)
    return _finish(made)


def pattern_emerging(pattern, recipients: Iterable[User] | None = None) -> list[Notification]:
    """Leads (or the given users) and the pattern's watchers hear that a pattern is emerging."""
    if recipients is None:
        recipients = db.session.execute(select(User).where(permissions.leads(), User.active.is_(True))).scalars()
    watchers = db.session.execute(select(Watch).options(selectinload(Watch.user)).where(
        Watch.target_type == WatchTarget.PATTERN, Watch.target_id == pattern.id)).scalars()
    pairs = [(w.user, w) for w in watchers] + [(u, None) for u in recipients]
    made = _fan_out(NotificationKind.PATTERN_EMERGING, pairs, actor=None, may_see=permissions.can_view_patterns,
                    pattern_id=pattern.id)
    return _finish(made)


def playbook_updated(playbook, actor: User | None) -> list[Notification]:
    """The playbook's watchers hear that it changed."""
    watchers = db.session.execute(select(Watch).options(selectinload(Watch.user)).where(
        Watch.target_type == WatchTarget.PLAYBOOK, Watch.target_id == playbook.id)).scalars()
    made = _fan_out(NotificationKind.PLAYBOOK_UPDATED, ((w.user, w) for w in watchers), actor=actor,
                    may_see=lambda u: permissions.can_view_playbook(u, playbook), playbook_id=playbook.id)
    return _finish(made)


def bookmark_due(bookmark) -> list[Notification]:
    """A bookmark's reminder date came: its owner hears of it, if they may still see what it keeps."""
    reply = bookmark.reply

    def may_see(user: User) -> bool:
        return permissions.can_view_reply(user, reply) if reply is not None else permissions.can_view(user, bookmark.thread)

    owner = db.session.get(User, bookmark.user_id)
    made = _fan_out(NotificationKind.REMINDER, [(owner, None)], actor=None, may_see=may_see,
                    thread_id=bookmark.thread_id, reply_id=bookmark.reply_id)
    return _finish(made)


def message_sent(conversation, author: User, members: Iterable[User]) -> list[Notification]:
    """The other members hear of a new message: one unread item per conversation, not one per message."""
    waiting = set(db.session.execute(select(Notification.user_id).where(
        Notification.conversation_id == conversation.id, Notification.kind == NotificationKind.MESSAGE,
        Notification.read_at.is_(None))).scalars())

    def may_see(user: User) -> bool:
        return permissions.can_view_conversation(user, {m.id for m in members})

    members = list(members)
    made = _fan_out(NotificationKind.MESSAGE, ((m, None) for m in members), actor=author, may_see=may_see,
                    exclude=waiting, conversation_id=conversation.id)
    return _finish(made)


def question_routed(thread: Thread, solvers: Iterable[User]) -> list[Notification]:
    """A new question like ones these members solved (``routing`` chose them; each must still see it)."""
    made = _fan_out(NotificationKind.ROUTED, ((u, None) for u in solvers), actor=None,
                    may_see=lambda user: permissions.may_be_routed(user, thread), thread_id=thread.id)
    return _finish(made)


def idea_status_changed(thread: Thread, voters: Iterable[User], actor: User) -> list[Notification]:
    """Everyone who voted for an idea hears that staff changed its status (if they may still see it)."""

    def may_see(user: User) -> bool:
        return permissions.can_view(user, thread)

    made = _fan_out(NotificationKind.IDEA_STATUS, ((u, None) for u in voters), actor=actor, may_see=may_see,
                    thread_id=thread.id)
    return _finish(made)


def version_added(version: ProductVersion, actor: User | None = None) -> list[Notification]:
    """A version entered the catalog with playbooks to review on it: each lead hears of them once (the catalog
    asks only when its review list holds something; a new product's first version has nothing to review)."""
    exists = db.session.execute(select(Notification.id).where(
        Notification.kind == NotificationKind.VERSION_REVIEW,
        Notification.product_version_id == version.id).limit(1)).first()
    if exists is not None:
        return []
    leads = db.session.execute(select(User).where(permissions.leads(), User.active.is_(True))
                               .order_by(User.id)).scalars()
    made = _fan_out(NotificationKind.VERSION_REVIEW, ((u, None) for u in leads), actor=actor,
                    may_see=permissions.can_edit_playbook, product_version_id=version.id)
    return _finish(made)


def safely(fn: Callable, *args, **kwargs) -> None:
    """Run a fan-out after the action it reports has committed: a failure here must not undo or fail it."""
    try:
        fn(*args, **kwargs)
    except Exception:  # noqa: BLE001 — logged; the post itself is already saved
        db.session.rollback()
        log.exception("notification fan-out failed in %s", getattr(fn, "__name__", fn))


# --- preferences ---------------------------------------------------------------------------------

def email_mode(user: User) -> EmailMode:
    """The user's email preference (immediate when never set)."""
    row = db.session.get(NotificationSetting, user.id)
    return row.email_mode if row is not None else EmailMode.IMMEDIATE


def set_email_mode(user: User, mode: EmailMode) -> None:
    """Save the user's email preference."""
    row = db.session.get(NotificationSetting, user.id)
    if row is None:
        row = NotificationSetting(user_id=user.id, email_mode=mode)
        db.session.add(row)
    row.email_mode = mode
    db.session.commit()


# --- what the watch buttons and the settings page name -------------------------------------------

def watch_kind(value: str) -> WatchTarget:
    """The kind of thing a watch follows, from its name (``ValueError`` for an unknown one)."""
    return WatchTarget(value)


def email_modes() -> list[EmailMode]:
    return list(EmailMode)


def parse_email_mode(value: str) -> EmailMode:
    """The e-mail mode named ``value`` (``ValueError`` for an unknown one)."""
    return EmailMode(value)


def visible_watch_target(user: User, target: WatchTarget, target_id: int) -> Space | Tag | Pattern | Playbook | None:
    """The space, tag, pattern or playbook a watch would follow, if ``user`` may see it; None otherwise."""
    if target is WatchTarget.SPACE:
        space = db.session.get(Space, target_id)
        return space if space is not None and permissions.can_view_space(user, space) else None
    if target is WatchTarget.TAG:
        return db.session.get(Tag, target_id)
    if target is WatchTarget.PATTERN:
        return db.session.get(Pattern, target_id) if permissions.can_view_patterns(user) else None
    if target is WatchTarget.PLAYBOOK:
        playbook = db.session.get(Playbook, target_id)
        return playbook if playbook is not None and permissions.can_view_playbook(user, playbook) else None
    return None

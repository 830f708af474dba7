"""Moderation: flags and their review, lock, pin, hide, move, visibility, merge — each one audited.

Plain functions with explicit inputs; they decide with ``forum.permissions``, raise ``PermissionDenied``
(visible, but not yours to do) or ``ValidationFailed`` (a form error), record an audit entry and commit.
"""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import Select, select, update
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...models import (
    Flag,
    FlagReason,
    FlagStatus,
    Reply,
    Space,
    SpaceModerator,
    Thread,
    User,
    Visibility,
    utcnow,
)
from ...permissions import PermissionDenied
from ..board.threads import ValidationFailed, _settle_status
from . import audit

MAX_MERGE_HOPS = 5


# --- flags ---------------------------------------------------------------------------------------

def flag(user: User, thread: Thread, reason: FlagReason | str, detail: str = "",
         reply: Reply | None = None) -> Flag:
    """Report a thread (or one of its replies) to its moderators; one open flag per user and item."""
    if not permissions.can_flag(user, thread) or (reply is not None and (
            reply.thread_id != thread.id or not permissions.can_view_reply(user, reply))):
        raise PermissionDenied(gettext("You cannot flag this."))
    try:
        reason = FlagReason(reason)
    except ValueError as exc:
        raise ValidationFailed(gettext("Choose a reason."), "reason") from exc
    open_already = db.session.execute(select(Flag.id).where(
        Flag.reporter_id == user.id, Flag.thread_id == thread.id, Flag.status == FlagStatus.OPEN,
        Flag.reply_id.is_(None) if reply is None else Flag.reply_id == reply.id)).first()
    if open_already:
        raise ValidationFailed(gettext("You have already flagged this; a moderator will look at it."), "reason")
    row = Flag(thread_id=thread.id, reply_id=reply.id if reply else None, reporter_id=user.id,
               reason=reason, detail=(detail or "").strip()[:1000])
    db.session.add(row)
    db.session.commit()
    return row


def flags_query(moderator: User, status: FlagStatus | None = FlagStatus.OPEN) -> Select:
    """Flags on the threads of the spaces this user moderates, oldest open first."""
    query = (select(Flag).join(Thread, Flag.thread_id == Thread.id)
             .where(permissions.moderated_spaces_clause(moderator, Thread.space_id),
                    permissions.visible_threads(moderator))
             # The queue shows each flagged post with its author: load them with the flags, not one by one.
             .options(selectinload(Flag.thread).selectinload(Thread.space),
                      selectinload(Flag.thread).selectinload(Thread.author),
                      selectinload(Flag.reply).selectinload(Reply.author),
                      selectinload(Flag.reporter), selectinload(Flag.reviewed_by)))
    if status is not None:
        query = query.where(Flag.status == status)
    return query.order_by(Flag.created_at.desc() if status is not FlagStatus.OPEN else Flag.created_at,
                          Flag.id)


def review_flag(moderator: User, row: Flag, decision: FlagStatus | str, note: str = "") -> Flag:
    """Resolve (action taken) or dismiss (nothing wrong) an open flag, with a note."""
    if not permissions.can_moderate_thread(moderator, row.thread):
        raise PermissionDenied(gettext("You do not moderate this space."))
    try:
        decision = FlagStatus(decision)
    except ValueError as exc:
        raise ValidationFailed(gettext("Resolve or dismiss.")) from exc
    if decision is FlagStatus.OPEN:
        raise ValidationFailed(gettext("Resolve or dismiss."))
    if row.status is not FlagStatus.OPEN:
        raise ValidationFailed(gettext("This flag has already been reviewed."))
    row.status, row.reviewed_by_id, row.reviewed_at = decision, moderator.id, utcnow()
    row.review_note = (note or "").strip()[:1000]
    audit.record(f"flag.{decision.value}", row, actor=moderator,
                 says=("flag.review", {"reason": row.reason.value, "thread_id": row.thread_id}))
    db.session.commit()
    return row


# --- thread actions ------------------------------------------------------------------------------

def _require(moderator: User, thread: Thread) -> None:
    if not permissions.can_moderate_thread(moderator, thread):
        raise PermissionDenied(gettext("You do not moderate this space."))


def set_locked(moderator: User, thread: Thread, locked: bool) -> Thread:
    """Lock (no new replies except from moderators) or unlock."""
    _require(moderator, thread)
    thread.is_locked = locked
    audit.record("thread.lock" if locked else "thread.unlock", thread, actor=moderator, summary=thread.title)
    db.session.commit()
    return thread


def set_pinned(moderator: User, thread: Thread, pinned: bool) -> Thread:
    """Pin to the top of its space's list, or unpin."""
    _require(moderator, thread)
    thread.is_pinned = pinned
    audit.record("thread.pin" if pinned else "thread.unpin", thread, actor=moderator, summary=thread.title)
    db.session.commit()
    return thread


def set_hidden(moderator: User, thread: Thread, hidden: bool) -> Thread:
    """Hide from everyone but employees, or show again."""
    _require(moderator, thread)
    thread.hidden_at = (thread.hidden_at or utcnow()) if hidden else None
    audit.record("thread.hide" if hidden else "thread.unhide", thread, actor=moderator, summary=thread.title)
    db.session.commit()
    return thread


def move(moderator: User, thread: Thread, space: Space) -> Thread:
    """Move to another space; a space moderator must moderate both."""
    _require(moderator, thread)
    if not permissions.can_moderate_space(moderator, space.id):
        raise ValidationFailed(gettext("You do not moderate that space."), "space")
    if space.id != thread.space_id:
        thread.space_id = space.id
        audit.record("thread.move", thread, actor=moderator, summary=f"{thread.title} → {space.name}")
        db.session.commit()
    return thread


def change_visibility(moderator: User, thread: Thread, visibility: Visibility | str,
                      confirmed_public: bool = False) -> Thread:
    """Change who may see a thread; making it public needs an explicit confirmation."""
    _require(moderator, thread)
    try:
        visibility = Visibility(visibility)
    except ValueError as exc:
        raise ValidationFailed(gettext("Choose a visibility."), "visibility") from exc
    if visibility is thread.visibility:
        return thread
    if visibility is Visibility.PUBLIC and not confirmed_public:
        raise ValidationFailed(gettext("Making this thread public shows it (and every reply) to all members: "
                               "tick the confirmation to go ahead."), "confirm_public")
    thread.visibility = visibility
    audit.record("thread.visibility", thread, actor=moderator, summary=thread.title)
    db.session.commit()
    return thread


def _audience_covered(source: Thread, target: Thread) -> bool:
    """Would everyone who may see ``target`` have been allowed to see ``source``? (No leak by merging.)"""
    if source.visibility is Visibility.PUBLIC or target.visibility is Visibility.INTERNAL:
        return True
    return (source.visibility is target.visibility is Visibility.ORG_PRIVATE
            and source.organisation_id == target.organisation_id)


def merge(moderator: User, source: Thread, target: Thread) -> Thread:
    """Merge a duplicate into ``target``: its replies move, its old URL redirects to the target."""
    _require(moderator, source)
    if not permissions.can_moderate_thread(moderator, target):
        raise ValidationFailed(gettext("You cannot moderate the target thread."), "target")
    if source.id == target.id:
        raise ValidationFailed(gettext("A thread cannot be merged into itself."), "target")
    if not _audience_covered(source, target):
        raise ValidationFailed(gettext("The target is seen by people who may not see this thread; merge into a "
                               "thread with the same (or a narrower) audience."), "target")
    moved = db.session.execute(update(Reply).where(Reply.thread_id == source.id)
                               .values(thread_id=target.id).execution_options(synchronize_session=False))
    # Open reports follow the replies they are about, so the review queue still shows them.
    db.session.execute(update(Flag).where(Flag.thread_id == source.id).values(thread_id=target.id)
                       .execution_options(synchronize_session=False))
    before = {"merged_into_id": None, "status": source.status.value, "reply_count": source.reply_count}
    source.merged_into_id = target.id
    source.accepted_reply_id = None
    source.reply_count = 0
    target.last_activity_at = max(target.last_activity_at, source.last_activity_at)
    db.session.flush()
    db.session.expire(target, ["replies"])
    _settle_status(target)
    audit.record("thread.merge", source, actor=moderator, before=before,
                 after={"merged_into_id": target.id, "replies_moved": moved.rowcount},
                 summary=f"{source.title} → {target.title}")
    db.session.commit()
    return target


def merge_redirect(user: User | None, thread_id: int) -> int | None:
    """Where a merged thread's URL leads: the final target's id, only when this user may see it."""
    seen = set()
    current = db.session.get(Thread, thread_id) if 0 < thread_id <= 2**31 - 1 else None
    while current is not None and current.merged_into_id is not None and len(seen) < MAX_MERGE_HOPS:
        seen.add(current.id)
        current = db.session.get(Thread, current.merged_into_id)
    if current is None or not seen or not permissions.can_view(user, current):
        return None
    return current.id


def movable_spaces(moderator: User, thread: Thread) -> list[Space]:
    """Spaces this moderator may move the thread to."""
    spaces = db.session.execute(select(Space).order_by(Space.position, Space.name)).scalars()
    return [s for s in spaces if s.id != thread.space_id and permissions.can_moderate_space(moderator, s.id)]


# --- space moderators (admin) --------------------------------------------------------------------

def space_moderators() -> list[SpaceModerator]:
    return list(db.session.execute(
        select(SpaceModerator).options(selectinload(SpaceModerator.space), selectinload(SpaceModerator.user))
        .join(Space).order_by(Space.position, Space.name, SpaceModerator.id)).scalars())


def add_space_moderator(admin: User, space: Space, user: User) -> SpaceModerator:
    """Make an employee a moderator of one space."""
    if not permissions.can_administer(admin):
        raise PermissionDenied(gettext("Admins only."))
    if not user.is_employee:
        raise ValidationFailed(gettext("Only employees can moderate a space."), "user")
    exists = db.session.execute(select(SpaceModerator.id).filter_by(space_id=space.id, user_id=user.id)).first()
    if exists:
        raise ValidationFailed(gettext('%(display_name)s already moderates %(name)s.', display_name=user.display_name, name=space.name), "user")
    row = SpaceModerator(space_id=space.id, user_id=user.id)
    db.session.add(row)
    db.session.commit()
    audit.record("space_moderator.add", row, actor=admin,
                 says=("space_moderator", {"username": user.username, "space": space.name}),
                 commit=True)
    return row


def remove_space_moderator(admin: User, row: SpaceModerator) -> None:
    if not permissions.can_administer(admin):
        raise PermissionDenied(gettext("Admins only."))
    audit.record("space_moderator.remove", row, actor=admin, before=audit.snapshot(row), after=None,
                 says=("space_moderator", {"username": row.user.username, "space": row.space.name}))
    db.session.delete(row)
    db.session.commit()


# --- lookups for the moderation pages --------------------------------------------------------------

def flag_status(value: str) -> FlagStatus:
    """The flag status named ``value``; open for anything else."""
    return FlagStatus(value) if value in {s.value for s in FlagStatus} else FlagStatus.OPEN


def flag_statuses() -> list[FlagStatus]:
    return list(FlagStatus)


def flag_row(flag_id: int) -> Flag | None:
    return db.session.get(Flag, flag_id)


def space_moderator(space_moderator_id: int) -> SpaceModerator | None:
    return db.session.get(SpaceModerator, space_moderator_id)


def spaces_in_order() -> list[Space]:
    """Every space in the board's order (the pickers of the moderation pages)."""
    return list(db.session.execute(db.select(Space).order_by(Space.position, Space.name)).scalars())

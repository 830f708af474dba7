"""Leads' curation of mined patterns: rename, describe, merge, dismiss/restore, file threads in or out.

Curation is what survives a re-run: FILED and EXCLUDED memberships and curated names are kept by the
mining run (see ``mining_runs``), MINED and ASSIGNED ones are replaced by it. Every action is audited
in the same transaction as the change.
"""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import delete, select, update

from ... import permissions
from ...extensions import db
from ...models import MembershipSource, Pattern, PatternMember, PatternStatus, Playbook, Thread, User, utcnow
from ...permissions import PermissionDenied
from ..community import routing
from ..moderation import audit

NAME_MAX = 200
DESCRIPTION_MAX = 5000
MACHINE_SOURCES = (MembershipSource.MINED, MembershipSource.ASSIGNED)


class CurationError(Exception):
    """The action makes no sense for this pattern or thread; ``message`` says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _require_lead(user: User | None) -> None:
    if not permissions.can_curate_patterns(user):
        raise PermissionDenied(gettext("only leads curate patterns"))


def _status_refusal(status: PatternStatus) -> str:
    # Whole sentences per status: a status word spliced into one sentence does not translate.
    return {PatternStatus.ACTIVE: gettext("This pattern is active."),
            PatternStatus.DISMISSED: gettext("This pattern was dismissed."),
            PatternStatus.MERGED: gettext("This pattern was merged into another one.")}[status]


def _require_status(pattern: Pattern, *statuses: PatternStatus) -> None:
    if pattern.status not in statuses:
        raise CurationError(_status_refusal(pattern.status))


def _commit(pattern: Pattern) -> Pattern:
    pattern.updated_at = utcnow()
    db.session.commit()
    return pattern


def rename(user: User | None, pattern: Pattern, name: str) -> Pattern:
    """Give the pattern a lead's name; re-mining keeps it."""
    _require_lead(user)
    _require_status(pattern, PatternStatus.ACTIVE, PatternStatus.DISMISSED)
    name = " ".join((name or "").split())
    if not name:
        raise CurationError(gettext("A name is required."), "name")
    if len(name) > NAME_MAX:
        raise CurationError(gettext('At most %(NAME_MAX)s characters.', NAME_MAX=NAME_MAX), "name")
    pattern.name, pattern.name_curated = name, True
    audit.record("pattern.rename", pattern, actor=user, summary=name)
    return _commit(pattern)


def describe(user: User | None, pattern: Pattern, description: str) -> Pattern:
    """Set the pattern's description (plain text)."""
    _require_lead(user)
    _require_status(pattern, PatternStatus.ACTIVE, PatternStatus.DISMISSED)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise CurationError(gettext('At most %(DESCRIPTION_MAX)s characters.', DESCRIPTION_MAX=DESCRIPTION_MAX), "description")
    pattern.description = description
    audit.record("pattern.describe", pattern, actor=user, summary=pattern.name)
    return _commit(pattern)


def dismiss(user: User | None, pattern: Pattern) -> Pattern:
    """Hide the pattern; it keeps matching its cluster on re-runs, so it is not proposed again."""
    _require_lead(user)
    _require_status(pattern, PatternStatus.ACTIVE)
    pattern.status = PatternStatus.DISMISSED
    audit.record("pattern.dismiss", pattern, actor=user, summary=pattern.name)
    return _commit(pattern)


def restore(user: User | None, pattern: Pattern) -> Pattern:
    """Bring a dismissed pattern back."""
    _require_lead(user)
    _require_status(pattern, PatternStatus.DISMISSED)
    pattern.status = PatternStatus.ACTIVE
    audit.record("pattern.restore", pattern, actor=user, summary=pattern.name)
    return _commit(pattern)


def merge(user: User | None, source: Pattern, target: Pattern) -> Pattern:
    """Fold ``source`` into ``target``: its members become FILED members of target (unless excluded there)."""
    _require_lead(user)
    if source.id == target.id:
        raise CurationError(gettext("A pattern cannot be merged into itself."), "target")
    _require_status(source, PatternStatus.ACTIVE, PatternStatus.DISMISSED)
    if target.status is not PatternStatus.ACTIVE:
        raise CurationError(gettext("Merge into an active pattern."), "target")
    moving = db.session.execute(select(PatternMember).where(
        PatternMember.pattern_id == source.id, PatternMember.source != MembershipSource.EXCLUDED)).scalars().all()
    existing = {m.thread_id: m for m in db.session.execute(
        select(PatternMember).where(PatternMember.pattern_id == target.id)).scalars()}
    for member in moving:
        there = existing.get(member.thread_id)
        if there is None:
            db.session.add(PatternMember(pattern_id=target.id, thread_id=member.thread_id,
                                         source=MembershipSource.FILED, filed_by_id=user.id,
                                         similarity=member.similarity))
        elif there.source is not MembershipSource.EXCLUDED:
            there.source, there.filed_by_id = MembershipSource.FILED, user.id
        db.session.delete(member)
    # The playbook written for the merged pattern now belongs to the one it went into.
    playbooks = db.session.execute(update(Playbook).where(Playbook.pattern_id == source.id)
                                   .values(pattern_id=target.id))
    source.status, source.merged_into_id = PatternStatus.MERGED, target.id
    target.updated_at = utcnow()
    before, after = audit.changes(source)
    after.update(threads_moved=len(moving), playbooks_moved=playbooks.rowcount)
    audit.record("pattern.merge", source, actor=user, before=before, after=after,
                 summary=f"{source.name} → {target.name}")
    return _commit(source)


def file_thread(user: User | None, pattern: Pattern, thread: Thread) -> PatternMember:
    """File ``thread`` into ``pattern`` (FILED), dropping its machine and filed memberships elsewhere."""
    _require_lead(user)
    _require_status(pattern, PatternStatus.ACTIVE)
    before = _memberships_of(thread)
    # One home per thread: the engine's guesses and earlier filings elsewhere give way to this decision.
    db.session.execute(delete(PatternMember).where(
        PatternMember.thread_id == thread.id, PatternMember.pattern_id != pattern.id,
        PatternMember.source.in_((*MACHINE_SOURCES, MembershipSource.FILED))))
    member = _membership(pattern, thread)
    member.source, member.filed_by_id, member.created_at = MembershipSource.FILED, user.id, utcnow()
    _record_membership("pattern.file_thread", user, pattern, thread, before)
    _commit(pattern)
    routing.after_assignment(member)  # members who solved this pattern and opted in hear of the question
    return member


def exclude_thread(user: User | None, pattern: Pattern, thread: Thread) -> PatternMember:
    """File ``thread`` out of ``pattern`` (EXCLUDED): it is never shown there or re-proposed by the engine."""
    _require_lead(user)
    _require_status(pattern, PatternStatus.ACTIVE, PatternStatus.DISMISSED)
    before = _memberships_of(thread)
    member = _membership(pattern, thread)
    member.source, member.filed_by_id, member.is_representative = MembershipSource.EXCLUDED, user.id, False
    member.created_at = utcnow()
    _record_membership("pattern.exclude_thread", user, pattern, thread, before)
    _commit(pattern)
    return member


def _membership(pattern: Pattern, thread: Thread) -> PatternMember:
    member = db.session.execute(select(PatternMember).where(
        PatternMember.pattern_id == pattern.id, PatternMember.thread_id == thread.id)).scalar_one_or_none()
    if member is None:
        member = PatternMember(pattern_id=pattern.id, thread_id=thread.id)
        db.session.add(member)
    return member


def _memberships_of(thread: Thread) -> dict[str, str]:
    """The thread's pattern memberships as {pattern id: source}: what a filing changes."""
    rows = db.session.execute(select(PatternMember.pattern_id, PatternMember.source)
                              .where(PatternMember.thread_id == thread.id)).all()
    return {str(pattern_id): source.value for pattern_id, source in sorted(rows, key=lambda r: r[0])}


def _record_membership(action: str, user: User, pattern: Pattern, thread: Thread, before: dict[str, str]) -> None:
    # The row that changes is a membership, but the log is read by pattern: the pattern is the target,
    # and before/after show every pattern the thread belonged to, since filing also drops other homes.
    after = _memberships_of(thread)
    audit.record(action, pattern, actor=user, before={"thread_id": thread.id, "memberships": before},
                 after={"thread_id": thread.id, "memberships": after},
                 says=("pattern.thread", {"thread_id": thread.id, "title": thread.title}))


def thread(thread_id: int) -> Thread | None:
    """The thread a lead named by number, to file into or out of a pattern."""
    return db.session.get(Thread, thread_id)

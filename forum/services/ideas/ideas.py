"""Ideas: the list of an ideas space (by votes from distinct customer organisations), one vote per member,
statuses set by staff with a public note (voters are notified), and the pattern whose fix waits on an idea."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal, gettext
from sqlalchemy import Select, and_, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...models import (
    Idea,
    IdeaStatus,
    IdeaVote,
    Organisation,
    OrgKind,
    Pattern,
    Space,
    Thread,
    User,
    utcnow,
)
from ...permissions import PermissionDenied
from ..board.pages import LIST_OPTIONS, Page, fetch_page
from ..board.threads import ValidationFailed
from ..community import notifications
from ..moderation import audit

STATUS_LABELS = {IdeaStatus.NEW: "New", IdeaStatus.UNDER_REVIEW: "Under review", IdeaStatus.PLANNED: "Planned",
                 IdeaStatus.SHIPPED: "Shipped", IdeaStatus.DECLINED: "Declined"}
MAX_NOTE = 2000


@dataclass
class IdeaPanel:
    """What an idea's thread page shows about it."""

    idea: Idea
    voted: bool
    may_vote: bool
    may_set_status: bool
    patterns: list[Pattern]


def _idea(thread: Thread) -> Idea:
    """The idea row of an ideas-space thread, made on first use (a thread asked there has none yet)."""
    row = db.session.get(Idea, thread.id)
    if row is None:
        try:
            with db.session.begin_nested():
                row = Idea(thread_id=thread.id, status=IdeaStatus.NEW, status_note="", votes=0,
                           customer_org_votes=0)
                db.session.add(row)
        except IntegrityError:  # made at the same moment by another request
            row = db.session.get(Idea, thread.id)
    return row


def ideas_query(user: User | None, space: Space, status: IdeaStatus | None = None) -> Select:
    """The visible ideas of a space, most wanted first: by votes from distinct customer organisations, then all
    votes, then newest."""
    query = (select(Thread).outerjoin(Idea, Idea.thread_id == Thread.id)
             .where(Thread.space_id == space.id, permissions.visible_threads(user)).options(*LIST_OPTIONS))
    if status is not None:
        query = query.where(Idea.status == status) if status is not IdeaStatus.NEW else query.where(
            (Idea.status == IdeaStatus.NEW) | Idea.thread_id.is_(None))
    return query.order_by(func.coalesce(Idea.customer_org_votes, 0).desc(), func.coalesce(Idea.votes, 0).desc(),
                          Thread.created_at.desc(), Thread.id.desc())


def list_ideas(user: User | None, space: Space, page: int, per_page: int, status: IdeaStatus | None = None) -> Page:
    """One page of ``ideas_query`` with each idea's row (status, counts) and whether the user voted."""
    result = fetch_page(ideas_query(user, space, status), page, per_page)
    ids = [t.id for t in result.items]
    rows = {i.thread_id: i for i in db.session.execute(select(Idea).where(Idea.thread_id.in_(ids))).scalars()} \
        if ids else {}
    mine = set(db.session.execute(select(IdeaVote.thread_id).where(
        IdeaVote.thread_id.in_(ids), IdeaVote.user_id == user.id)).scalars()) if ids and user.is_authenticated else set()
    result.extra = {"ideas": rows, "voted": mine}
    return result


def panel(user: User | None, thread: Thread) -> IdeaPanel | None:
    """The idea box of a thread page; None for threads outside ideas spaces (no query for those)."""
    if not permissions.is_idea(thread):
        return None
    idea = db.session.get(Idea, thread.id) or Idea(thread_id=thread.id, status=IdeaStatus.NEW, status_note="",
                                                   votes=0, customer_org_votes=0)
    voted = bool(user is not None and user.is_authenticated and db.session.execute(select(IdeaVote.id).where(
        IdeaVote.thread_id == thread.id, IdeaVote.user_id == user.id)).first())
    patterns = list(db.session.execute(select(Pattern).where(Pattern.idea_thread_id == thread.id)
                                       .order_by(Pattern.id)).scalars()) if permissions.can_view_patterns(user) else []
    return IdeaPanel(idea, voted, permissions.can_vote_idea(user, thread),
                     permissions.can_set_idea_status(user, thread), patterns)


def recount(idea: Idea) -> None:
    """Count an idea's votes again: all of them, and the distinct customer organisations they come from."""
    idea.votes = db.session.execute(select(func.count(IdeaVote.id)).where(IdeaVote.thread_id == idea.thread_id)
                                    ).scalar_one()
    idea.customer_org_votes = db.session.execute(
        select(func.count(distinct(IdeaVote.organisation_id))).join(
            Organisation, and_(Organisation.id == IdeaVote.organisation_id, Organisation.kind == OrgKind.CUSTOMER))
        .where(IdeaVote.thread_id == idea.thread_id)).scalar_one()


def toggle_vote(user: User, thread: Thread) -> bool:
    """Vote for an idea, or take the vote back; True when the user now votes for it."""
    if not permissions.can_vote_idea(user, thread):
        raise PermissionDenied(gettext("You cannot vote for this idea."))
    idea = _idea(thread)
    existing = db.session.execute(select(IdeaVote).where(
        IdeaVote.thread_id == thread.id, IdeaVote.user_id == user.id)).scalar_one_or_none()
    if existing is not None:
        db.session.delete(existing)
        voted = False
    else:
        try:
            with db.session.begin_nested():  # a double click: the second insert loses quietly
                db.session.add(IdeaVote(thread_id=thread.id, user_id=user.id, organisation_id=user.organisation_id))
        except IntegrityError:
            pass
        voted = True
    db.session.flush()
    recount(idea)
    db.session.commit()
    return voted


def parse_status(value: str | None) -> IdeaStatus:
    try:
        return IdeaStatus(value or "")
    except ValueError as exc:
        raise ValidationFailed(gettext("Pick a status."), "status") from exc


def set_status(user: User, thread: Thread, status: IdeaStatus, note: str) -> Idea:
    """Staff set an idea's status with a public note; everyone who voted for it hears of the change."""
    if not permissions.can_set_idea_status(user, thread):
        raise PermissionDenied(gettext("Only vendor staff set an idea's status."))
    note = (note or "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(gettext("The note can be at most %(limit)s characters long.",
                                       limit=format_decimal(MAX_NOTE)), "note")
    idea = _idea(thread)
    if idea.status is status and idea.status_note == note:
        return idea
    idea.status, idea.status_note = status, note
    idea.status_changed_by_id, idea.status_changed_at = user.id, utcnow()
    audit.record("idea.status", thread, actor=user,
                 says=("idea.status", {"thread_id": thread.id, "status": status.value}))
    db.session.commit()
    voters = list(db.session.execute(select(User).join(IdeaVote, IdeaVote.user_id == User.id)
                                     .where(IdeaVote.thread_id == thread.id)).scalars())
    notifications.safely(notifications.idea_status_changed, thread, voters, user)
    return idea


# --- patterns whose fix is not possible yet ----------------------------------------------------------

def link_pattern(user: User, pattern: Pattern, thread: Thread | None) -> None:
    """Record that no fix for ``pattern`` is possible yet and which idea would allow one (None: unlink)."""
    if not permissions.can_link_pattern_idea(user, thread):
        raise PermissionDenied(gettext("Leads link patterns to ideas."))
    pattern.idea_thread_id = thread.id if thread is not None else None
    audit.record("pattern.idea", pattern, actor=user,
                 says=("pattern.idea", {"pattern_id": pattern.id, "thread_id": thread.id}) if thread else
                 ("pattern.no_idea", {"pattern_id": pattern.id}))
    db.session.commit()


def pattern_idea(user: User | None, pattern: Pattern) -> tuple[Thread, Idea | None] | None:
    """The idea a pattern's fix waits on, if the user may see it."""
    if pattern.idea_thread_id is None:
        return None
    thread = db.session.execute(select(Thread).where(Thread.id == pattern.idea_thread_id)
                                .options(selectinload(Thread.space))).scalar_one_or_none()
    if thread is None or not permissions.can_view(user, thread):
        return None
    return thread, db.session.get(Idea, thread.id)


def idea_by_reference(user: User, raw: str) -> Thread | None:
    """An idea named by its number or its URL (``/t/123``); None when it is not a visible idea."""
    digits = "".join(ch for ch in (raw or "").rsplit("/t/", 1)[-1].split("#")[0].split("?")[0] if ch.isdigit())
    if not digits or len(digits) > 10 or not 0 < int(digits) <= 2**31 - 1:
        return None
    thread = db.session.get(Thread, int(digits))
    if thread is None or not permissions.can_view(user, thread) or not permissions.is_idea(thread):
        return None
    return thread

"""Reports of direct messages: a member reports a message they received; moderators read that message (never
the rest of its conversation) in the review queue and resolve (the message is hidden) or dismiss it."""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...models import FlagReason, FlagStatus, Message, MessageReport, User, utcnow
from ...permissions import PermissionDenied
from ..board.threads import ValidationFailed
from ..moderation import audit
from . import conversations

MAX_ID = 2**31 - 1


def visible_message(user: User, message_id: int) -> Message | None:
    """A message in one of the user's conversations; None otherwise."""
    if not 0 < message_id <= MAX_ID:
        return None
    message = db.session.get(Message, message_id)
    if message is None or conversations.visible_conversation(user, message.conversation_id) is None:
        return None
    return message


def report(user: User, message: Message, reason: str, detail: str = "") -> MessageReport:
    """Report a message someone else wrote in one of the user's conversations (once per message)."""
    if visible_message(user, message.id) is None:
        raise PermissionDenied(gettext("Not your conversation."))
    if message.author_id == user.id:
        raise ValidationFailed(gettext("You cannot report your own message."))
    try:
        reason_value = FlagReason(reason)
    except ValueError as exc:
        raise ValidationFailed(gettext("Pick a reason."), "reason") from exc
    existing = db.session.execute(select(MessageReport).where(
        MessageReport.message_id == message.id, MessageReport.reporter_id == user.id,
        MessageReport.status == FlagStatus.OPEN)).scalar_one_or_none()
    if existing is not None:
        return existing
    row = MessageReport(message_id=message.id, reporter_id=user.id, reason=reason_value, detail=detail[:1000])
    db.session.add(row)
    db.session.commit()
    return row


def reports_query(user: User, status: FlagStatus) -> Select:
    """Reports in ``status``, oldest first for open ones, for those who review them."""
    if not permissions.can_review_message_reports(user):
        raise PermissionDenied(gettext("Reported messages are for moderators."))
    order = MessageReport.created_at.asc() if status is FlagStatus.OPEN else MessageReport.reviewed_at.desc()
    return (select(MessageReport).where(MessageReport.status == status)
            .options(selectinload(MessageReport.message).selectinload(Message.author),
                     selectinload(MessageReport.reporter)).order_by(order, MessageReport.id))


def open_count(user: User) -> int:
    """How many reports wait for review (0 for those who do not review them)."""
    if not permissions.can_review_message_reports(user):
        return 0
    return db.session.execute(select(func.count(MessageReport.id)).where(
        MessageReport.status == FlagStatus.OPEN)).scalar_one()


def report_row(report_id: int) -> MessageReport | None:
    return db.session.get(MessageReport, report_id) if 0 < report_id <= MAX_ID else None


def review(moderator: User, row: MessageReport, decision: str, note: str = "") -> MessageReport:
    """Resolve (the message is hidden from its conversation) or dismiss a report."""
    if not permissions.can_review_message_reports(moderator):
        raise PermissionDenied(gettext("Reported messages are for moderators."))
    if row.status is not FlagStatus.OPEN:
        raise ValidationFailed(gettext("This report was already reviewed."))
    row.status = FlagStatus(decision)
    row.reviewed_by_id, row.reviewed_at, row.review_note = moderator.id, utcnow(), note[:1000]
    if row.status is FlagStatus.RESOLVED and row.message.hidden_at is None:
        row.message.hidden_at = utcnow()
    audit.record(f"message_report.{decision}", row, actor=moderator,
                 says=("message_report", {"report_id": row.id, "message_id": row.message_id}))
    db.session.commit()
    return row

"""The mail outbox: every notification, digest, invitation and password reset becomes a ``MailMessage`` row.

``queue`` adds the row to the caller's session, so it commits (or rolls back) with what caused it, and returns a
background job for the caller to ``background.dispatch`` after its commit; delivery (``delivery.py``) then runs
on the same path as other jobs. Without ``MAIL_SERVER`` (the demo) the row is kept as held: never sent, still
previewable by admins.

A one-time link's token is passed as ``secret`` and written into the bodies as ``SECRET_MARK``; delivery puts
the token in, and anyone reading the outbox (admins) sees the mark instead.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...models import MailMessage, MailStatus, User, utcnow
from .. import background
from ..paging import page_of

DELIVER_MAIL = "groundwork.deliver_mail"
SECRET_MARK = "SECRET-LINK-TOKEN"  # URL-safe, so url_for leaves it as it is
REDACTED = "[one-time link withheld]"

# Writes a message's (text, html) bodies from a template name and its context; the app factory installs the web
# layer's renderer (forum/views/email.py), so services decide what is sent and never touch templates.
render: Callable[[str, dict], tuple[str, str]] | None = None


def mail_enabled() -> bool:
    """Whether mail leaves the forum (``MAIL_SERVER`` is configured); otherwise it is held."""
    return bool(current_app.config.get("MAIL_SERVER"))


def sender() -> str:
    return current_app.config.get("MAIL_DEFAULT_SENDER") or "groundwork@localhost"


def queue(*, kind: str, recipient: str, subject: str, template: str | None = None, context: dict | None = None,
          body_text: str = "", body_html: str = "", user: User | None = None, notification_id: int | None = None,
          secret: str = "") -> background.Job | None:
    """Add one message to the caller's transaction; the job to dispatch after the commit (None when held).

    Bodies come from ``template`` (``mail/<template>.txt`` and ``.html``) rendered with ``context``, or are given.
    """
    if template is not None:
        body_text, body_html = render(template, context or {})
    held = not mail_enabled()
    row = MailMessage(kind=kind, recipient=recipient, subject=subject[:300], body_text=body_text,
                      body_html=body_html or "", user_id=user.id if user is not None else None,
                      notification_id=notification_id, secret=secret,
                      status=MailStatus.HELD if held else MailStatus.QUEUED, due_at=utcnow(), created_at=utcnow())
    db.session.add(row)
    db.session.flush()  # the id, for the job
    if held:
        return None
    return background.enqueue(DELIVER_MAIL, row.id)


# --- what admins see ----------------------------------------------------------------------------------------

STATUSES = tuple(s.value for s in MailStatus)


@dataclass
class Preview:
    message: MailMessage
    body_text: str
    body_html: str


def status_counts() -> dict[str, int]:
    """How many messages are in each state (every state named, zero or not)."""
    rows = db.session.execute(select(MailMessage.status, func.count(MailMessage.id)).group_by(MailMessage.status))
    found = {status.value: count for status, count in rows}
    return {name: found.get(name, 0) for name in STATUSES}


def outbox_page(status: str | None, page: int, per_page: int):
    """One page of the outbox, newest first, narrowed to one state if ``status`` names one."""
    query = select(MailMessage).order_by(MailMessage.id.desc())
    if status in STATUSES:
        query = query.where(MailMessage.status == MailStatus(status))
    return page_of(query, page, per_page)


def preview(message_id: int) -> Preview | None:
    """The message as it would be (or was) sent, its one-time link withheld; None when there is none."""
    row = db.session.get(MailMessage, message_id) if 0 < message_id < 2**31 else None
    if row is None:
        return None
    return Preview(row, row.body_text.replace(SECRET_MARK, REDACTED), row.body_html.replace(SECRET_MARK, REDACTED))


def retry(message_id: int) -> background.Job | None:
    """Queue a failed or cancelled message again, due now with a fresh count of attempts (an admin fixed what
    stood in its way); the job to dispatch, or None when there is no such message or it is not failed/cancelled.
    Held messages stay held while no mail server is configured."""
    row = db.session.get(MailMessage, message_id) if 0 < message_id < 2**31 else None
    if row is None or row.status not in (MailStatus.FAILED, MailStatus.CANCELLED):
        return None
    row.status, row.attempts, row.due_at = MailStatus.QUEUED, 0, utcnow()
    row.last_error = f"sent again by an admin after: {row.last_error}"[:1000]
    job = background.enqueue(DELIVER_MAIL, row.id)  # with a broker, its outbox row joins this commit
    db.session.commit()
    return job

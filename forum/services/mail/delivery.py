"""Delivering the outbox over SMTP (Flask-Mail): one attempt per call, retries with backoff, a final state.

``deliver(id)`` is what the background job runs (the pool, inline, or a Celery worker). It claims the row by
moving ``due_at`` past the attempt (two workers never send one message twice at once), sends it, and records
the outcome: sent; failed at once when the server refuses it for good (5xx); otherwise queued again for
``MAIL_RETRY_SECONDS`` doubling up to ``MAIL_RETRY_MAX_SECONDS``, and failed with the reason after
``MAIL_MAX_ATTEMPTS``. ``deliver_due`` picks up what waits for another attempt (the sweeper calls it).
"""
from __future__ import annotations

import smtplib
from datetime import timedelta

from flask import current_app
from flask_mail import Connection, Mail, Message
from sqlalchemy import select, update

from ...extensions import db
from ...models import MailMessage, MailStatus, Notification, User, utcnow
from .. import background
from ..community import inbox
from .outbox import DELIVER_MAIL, SECRET_MARK, sender

# A delivery that takes longer than this (plus the SMTP timeout) is assumed dead and may be tried again.
CLAIM_SECONDS = 120


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a server that accepts and then hangs cannot hold a
    worker forever."""

    def configure_host(self):  # noqa: ANN201 - Flask-Mail's signature
        timeout = float(current_app.config.get("MAIL_TIMEOUT_SECONDS", 10))
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _smtp_state():
    # Read from the app's config at every attempt (not frozen when the app was built), and never "suppressed":
    # whether mail leaves is decided by MAIL_SERVER alone (held otherwise).
    return Mail().init_mail(current_app.config, testing=False)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    first = float(current_app.config.get("MAIL_RETRY_SECONDS", 30))
    most = float(current_app.config.get("MAIL_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(most, first * 2 ** max(0, attempts - 1)))


def _claim(message_id: int) -> bool:
    now = utcnow()
    with db.engine.begin() as conn:
        table = MailMessage.__table__
        return bool(conn.execute(update(table).where(
            table.c.id == message_id, table.c.status == MailStatus.QUEUED.value, table.c.due_at <= now)
            .values(due_at=now + timedelta(seconds=CLAIM_SECONDS), attempts=table.c.attempts + 1)).rowcount)


def _still_visible(row: MailMessage) -> bool:
    """A notification's mail goes only if its recipient may still see what it is about."""
    if row.notification_id is None:
        return True
    item = db.session.execute(inbox.with_subjects(select(Notification).where(
        Notification.id == row.notification_id))).scalar_one_or_none()
    user = db.session.get(User, item.user_id) if item is not None else None
    return item is not None and user is not None and user.active and inbox.describe(user, item).visible


def _permanent(exc: Exception) -> bool:
    """A refusal that another attempt will not change (a 5xx answer), as opposed to the server being away."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for addr, (code, msg) in exc.recipients.items())[:1000]
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {msg}"[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__


def _message(row: MailMessage) -> Message:
    text, html = row.body_text, row.body_html
    if row.secret:
        text, html = text.replace(SECRET_MARK, row.secret), html.replace(SECRET_MARK, row.secret)
    return Message(subject=row.subject, recipients=[row.recipient], sender=sender(), body=text, html=html or None)


def deliver(message_id: int) -> MailStatus | None:
    """One delivery attempt of a queued message that is due; its state afterwards (None: not ours to send now)."""
    if not _claim(message_id):
        return None
    row = db.session.get(MailMessage, message_id)
    db.session.refresh(row)
    if not current_app.config.get("MAIL_SERVER"):
        row.status, row.last_error = MailStatus.HELD, "no mail server is configured"
    elif not _still_visible(row):
        row.status, row.last_error = MailStatus.CANCELLED, "its recipient may no longer see what it is about"
    else:
        try:
            with _TimedConnection(_smtp_state()) as connection:
                connection.send(_message(row))
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            row.last_error = _reason(exc)
            if _permanent(exc) or row.attempts >= int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8)):
                row.status = MailStatus.FAILED
            else:
                row.due_at = utcnow() + backoff(row.attempts)
            current_app.logger.warning("mail %s not delivered (attempt %s): %s", row.id, row.attempts, row.last_error)
        else:
            row.status, row.sent_at, row.secret, row.last_error = MailStatus.SENT, utcnow(), "", ""
    db.session.commit()
    return row.status


def due_ids(limit: int = 100) -> list[int]:
    """Queued messages whose next attempt is due, oldest first."""
    return list(db.session.execute(select(MailMessage.id).where(
        MailMessage.status == MailStatus.QUEUED, MailMessage.due_at <= utcnow())
        .order_by(MailMessage.due_at, MailMessage.id).limit(limit)).scalars())


def deliver_due(limit: int = 100) -> int:
    """Attempt every due message in this thread (until its sweeper is stopped); how many were sent."""
    sent = 0
    for message_id in due_ids(limit):
        if background.stopping():
            break
        sent += deliver(message_id) is MailStatus.SENT
    return sent


background.register(DELIVER_MAIL, deliver)

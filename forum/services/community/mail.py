"""Notification email: immediate or a daily digest, each with unsubscribe links, through the mail outbox.

Every message is a row of the outbox (``services/mail``) written in the transaction of the notifications it
tells of, and delivered off the request path; without ``MAIL_SERVER`` it is held (admins can still read it).
Each is built from ``inbox.describe``, so an item its recipient cannot see is left out (never summarised),
and delivery checks an immediate one again before it leaves.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from flask_mail import Mail
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from ...extensions import db
from ...languages import DEFAULT_LOCALE, LANGUAGES
from ...models import EmailMode, Notification, NotificationSetting, User, Watch, WatchTarget, utcnow
from .. import background
from ..mail import outbox
from . import inbox

# Flask-Mail bound to the app (its settings); delivery itself reads the config at every attempt.
mail = Mail()
_SALT = "groundwork-unsubscribe"

# Writes a message's (text, html) bodies from its context; the app factory installs the web layer's template
# renderer (forum/views/email.py), so this module decides what is sent and never touches templates itself.
render_bodies: Callable[[dict], tuple[str, str]] | None = None


def mail_enabled() -> bool:
    """Whether mail leaves the forum (held in the outbox otherwise)."""
    return outbox.mail_enabled()


# --- unsubscribe tokens --------------------------------------------------------------------------

def unsubscribe_token(watch_row: Watch) -> str:
    """A signed token naming one watch and its owner (it stops working once the watch is gone)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT).dumps([watch_row.id, watch_row.user_id])


def watch_for_token(token: str) -> Watch | None:
    """The watch a token names, or None for a bad signature or a watch that no longer exists."""
    try:
        watch_id, user_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(watch_id, int) or not isinstance(user_id, int):
        return None
    row = db.session.get(Watch, watch_id) if 0 < watch_id < 2**31 else None
    return row if row is not None and row.user_id == user_id else None


def watch_label(watch_row: Watch) -> str:
    """What a watch follows, as a short phrase that reveals nothing beyond its kind."""
    # One whole phrase per kind: German declines "this" by the noun's gender ("dieses Thema", "diesen Bereich").
    phrases = {WatchTarget.THREAD: gettext("this thread"), WatchTarget.SPACE: gettext("this space"),
               WatchTarget.TAG: gettext("this tag"), WatchTarget.PATTERN: gettext("this pattern"),
               WatchTarget.PLAYBOOK: gettext("this playbook")}
    return phrases[WatchTarget(watch_row.target_type)]


def recipient_locale(user: User):
    """Mail in the recipient's chosen language, whoever's request queues it (English without a choice)."""
    return force_locale(user.locale if user.locale in LANGUAGES else DEFAULT_LOCALE)


# --- queueing -----------------------------------------------------------------------------------

def _modes(user_ids: set[int]) -> dict[int, EmailMode]:
    rows = db.session.execute(select(NotificationSetting).where(NotificationSetting.user_id.in_(user_ids))).scalars()
    found = {r.user_id: r.email_mode for r in rows}
    return {uid: found.get(uid, EmailMode.IMMEDIATE) for uid in user_ids}


def _queue(kind: str, user: User, described: list, watches: list[Watch], subject: str,
           notification_id: int | None = None) -> background.Job | None:
    context = {"user": user, "items": described, "watches": watches, "token_for": unsubscribe_token}
    body, html = render_bodies(context)
    return outbox.queue(kind=kind, recipient=user.email, subject=subject, body_text=body, body_html=html,
                        user=user, notification_id=notification_id)


def _watches_of(items: list[Notification]) -> list[Watch]:
    ids = sorted({n.watch_id for n in items if n.watch_id is not None})
    if not ids:
        return []
    return list(db.session.execute(select(Watch).where(Watch.id.in_(ids))).scalars())


def queue_immediate(items: list[Notification]) -> list[background.Job]:
    """Mail each new item to recipients who want immediate email, in the caller's transaction (it commits);
    the delivery jobs to dispatch after that commit."""
    if not items:
        return []
    db.session.flush()  # ids for the outbox rows
    modes = _modes({n.user_id for n in items})
    jobs = []
    for item in items:
        if modes[item.user_id] is not EmailMode.IMMEDIATE:
            continue
        user = db.session.get(User, item.user_id)
        with recipient_locale(user):
            shown = inbox.describe(user, item)
            if shown.visible:
                jobs.append(_queue("notification", user, [shown], _watches_of([item]),
                                   f"[Groundwork] {shown.sentence} {shown.title}", notification_id=item.id))
        item.emailed_at = utcnow()  # hidden ones too, so a later digest does not pick them up
    return [job for job in jobs if job is not None]


def send_digests(now=None) -> int:
    """Queue one email per digest subscriber with what they have not been mailed yet; how many were queued."""
    now = now or utcnow()
    since = now - timedelta(days=7)  # older unsent items are stale news: drop them from the digest
    settings = db.session.execute(select(NotificationSetting).where(
        NotificationSetting.email_mode == EmailMode.DIGEST)).scalars().all()
    queued = 0
    for setting in settings:
        user = db.session.get(User, setting.user_id)
        if user is None or not user.active:
            continue
        items = db.session.execute(inbox.with_subjects(select(Notification).where(
            Notification.user_id == user.id, Notification.emailed_at.is_(None),
            Notification.created_at >= since).order_by(Notification.created_at))).scalars().all()
        job = None
        with recipient_locale(user):
            described = [d for d in (inbox.describe(user, n) for n in items) if d.visible]
            if described:
                job = _queue("digest", user, described, _watches_of(items), "[Groundwork] " + ngettext(
                    "Your daily digest: %(num)d update", "Your daily digest: %(num)d updates", len(described)))
                queued += 1
        for item in items:
            item.emailed_at = now
        setting.last_digest_at = now
        db.session.commit()  # the digest, its items marked mailed and the setting: together or not at all
        background.dispatch(job)
    return queued

"""New-member limits: in their first hours, members may start only a few threads and post few links.

The figures live in one ``moderation_settings`` row that admins edit; without the row the app config's
``NEW_USER_*`` values (or the defaults below) apply. Employees are exempt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import func, select

from ... import permissions
from ...extensions import db
from ...models import ModerationSettings, Thread, User, utcnow
from . import audit

_LINK = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
DEFAULTS = {"new_user_hours": 24, "new_user_max_threads": 3, "new_user_max_links": 2}


@dataclass
class Limits:
    new_user_hours: int
    new_user_max_threads: int
    new_user_max_links: int


def current() -> Limits:
    """The limits in force: the admins' row, else config, else defaults."""
    row = db.session.get(ModerationSettings, 1)
    if row is not None:
        return Limits(row.new_user_hours, row.new_user_max_threads, row.new_user_max_links)
    return Limits(**{k: int(current_app.config.get(k.upper(), v)) for k, v in DEFAULTS.items()})


def save(admin: User, hours: int, max_threads: int, max_links: int) -> Limits:
    """Store new limits (admins only), audited."""
    if not permissions.can_administer(admin):
        raise permissions.PermissionDenied(gettext("Admins only."))
    row = db.session.get(ModerationSettings, 1)
    old = current()
    if row is None:
        row = ModerationSettings(id=1)
        db.session.add(row)
    row.new_user_hours, row.new_user_max_threads, row.new_user_max_links = hours, max_threads, max_links
    row.updated_at = utcnow()
    audit.record("settings.new_user_limits", row, actor=admin, before=vars(old),
                 after={"new_user_hours": hours, "new_user_max_threads": max_threads,
                        "new_user_max_links": max_links})
    db.session.commit()
    return current()


def count_links(text: str | None) -> int:
    return len(_LINK.findall(text or ""))


def refusal(user: User, body: str, *, new_thread: bool) -> tuple[str, str] | None:
    """Why this post breaks a new member's limits, as (field, message), or None when it may go ahead."""
    if permissions.exempt_from_new_user_limits(user):
        return None
    limits = current()
    if user.created_at is None or utcnow() - user.created_at >= timedelta(hours=limits.new_user_hours):
        return None
    if count_links(body) > limits.new_user_max_links:
        return "body", ngettext(
            "New members may include at most %(num)s link per post in your first %(hours)s hours. Remove some "
            "links, or post them later.",
            "New members may include at most %(num)s links per post in your first %(hours)s hours. Remove some "
            "links, or post them later.", limits.new_user_max_links, hours=limits.new_user_hours)
    if new_thread:
        started = db.session.execute(select(func.count(Thread.id)).where(
            Thread.author_id == user.id, Thread.created_at >= user.created_at)).scalar_one()
        if started >= limits.new_user_max_threads:
            return "title", ngettext(
                "New members may start at most %(num)s thread in your first %(hours)s hours. You can still reply "
                "to existing threads.",
                "New members may start at most %(num)s threads in your first %(hours)s hours. You can still reply "
                "to existing threads.", limits.new_user_max_threads, hours=limits.new_user_hours)
    return None

"""Whom the composer may offer to @mention: members who can read the thread being replied to."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from ... import permissions
from ...extensions import db
from ...models import Thread, User

MAX_PREFIX = 120  # a username is at most this long; a longer prefix matches no one


def mention_candidates(viewer: User, thread: Thread, prefix: str, limit: int = 8) -> list[User]:
    """Active members whose username or display name starts with ``prefix`` (case-insensitive) and who may read
    ``thread`` — never someone who could not see it, nor the viewer themself — by display name."""
    prefix = (prefix or "").strip().lstrip("@").lower()
    if not prefix or len(prefix) > MAX_PREFIX or "\x00" in prefix:
        return []
    query = (select(User)
             .where(permissions.thread_readers(thread), User.active.is_(True), User.is_placeholder.is_(False),
                    User.id != viewer.id,
                    or_(func.lower(User.username).startswith(prefix, autoescape=True),
                        func.lower(User.display_name).startswith(prefix, autoescape=True)))
             .order_by(func.lower(User.display_name), User.id)
             .limit(limit))
    return list(db.session.execute(query).scalars())

"""Blocking a member: they can no longer write to the blocker (nor the blocker to them) until unblocked."""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import MemberBlock, User
from ..board.threads import ValidationFailed


def block(user: User, other: User) -> None:
    """``user`` blocks ``other`` (idempotent)."""
    if other.id == user.id:
        raise ValidationFailed(gettext("You cannot block yourself."))
    if is_blocked(user, other):
        return
    try:
        with db.session.begin_nested():
            db.session.add(MemberBlock(blocker_id=user.id, blocked_id=other.id))
    except IntegrityError:
        pass  # blocked twice at once: one row is enough
    db.session.commit()


def unblock(user: User, other: User) -> bool:
    row = db.session.execute(select(MemberBlock).where(
        MemberBlock.blocker_id == user.id, MemberBlock.blocked_id == other.id)).scalar_one_or_none()
    if row is None:
        return False
    db.session.delete(row)
    db.session.commit()
    return True


def is_blocked(user: User, other: User) -> bool:
    """Has ``user`` blocked ``other``?"""
    return db.session.execute(select(MemberBlock.id).where(
        MemberBlock.blocker_id == user.id, MemberBlock.blocked_id == other.id)).first() is not None


def blocked_by(user: User) -> list[MemberBlock]:
    """The members ``user`` has blocked, newest first."""
    return list(db.session.execute(select(MemberBlock).where(MemberBlock.blocker_id == user.id)
                                   .options(selectinload(MemberBlock.blocked))
                                   .order_by(MemberBlock.id.desc())).scalars())

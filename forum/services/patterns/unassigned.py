"""Threads no pattern holds: one-offs, and the members of groups the engine would not publish as patterns.

A group whose threads share no problem (a catch-all) is not a pattern; its threads land here, where
leads can read them and file any that do recur into a pattern by hand.
"""
from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, select

from ... import permissions
from ...models import MembershipSource, Pattern, PatternMember, PatternStatus, Thread, ThreadKind, User
from ..paging import page_of


def unassigned_threads(user: User, page: int, per_page: int) -> Pagination:
    """Questions (not announcements) in no active pattern, newest first, as far as ``user`` may see them."""
    in_a_pattern = exists().where(
        PatternMember.thread_id == Thread.id, PatternMember.source != MembershipSource.EXCLUDED,
        PatternMember.pattern_id == Pattern.id, Pattern.status == PatternStatus.ACTIVE)
    query = (select(Thread)
             .where(permissions.visible_threads(user), Thread.kind != ThreadKind.ANNOUNCEMENT,
                    Thread.merged_into_id.is_(None), Thread.hidden_at.is_(None), ~in_a_pattern)
             .order_by(Thread.created_at.desc(), Thread.id.desc()))
    return page_of(query, page, per_page)

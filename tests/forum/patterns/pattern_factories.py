"""Pattern rows for tests: patterns and memberships made directly, without the mining engine."""
from __future__ import annotations

from forum.extensions import db
from forum.models import (
    Confirmation,
    MembershipSource,
    Pattern,
    PatternMember,
    PatternStatus,
    Reply,
    Thread,
    ThreadStatus,
    User,
)


def pattern(name: str = "A pattern", threads: list[Thread] = (), status: PatternStatus = PatternStatus.ACTIVE,
            source: MembershipSource = MembershipSource.MINED, keywords=(), signatures=(),
            representatives: list[Thread] = ()) -> Pattern:
    """A pattern whose members are ``threads`` (committed)."""
    row = Pattern(name=name, status=status, keywords=list(keywords), signatures=list(signatures))
    db.session.add(row)
    db.session.flush()
    for i, thread in enumerate(threads):
        db.session.add(PatternMember(pattern_id=row.id, thread_id=thread.id, source=source, similarity=0.9 - i / 100,
                                     is_representative=thread in representatives))
    db.session.commit()
    return row


def member(pattern_row: Pattern, thread: Thread, source: MembershipSource = MembershipSource.MINED) -> PatternMember:
    row = PatternMember(pattern_id=pattern_row.id, thread_id=thread.id, source=source)
    db.session.add(row)
    db.session.commit()
    return row


def accept(thread: Thread, reply: Reply, resolved_at) -> None:
    """Mark ``reply`` accepted and the thread resolved at ``resolved_at``."""
    thread.accepted_reply_id, thread.status, thread.resolved_at = reply.id, ThreadStatus.RESOLVED, resolved_at
    db.session.commit()


def confirm(reply: Reply, user: User, deployment) -> Confirmation:
    row = Confirmation(reply_id=reply.id, user_id=user.id, deployment_id=deployment.id)
    db.session.add(row)
    db.session.commit()
    return row

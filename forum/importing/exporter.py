"""Export every active pattern with its reach and member threads, in a stable order.

Membership and the deployment of a thread are defined once, in ``services.patterns.member_rows`` (mined,
assigned and filed members count; excluded ones never); the three reach figures are counted here from it.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, distinct, func, select

from ..extensions import db
from ..models import OrgKind, Pattern, PatternMember, PatternStatus, Thread
from ..services.patterns.summaries import MEMBER_SOURCES, member_rows


def export_patterns() -> list[dict]:
    """Every ACTIVE pattern by id: name, keywords, signatures, reach and members (thread id order)."""
    patterns = db.session.execute(select(Pattern).where(Pattern.status == PatternStatus.ACTIVE)
                                  .order_by(Pattern.id)).scalars().all()
    if not patterns:
        return []
    m = member_rows()
    reach = {row[0]: row[1:] for row in db.session.execute(select(
        m.c.pattern_id, func.count(distinct(m.c.thread_id)),
        func.count(distinct(case((m.c.org_kind == OrgKind.CUSTOMER, m.c.org_id)))),
        func.count(distinct(m.c.deployment_id))).group_by(m.c.pattern_id))}
    members: dict[int, list[dict]] = defaultdict(list)
    rows = db.session.execute(
        select(PatternMember.pattern_id, Thread.id, Thread.external_id, PatternMember.source)
        .join(Thread, Thread.id == PatternMember.thread_id)
        .join(Pattern, Pattern.id == PatternMember.pattern_id)
        .where(Pattern.status == PatternStatus.ACTIVE, PatternMember.source.in_(MEMBER_SOURCES))
        .order_by(PatternMember.pattern_id, Thread.id))
    for pattern_id, thread_id, external_id, source in rows:
        members[pattern_id].append({"id": thread_id, "external_id": external_id, "source": source.value})
    out = []
    for p in patterns:
        threads, customers, deployments = reach.get(p.id, (0, 0, 0))
        out.append({
            "id": p.id, "name": p.name, "description": p.description, "keywords": list(p.keywords or []),
            "signatures": list(p.signatures or []),
            "reach": {"threads": threads, "customer_organisations": customers, "deployments": deployments},
            "members": members.get(p.id, []),
        })
    return out

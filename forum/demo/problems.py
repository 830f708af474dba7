"""The planted recurring problems: the ground truth a pattern miner should find in the demo content.

Every thread of problem N has ``Thread.external_id`` ``demo-pNN-XXXX``; one-off threads are ``demo-x-XXXX``,
discussions ``demo-d-XXXX``, announcements ``demo-a-XXXX`` and staff-room threads ``demo-i-XXXX``.
"""
from __future__ import annotations

import re

from . import (
    problems_batch_licence_exports,
    problems_database_sessions,
    problems_oauth_mail_grants,
    problems_upgrade_sso_tls,
)
from .spec import Problem

PROBLEMS: tuple[Problem, ...] = (problems_upgrade_sso_tls.PROBLEMS + problems_batch_licence_exports.PROBLEMS
                                 + problems_oauth_mail_grants.PROBLEMS + problems_database_sessions.PROBLEMS)

# Plain records for tests and the mining evaluation: key, slug, name, canonical fix, thread count.
PLANTED_PROBLEMS: list[dict] = [
    {"key": p.key, "slug": p.slug, "name": p.name, "fix": p.fix_summary, "threads": p.count,
     "external_id_prefix": f"demo-{p.key}-"}
    for p in PROBLEMS
]

_PLANTED_ID = re.compile(r"^demo-(p\d\d)-\d{4}$")


def problem_key_for(external_id: str | None) -> str | None:
    """The planted problem a demo thread belongs to ("p07"), or None for everything else."""
    match = _PLANTED_ID.match(external_id or "")
    return match.group(1) if match else None

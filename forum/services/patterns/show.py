"""One pattern's page as a request shows it: the wing's entry for that page.

``pattern_page`` is the one call the view makes. It walks the wing downwards and never comes back: the stored
figures and map (``pages``), the list's stored summary (``snapshots``), the live rows (``detail``) and the
playbook (``playbooks``); none of them calls this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination

from ... import permissions
from ...models import Pattern, Playbook, Thread, User
from . import detail as pattern_detail
from . import pages as pattern_pages
from . import snapshots as pattern_snapshots
from .playbooks import playbook_for_pattern
from .summaries import PatternInfo, PatternSummary


@dataclass
class PatternPage:
    """Everything one pattern's page shows, for one member."""

    pattern: Pattern
    summary: PatternSummary | None  # None while its figures are computed
    stored: pattern_pages.StoredParts
    members: Pagination
    representatives: list[Thread]
    environments: list[str]
    playbook: Playbook | None
    can_curate: bool
    can_promote: bool
    merge_choices: list[tuple[int, str]] = field(default_factory=list)  # leads only
    excluded: list[Thread] = field(default_factory=list)  # leads only

    @property
    def figures(self) -> pattern_pages.PageFigures | None:
        return self.stored.figures

    @property
    def map(self) -> pattern_detail.PatternMap | None:
        return self.stored.map

    @property
    def computing(self) -> bool:
        return self.stored.computing


def pattern_page(pattern: Pattern, user: User | None, page: int, per_page: int, wait: float) -> PatternPage:
    """What ``user`` sees on ``pattern``'s page: member page ``page`` of ``per_page``, figures and playbook.

    Right after the pattern's members change, its figures and the map are computed off the request path and
    waited for at most ``wait`` seconds; otherwise the page shows its live rows and fills in the rest later.
    """
    stored = pattern_pages.stored_parts(pattern, wait)
    summary = _summary(pattern, stored)
    can_curate = permissions.can_curate_patterns(user)
    return PatternPage(
        pattern, summary, stored,
        # counted with the pattern's fingerprint: no second count of its members
        members=pattern_detail.members_page(pattern, page, per_page, stored.members),
        representatives=pattern_detail.representatives(pattern),
        environments=pattern_detail.environment_summary(summary.breakdowns, summary.threads) if summary else [],
        playbook=playbook_for_pattern(user, pattern), can_curate=can_curate,
        can_promote=permissions.can_edit_playbook(user),
        merge_choices=pattern_detail.search_patterns(pattern.id) if can_curate else [],
        excluded=pattern_detail.excluded_threads(pattern) if can_curate else [])


def _summary(pattern: Pattern, stored: pattern_pages.StoredParts) -> PatternSummary | None:
    """The list's stored figures for the pattern when it has them, else the page's own; None while computed."""
    info = PatternInfo.of(pattern)
    summary = pattern_snapshots.listed_summary(pattern, info)
    if summary is None and stored.figures is not None and stored.figures.summary is not None:
        summary = pattern_snapshots.summary_with(info, stored.figures.summary.__dict__)
    if summary is None and stored.figures is not None:
        summary = PatternSummary(pattern=info)  # no member rows: nothing to count
    return summary

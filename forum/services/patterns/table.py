"""The patterns table: the listed patterns under their themes, in the order the lead chose.

The engine puts every pattern under a theme (its upper level). A theme that holds a single pattern is only that
pattern's topic again, so it gets no heading: its row stands with the other patterns of one-pattern themes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .summaries import PatternSummary


@dataclass
class ThemeGroup:
    """Rows shown together: a theme of several patterns (``theme`` set), or the patterns of no such theme."""

    theme: str | None
    rows: list[PatternSummary] = field(default_factory=list)


def theme_groups(summaries: list[PatternSummary]) -> list[ThemeGroup]:
    """Themes of several patterns first, each in the position of its first row in ``summaries`` (so a sort by
    customers puts the theme of the most-reached pattern on top), then the rest under no heading.

    Rows keep the order of ``summaries`` within each group.
    """
    by_theme: dict[str, list[PatternSummary]] = {}
    for summary in summaries:
        if summary.pattern.theme:
            by_theme.setdefault(summary.pattern.theme, []).append(summary)
    groups = [ThemeGroup(theme, rows) for theme, rows in by_theme.items() if len(rows) > 1]
    grouped = {id(row) for group in groups for row in group.rows}
    rest = [summary for summary in summaries if id(summary) not in grouped]
    if rest:
        groups.append(ThemeGroup(None, rest))
    return groups

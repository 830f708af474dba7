"""Per-pattern figures, environment breakdowns and new customers in ONE statement over the member rows.

The member rows are joined once per computation into a temporary table (``materialised_members``), which
several UNION ALL branches of a single statement then group. Every branch returns the same columns:
``kind, pattern_id, a, b, n1..n7, t1, t2, x``; unused ones are typed NULLs.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    Table,
    case,
    cast,
    distinct,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.schema import CreateTableAs

from ...extensions import db
from ...models import OrgKind

DIMENSIONS = ("product", "version", "hosting", "database", "topology")
_FIGURES = ("threads", "reach", "deployments", "resolved", "last_30", "last_90", "before_90")
#: The list's sparkline: new member threads in each of the last TREND_PERIODS periods of TREND_DAYS days.
TREND_PERIODS, TREND_DAYS = 12, 30


@dataclass
class Grouped:
    figures: dict[int, dict] = field(default_factory=dict)
    medians: dict[int, float] = field(default_factory=dict)
    new_customers: dict[int, int] = field(default_factory=dict)
    breakdowns: dict[int, dict[str, list[tuple[str, int]]]] = field(default_factory=dict)
    trends: dict[int, list[int]] = field(default_factory=dict)  # oldest period first


MEMBERS_TABLE = "pattern_figure_members"


@contextmanager
def materialised_members(members) -> Iterator[Table]:
    """The member rows (``patterns.member_rows``) written once to a temporary table for one computation.

    Every figure reads the same join of memberships, threads and organisations with five fields of each
    thread's deployment snapshot (JSON). As a CTE it was computed once per statement (three on SQLite, two on
    PostgreSQL), and PostgreSQL planned its grouping for 5 rows instead of 85,575 and sorted on disk. Written
    once and analysed, it is read cheaply by every statement. Temporary: private to this connection, so
    computations in parallel never meet; dropped at the end (after an error, PostgreSQL drops it with the
    transaction and SQLite at the next start).

    ``CREATE TABLE ... AS`` rather than an ``INSERT``: on SQLite an insert would open a transaction on the
    session's connection, and its snapshot would hide figures stored meanwhile by another connection. (The
    filter values are rendered into the statement by SQLAlchemy's literal rendering, quoted as it quotes them.)
    """
    postgres = db.engine.dialect.name == "postgresql"
    conn = db.session.connection()
    if postgres:
        # This transaction's sorts and hashes fit in memory (the default 4 MB spilled to disk), and the data is
        # cached, so an index look-up costs about what a page of a sequential scan does.
        conn.execute(text("SET LOCAL work_mem = '32MB'"))
        conn.execute(text("SET LOCAL random_page_cost = 1.1"))
    else:
        conn.execute(text(f"DROP TABLE IF EXISTS temp.{MEMBERS_TABLE}"))  # left by a computation that failed
    create = CreateTableAs(members.element, MEMBERS_TABLE, temporary=True)
    conn.execute(create)
    # Its size, for the planner: unanalysed, SQLite took it for a million rows and, to join the accepted
    # answers, first built a Bloom filter over every reply (0.5 s for 710 answers).
    conn.execute(text(f"ANALYZE {MEMBERS_TABLE}" if postgres else f"ANALYZE temp.{MEMBERS_TABLE}"))
    yield create.table
    conn.execute(text(f"DROP TABLE {MEMBERS_TABLE}" if postgres else f"DROP TABLE temp.{MEMBERS_TABLE}"))


def _row(kind: str, pattern_id, a=None, b=None, numbers=(), t1=None, t2=None, x=None):
    """One UNION branch's column list, padded with typed NULLs."""
    numbers = list(numbers) + [cast(null(), Integer)] * (7 - len(numbers))
    return [literal(kind).label("kind"), pattern_id.label("pattern_id"),
            (a if a is not None else cast(null(), String)).label("a"),
            (b if b is not None else cast(null(), String)).label("b"),
            *[n.label(f"n{i + 1}") for i, n in enumerate(numbers)],
            (t1 if t1 is not None else cast(null(), DateTime)).label("t1"),
            (t2 if t2 is not None else cast(null(), DateTime)).label("t2"),
            (x if x is not None else cast(null(), Float)).label("x")]


def _seconds_to_resolve(m):
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", m.c.resolved_at - m.c.created_at)
    return (func.julianday(m.c.resolved_at) - func.julianday(m.c.created_at)) * 86400.0


def grouped_figures(m, now: datetime, emerging_days: int) -> Grouped:
    """Everything per pattern that comes straight from the member rows ``m``."""
    d30, d90 = now - timedelta(days=30), now - timedelta(days=90)
    postgres = db.engine.dialect.name == "postgresql"

    def count_when(condition):
        return func.sum(case((condition, 1), else_=0))

    branches = [select(*_row("fig", m.c.pattern_id, numbers=(
        func.count(m.c.thread_id), func.count(distinct(case((m.c.org_kind == OrgKind.CUSTOMER, m.c.org_id)))),
        func.count(distinct(m.c.deployment_id)), count_when(m.c.resolved_at.isnot(None)),
        count_when(m.c.created_at >= d30), count_when(m.c.created_at >= d90), count_when(m.c.created_at < d90)),
        t1=func.min(m.c.created_at), t2=func.max(m.c.created_at))).group_by(m.c.pattern_id)]
    for name in DIMENSIONS:
        first = m.c.product if name == "version" else m.c[name]
        second = m.c.version if name == "version" else literal("")
        branches.append(select(*_row(name, m.c.pattern_id, first, second, (func.count(),)))
                        .where(m.c[name].isnot(None), m.c[name] != "").group_by(m.c.pattern_id, first, second))
    firsts = (select(m.c.pattern_id, m.c.org_id, func.min(m.c.created_at).label("first"))
              .where(m.c.org_kind == OrgKind.CUSTOMER).group_by(m.c.pattern_id, m.c.org_id).subquery())
    branches.append(select(*_row("new", firsts.c.pattern_id, numbers=(func.count(),)))
                    .where(firsts.c.first >= now - timedelta(days=emerging_days), firsts.c.first <= now)
                    .group_by(firsts.c.pattern_id))
    branches.append(_trend_branch(m, now))
    if postgres:
        seconds = _seconds_to_resolve(m)
        branches.append(select(*_row("med", m.c.pattern_id,
                                     x=func.percentile_cont(0.5).within_group(seconds)))
                        .where(m.c.resolved_at.isnot(None)).group_by(m.c.pattern_id))

    out = Grouped()
    breakdowns: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for kind, pid, a, b, *rest in db.session.execute(union_all(*branches)).all():
        numbers, (t1, t2, x) = rest[:7], rest[7:]
        if kind == "fig":
            out.figures[pid] = {**{n: int(v or 0) for n, v in zip(_FIGURES, numbers, strict=True)},
                                "first_seen": t1, "last_seen": t2}
        elif kind == "new":
            out.new_customers[pid] = int(numbers[0])
        elif kind == "trend":
            trend = out.trends.setdefault(pid, [0] * TREND_PERIODS)
            trend[TREND_PERIODS - 1 - int(numbers[0])] = int(numbers[1])
        elif kind == "med":
            if x is not None:
                out.medians[pid] = float(x)
        else:
            label = f"{a} {b}" if kind == "version" else str(a).replace("_", " ")
            breakdowns[pid][kind].append((label, int(numbers[0])))
    for pid, per_dim in breakdowns.items():
        for values in per_dim.values():
            values.sort(key=lambda item: (-item[1], item[0]))
        out.breakdowns[pid] = dict(per_dim)
    if not postgres:
        out.medians = _medians_in_python(m)
    return out


def _trend_branch(m, now: datetime):
    """New member threads per period of ``TREND_DAYS`` before ``now`` (0 = the latest period), per pattern.

    The period is named in a subquery and grouped outside it: grouping by the CASE itself would bind its dates
    twice, and PostgreSQL does not take two parameters for the same expression.
    """
    period = case(*[(m.c.created_at >= now - timedelta(days=TREND_DAYS * (i + 1)), i) for i in range(TREND_PERIODS)])
    periods = (select(m.c.pattern_id, period.label("period"))
               .where(m.c.created_at >= now - timedelta(days=TREND_DAYS * TREND_PERIODS), m.c.created_at <= now)
               .subquery())
    return (select(*_row("trend", periods.c.pattern_id, numbers=(periods.c.period, func.count())))
            .group_by(periods.c.pattern_id, periods.c.period))


def _medians_in_python(m) -> dict[int, float]:
    """SQLite has no median aggregate: one pass over the resolved members' durations."""
    by_pattern: dict[int, list[float]] = defaultdict(list)
    for pid, value in db.session.execute(select(m.c.pattern_id, _seconds_to_resolve(m))
                                         .where(m.c.resolved_at.isnot(None))):
        by_pattern[pid].append(float(value))
    return {pid: statistics.median(values) for pid, values in by_pattern.items()}

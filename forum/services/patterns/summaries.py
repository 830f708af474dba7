"""The common-patterns page: every pattern's figures from a constant number of grouped queries.

"Now" for trends and the emerging flag is the real clock unless ``PATTERN_NOW`` says otherwise:
``"latest"`` takes the newest thread (demo data frozen in time), an ISO date/time pins it (tests).
A pattern is *emerging* when at least ``PATTERN_EMERGING_ORGS`` (3) customer organisations hit it for
the first time in the last ``PATTERN_EMERGING_DAYS`` (14) days.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    Select,
    Text,
    bindparam,
    case,
    column,
    distinct,
    func,
    literal_column,
    select,
    true,
)

from ... import permissions
from ...extensions import db
from ...models import (
    Confirmation,
    MembershipSource,
    MiningRun,
    Organisation,
    OrgKind,
    Pattern,
    PatternMember,
    PatternStatus,
    Playbook,
    Reply,
    Thread,
    User,
    utcnow,
)
from .answers import answers_by_pattern
from .figures import DIMENSIONS, TREND_PERIODS, grouped_figures, materialised_members

#: Memberships that count: what the engine found and what leads filed in (never the excluded ones).
MEMBER_SOURCES = (MembershipSource.MINED, MembershipSource.ASSIGNED, MembershipSource.FILED)
#: The list's orders (the form's choices; the table's columns sort by the same keys).
SORTS = {"reach": _l("Reach (customers)"), "growth": _l("Growth"), "unresolved": _l("Unresolved share"),
         "recent": _l("Recency"), "name": _l("Name"), "threads": _l("Threads"), "deployments": _l("Deployments"),
         "resolved": _l("Resolved share"), "emerging": _l("Emerging"), "playbook": _l("Playbook")}
#: Orders read from the smallest up by default (a name A to Z); every other order starts with the most.
ASCENDING_SORTS = frozenset({"name"})


#: Snapshot fields with an expression index (migrations e8f1a2b3c4d5 and f4b2c6d8e1a3).
INDEXED_FIELDS = ("product", "version", "hosting", "database")


def snapshot_field(name: str):
    """A deployment-snapshot field as SQL text (JSON extraction on SQLite and PostgreSQL alike)."""
    return Thread.deployment_snapshot[name].as_string()


def indexed_snapshot_field(name: str):
    """A filtered snapshot field written exactly as its expression index, so a filter starts from its threads.

    A bound JSON path (as ``snapshot_field`` writes it) or another spelling and the planner no longer
    recognises the indexed expression.
    """
    if name not in INDEXED_FIELDS:
        raise ValueError(f"no index on the snapshot field {name!r}")
    if db.session.get_bind().dialect.name == "postgresql":
        return Thread.deployment_snapshot.op("->>", return_type=Text)(literal_column(f"'{name}'"))
    return func.json_extract(Thread.deployment_snapshot, literal_column(f"'$.{name}'"), type_=Text)


@dataclass
class PatternFilters:
    """Which member threads count; a pattern shows when any of its threads match."""

    product: str = ""
    version: str = ""
    hosting: str = ""
    database: str = ""
    since: date | None = None
    until: date | None = None
    space_id: int | None = None

    def conditions(self) -> list:
        out = []
        for name in ("product", "hosting", "database"):
            if getattr(self, name):
                out.append(indexed_snapshot_field(name) == getattr(self, name))
        if self.version:
            # "Product::7.2" names one product's version; a bare "7.2" matches it in any product.
            product, _, version = self.version.rpartition("::")
            out.append(indexed_snapshot_field("version") == version)
            if product:
                out.append(indexed_snapshot_field("product") == product)
        if self.since:
            out.append(Thread.created_at >= datetime.combine(self.since, datetime.min.time()))
        if self.until:
            out.append(Thread.created_at < datetime.combine(self.until + timedelta(days=1), datetime.min.time()))
        if self.space_id:
            out.append(Thread.space_id == self.space_id)
        return out

    @property
    def active(self) -> bool:
        return bool(self.conditions())

    def as_dict(self) -> dict:
        """Plain JSON values (a task message carries them to a worker)."""
        return {**self.__dict__, "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}

    @classmethod
    def from_dict(cls, data: dict) -> PatternFilters:
        """The filters of ``as_dict``."""
        dates = {name: date.fromisoformat(data[name]) if data.get(name) else None for name in ("since", "until")}
        return cls(**{**data, **dates})


@dataclass(frozen=True)
class PatternInfo:
    """What the list shows of a pattern: plain values, safe to remember across requests (unlike ORM rows)."""

    id: int
    name: str
    description: str
    keywords: tuple
    signatures: tuple
    status: PatternStatus
    name_curated: bool
    theme: str | None = None
    playbook_id: int | None = None  # the pattern's (first) playbook: the list says whether its fix is written up

    @classmethod
    def of(cls, pattern: Pattern, playbook_id: int | None = None) -> PatternInfo:
        return cls(pattern.id, pattern.name, pattern.description or "", tuple(pattern.keywords or ()),
                   tuple(pattern.signatures or ()), pattern.status, bool(pattern.name_curated), pattern.theme,
                   playbook_id)


def playbook_of_pattern():
    """The first playbook of the pattern in the enclosing query (a correlated subquery; NULL when none)."""
    return select(func.min(Playbook.id)).where(Playbook.pattern_id == Pattern.id).scalar_subquery()


@dataclass
class PatternSummary:
    pattern: PatternInfo
    threads: int = 0
    reach: int = 0
    deployments: int = 0
    resolved: int = 0
    last_30: int = 0
    last_90: int = 0
    before_90: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    median_seconds: float | None = None
    new_customers: int = 0
    emerging: bool = False
    breakdowns: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    trend: list[int] = field(default_factory=list)  # new threads per 30 days over the last year, oldest first
    fixes: list[dict] = field(default_factory=list)
    solvers: list[dict] = field(default_factory=list)

    @property
    def resolved_share(self) -> float:
        return self.resolved / self.threads if self.threads else 0.0

    @property
    def unresolved_share(self) -> float:
        return 1.0 - self.resolved_share if self.threads else 0.0


def pattern_now() -> datetime:
    """The clock for trends: real time unless ``PATTERN_NOW`` pins it (see the module docstring)."""
    setting = current_app.config.get("PATTERN_NOW") or ""
    if isinstance(setting, datetime):
        return setting
    if isinstance(setting, date):
        return datetime.combine(setting, datetime.min.time())
    if setting == "latest":
        newest = db.session.execute(select(func.max(Thread.created_at))).scalar()
        return newest or utcnow()
    if setting:
        return datetime.fromisoformat(str(setting)).replace(tzinfo=None)
    return utcnow()


def _snapshot_fields():
    """The snapshot fields the figures read, and on PostgreSQL the FROM item that reads them.

    PostgreSQL parses a ``json`` value again for every ``->>``: six fields of 85,575 threads were about half a
    second. ``json_to_record`` parses each snapshot once (only objects: it refuses a JSON ``null``).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return None, {"deployment_id": Thread.deployment_snapshot["deployment_id"].as_integer(),
                      **{name: snapshot_field(name) for name in DIMENSIONS}}
    document = case((func.json_typeof(Thread.deployment_snapshot) == "object", Thread.deployment_snapshot))
    snapshot = (func.json_to_record(document)
                .table_valued(column("deployment_id", Integer), *[column(name, Text) for name in DIMENSIONS])
                .render_derived(name="snapshot", with_types=True))
    return snapshot, {name: snapshot.c[name] for name in ("deployment_id", *DIMENSIONS)}


def member_rows(filters: PatternFilters | None = None, pattern_ids: list[int] | None = None,
                statuses=(PatternStatus.ACTIVE,)):
    """One row per (pattern, member thread) with what the figures need."""
    snapshot, fields = _snapshot_fields()
    query = (select(
        PatternMember.pattern_id.label("pattern_id"), Thread.id.label("thread_id"),
        Thread.organisation_id.label("org_id"), Organisation.kind.label("org_kind"),
        Thread.created_at.label("created_at"), Thread.resolved_at.label("resolved_at"),
        Thread.accepted_reply_id.label("accepted_reply_id"),
        func.coalesce(Thread.deployment_id, fields["deployment_id"]).label("deployment_id"),
        *[fields[name].label(name) for name in DIMENSIONS])
        .join(Thread, Thread.id == PatternMember.thread_id)
        .join(Pattern, Pattern.id == PatternMember.pattern_id)
        .join(Organisation, Organisation.id == Thread.organisation_id)
        .where(Pattern.status.in_(statuses), PatternMember.source.in_(MEMBER_SOURCES)))
    if snapshot is not None:
        query = query.join(snapshot, true())
    if filters is not None:
        query = query.where(*filters.conditions())
    if pattern_ids is not None:
        query = query.where(PatternMember.pattern_id.in_(pattern_ids))
    # A CTE: PostgreSQL computes it once where one statement reads it several times (the breakdowns).
    return query.cte("members")


def summarise(filters: PatternFilters | None = None, pattern_ids: list[int] | None = None,
              statuses=(PatternStatus.ACTIVE,), sort: str = "reach") -> list[PatternSummary]:
    """Figures for every matching pattern, sorted; a constant number of queries whatever the number of patterns."""
    with materialised_members(member_rows(filters, pattern_ids, statuses)) as m:
        return _summarise(m, sort)


def _summarise(m, sort: str) -> list[PatternSummary]:
    grouped = grouped_figures(m, pattern_now(), int(current_app.config.get("PATTERN_EMERGING_DAYS", 14)))
    if not grouped.figures:
        return []
    patterns = {p.id: (p, playbook_id) for p, playbook_id in db.session.execute(
        select(Pattern, playbook_of_pattern()).where(Pattern.id.in_(list(grouped.figures))))}
    summaries = {pid: PatternSummary(pattern=PatternInfo.of(*patterns[pid]), **row)
                 for pid, row in grouped.figures.items() if pid in patterns}
    threshold = int(current_app.config.get("PATTERN_EMERGING_ORGS", 3))
    for pid, summary in summaries.items():
        summary.median_seconds = grouped.medians.get(pid)
        summary.new_customers = grouped.new_customers.get(pid, 0)
        summary.emerging = summary.new_customers >= threshold
        summary.breakdowns = grouped.breakdowns.get(pid, {})
        summary.trend = grouped.trends.get(pid, [0] * TREND_PERIODS)
    fixes, solvers = answers_by_pattern(m)
    for pid, summary in summaries.items():
        summary.fixes, summary.solvers = fixes.get(pid, []), solvers.get(pid, [])
    return sort_summaries(list(summaries.values()), sort)


def data_fingerprint() -> tuple:
    """Cheap (index-only) markers that move when patterns, memberships, runs, threads or confirmations change."""

    return tuple(db.session.execute(select(
        select(func.max(Pattern.updated_at)).scalar_subquery(), select(func.max(PatternMember.id)).scalar_subquery(),
        select(func.count(PatternMember.id)).scalar_subquery(), select(func.max(MiningRun.id)).scalar_subquery(),
        select(func.max(Thread.last_activity_at)).scalar_subquery(), select(func.max(Reply.id)).scalar_subquery(),
        select(func.max(Confirmation.id)).scalar_subquery())).one())


def sort_summaries(items: list[PatternSummary], sort: str, descending: bool | None = None) -> list[PatternSummary]:
    """Reach (default), growth (new threads in 30 days, then new customers), unresolved share, recency, or a
    column of the table; ``descending`` defaults to the sort's natural direction (``ASCENDING_SORTS``)."""
    keys = {
        "reach": lambda s: (s.reach, s.threads, s.pattern.id),
        "growth": lambda s: (s.last_30, s.new_customers, s.last_90, s.pattern.id),
        "unresolved": lambda s: (s.unresolved_share, s.threads, s.pattern.id),
        "recent": lambda s: (s.last_seen or datetime.min, s.pattern.id),
        "name": lambda s: (s.pattern.name.casefold(), s.pattern.id),
        "threads": lambda s: (s.threads, s.reach, s.pattern.id),
        "deployments": lambda s: (s.deployments, s.reach, s.pattern.id),
        "resolved": lambda s: (s.resolved_share, s.threads, s.pattern.id),
        "emerging": lambda s: (s.emerging, s.new_customers, s.reach, s.pattern.id),
        "playbook": lambda s: (s.pattern.playbook_id is not None, s.reach, s.pattern.id),
    }
    sort = sort if sort in keys else "reach"
    if descending is None:
        descending = sort not in ASCENDING_SORTS
    return sorted(items, key=keys[sort], reverse=descending)


# --- "others hit this too": what a thread page may show about its pattern -------------------------

@dataclass
class OthersHitThis:
    """What a viewer may learn about the pattern of a thread they can see."""

    organisations: int
    threads: int
    visible_threads: list[Thread]
    pattern: Pattern | None = None  # employees only: customers and partners never learn its name


@functools.cache
def _pattern_counts_of_thread() -> Select:
    """The organisations and threads of the largest active pattern holding the thread (bind parameter
    ``thread_id``), the vendor's own threads left out. Built once per process: every thread page asks it, and
    building it cost more than running it."""
    return (select(Pattern.id, func.count(distinct(Thread.organisation_id)), func.count(distinct(Thread.id)))
            .join(PatternMember, PatternMember.pattern_id == Pattern.id)
            .join(Thread, Thread.id == PatternMember.thread_id)
            .join(Organisation, Organisation.id == Thread.organisation_id)
            .where(Pattern.status == PatternStatus.ACTIVE, PatternMember.source.in_(MEMBER_SOURCES),
                   Organisation.kind != OrgKind.VENDOR,
                   Pattern.id.in_(select(PatternMember.pattern_id).where(
                       PatternMember.thread_id == bindparam("thread_id"), PatternMember.source.in_(MEMBER_SOURCES))))
            .group_by(Pattern.id).order_by(func.count(distinct(Thread.id)).desc(), Pattern.id).limit(1))


def others_hit_this(user: User | None, thread: Thread, limit: int = 5) -> OthersHitThis | None:
    """Aggregate counts (and links to member threads the user may see) for ``thread``'s pattern.

    Three queries (four for employees). Customers and partners get counts only, and only when the pattern
    spans at least ``PATTERN_MIN_ORGS`` organisations other than the vendor; never a name, keyword, signature
    or another organisation's name.
    """

    if not permissions.can_view(user, thread):
        return None
    row = db.session.execute(_pattern_counts_of_thread(), {"thread_id": thread.id}).first()
    if row is None:
        return None
    pattern_id, organisations, threads = row
    if not permissions.pattern_visible_aggregate(user, organisations):
        return None
    others = db.session.execute(
        select(Thread).join(PatternMember, PatternMember.thread_id == Thread.id)
        .where(PatternMember.pattern_id == pattern_id, PatternMember.source.in_(MEMBER_SOURCES),
               Thread.id != thread.id, permissions.visible_threads(user))
        .order_by(Thread.resolved_at.is_(None), Thread.created_at.desc()).limit(limit)).scalars().all()
    pattern = db.session.get(Pattern, pattern_id) if permissions.can_view_patterns(user) else None
    return OthersHitThis(organisations=organisations, threads=threads, visible_threads=list(others),
                         pattern=pattern)

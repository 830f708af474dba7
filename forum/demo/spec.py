"""Plain descriptions of the demo content, built without a database so they can be compared and tested."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    kind: str  # vendor | customer | partner
    description: str
    created_at: datetime


@dataclass(frozen=True)
class UserSpec:
    email: str
    username: str
    display_name: str
    org_slug: str
    created_at: datetime
    is_org_admin: bool = False
    is_lead: bool = False
    is_moderator: bool = False
    is_admin: bool = False
    bio: str = ""

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0]


@dataclass(frozen=True)
class ProductSpec:
    key: str
    name: str
    slug: str
    description: str
    versions: tuple[tuple[str, date], ...]  # (name, released_on), oldest first


@dataclass(frozen=True)
class DeploymentSpec:
    org_slug: str
    name: str
    product_key: str
    version: str
    edition: str
    hosting: str
    database: str
    operating_system: str
    topology: str
    integrations: tuple[str, ...]
    environment: str
    go_live: date
    size_users: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.org_slug, self.name)


@dataclass(frozen=True)
class SpaceSpec:
    slug: str
    name: str
    description: str
    default_visibility: str
    position: int
    staff_posts_only: bool = False


@dataclass
class ReplySpec:
    author_email: str
    body_md: str
    created_at: datetime
    is_staff_note: bool = False
    deleted_by_email: str | None = None
    votes: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class ConfirmationSpec:
    user_email: str
    deployment_key: tuple[str, str]
    note: str
    created_at: datetime


@dataclass
class ThreadSpec:
    external_id: str
    space_slug: str
    author_email: str
    org_slug: str
    title: str
    body_md: str
    kind: str
    visibility: str
    created_at: datetime
    tags: tuple[str, ...] = ()
    deployment_key: tuple[str, str] | None = None
    snapshot_version: str | None = None
    replies: list[ReplySpec] = field(default_factory=list)
    accepted_index: int | None = None  # index into replies
    resolved_at: datetime | None = None
    needs_staff: bool = False
    confirmations: list[ConfirmationSpec] = field(default_factory=list)
    problem_key: str | None = None
    previous_body: str | None = None  # the first version, when the author edited the question
    edited_at: datetime | None = None

    @property
    def status(self) -> str:
        """Derived the same way the board does: resolved > needs_staff > answered > open."""
        if self.accepted_index is not None:
            return "resolved"
        if self.needs_staff:
            return "needs_staff"
        if any(not r.is_staff_note and r.deleted_by_email is None for r in self.replies):
            return "answered"
        return "open"


@dataclass(frozen=True)
class Problem:
    """One planted recurring deployment problem and the slots its threads are composed from."""

    key: str  # "p01"
    slug: str
    name: str
    space: str
    tags: tuple[str, ...]
    fits: Callable[[DeploymentSpec], bool]
    count: int
    titles: tuple[str, ...]
    symptoms: tuple[str, ...]
    errors: tuple[str, ...]
    tried: tuple[str, ...]
    fixes: tuple[str, ...]
    fix_summary: str
    hints: tuple[str, ...] = ()
    recent_days: int | None = None  # asked only in this many last days: a problem on the rise
    variables: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class DemoContent:
    orgs: list[OrgSpec]
    users: list[UserSpec]
    products: list[ProductSpec]
    deployments: list[DeploymentSpec]
    engagements: list[tuple[str, str]]  # (partner slug, customer slug)
    spaces: list[SpaceSpec]
    threads: list[ThreadSpec]

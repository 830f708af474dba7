"""Typed models for mined patterns: stored embeddings, mining runs, patterns, playbooks and deflection."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .board import Reply, Thread, Visibility
from .orgs import Deployment, User


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class PatternStatus(str, enum.Enum):
    ACTIVE = "active"
    DISMISSED = "dismissed"
    MERGED = "merged"


class MembershipSource(str, enum.Enum):
    MINED = "mined"          # put there by the last mining run
    ASSIGNED = "assigned"    # a new thread matched to the nearest pattern between runs
    FILED = "filed"          # a lead filed the thread into the pattern
    EXCLUDED = "excluded"    # a lead filed it out: kept as a negative, never shown as a member


class ThreadEmbedding(db.Model):
    """A thread's vector for one model, keyed by the hash of the text that was embedded."""

    __tablename__ = "thread_embedding"
    __table_args__ = (UniqueConstraint("thread_id", "model_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(120))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    dimensions: Mapped[int] = mapped_column(Integer)
    # float32, little-endian, L2-normalised.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    # The encoder's word-level detail of the same text from the same forward pass (mining.embedders,
    # DETAIL_DIMENSIONS wide), stored like ``vector``. NULL for embedders without one, and for rows
    # stored before it existed: those are embedded again once by the next run of an embedder that has one.
    detail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MiningRun(db.Model):
    __tablename__ = "mining_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"), default=RunStatus.QUEUED, index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(20), default="cli")  # cli, web, celery
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The run's lease: renewed while it runs; a running run whose heartbeat is older than
    # MINING_RUN_LEASE_SECONDS died with its process and is marked interrupted (services/patterns/leases.py).
    # At most one run is queued or running: a partial unique index of the migrations (RUN_ACTIVE_INDEX).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    model_name: Mapped[str] = mapped_column(String(120), default="")
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    embedded: Mapped[int] = mapped_column(Integer, default=0)  # how many needed a new embedding
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(40), default="")
    patterns_found: Mapped[int] = mapped_column(Integer, default=0)
    noise_fraction: Mapped[float | None] = mapped_column(Float)
    mean_cohesion: Mapped[float | None] = mapped_column(Float)
    quality: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")

    started_by: Mapped[User | None] = relationship()

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Pattern(db.Model):
    """A recurring deployment problem: threads that the engine (and leads) grouped together."""

    __tablename__ = "pattern"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Set when a lead renamed it: re-mining then keeps the name instead of proposing its own.
    name_curated: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PatternStatus] = mapped_column(_enum(PatternStatus, "pattern_status"),
                                                  default=PatternStatus.ACTIVE, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("pattern.id", ondelete="SET NULL"))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    signatures: Mapped[list] = mapped_column(JSON, default=list)
    # The broad topic the last run put it under (patterns are browsed by theme).
    theme: Mapped[str | None] = mapped_column(String(120))
    # No fix is possible yet: the product idea (an ideas-space thread) that would make one possible.
    idea_thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="SET NULL"))
    # Mean cosine similarity over all pairs of members: how alike its threads are.
    pair_similarity: Mapped[float | None] = mapped_column(Float)
    cohesion: Mapped[float | None] = mapped_column(Float)
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("mining_run.id", ondelete="SET NULL"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("mining_run.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[PatternMember]] = relationship(back_populates="pattern", cascade="all, delete-orphan",
                                                        passive_deletes=True)


class PatternMember(db.Model):
    __tablename__ = "pattern_member"
    __table_args__ = (
        UniqueConstraint("pattern_id", "thread_id"),
        Index("ix_pattern_member_thread_source", "thread_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern_id: Mapped[int] = mapped_column(ForeignKey("pattern.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    source: Mapped[MembershipSource] = mapped_column(_enum(MembershipSource, "membership_source"),
                                                     default=MembershipSource.MINED)
    similarity: Mapped[float | None] = mapped_column(Float)
    is_representative: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("mining_run.id", ondelete="SET NULL"))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    pattern: Mapped[Pattern] = relationship(back_populates="members")
    thread: Mapped[Thread] = relationship()


class Playbook(db.Model):
    """The replicable fix for a pattern."""

    __tablename__ = "playbook"

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern_id: Mapped[int | None] = mapped_column(ForeignKey("pattern.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    problem_md: Mapped[str] = mapped_column(Text, default="")
    problem_html: Mapped[str] = mapped_column(Text, default="")
    steps_md: Mapped[str] = mapped_column(Text, default="")
    steps_html: Mapped[str] = mapped_column(Text, default="")
    # {"products": [...], "versions": [...], "hosting": [...], "databases": [...], "topologies": [...]}
    applies_to: Mapped[dict] = mapped_column(JSON, default=dict)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"), default=Visibility.PUBLIC)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    pattern: Mapped[Pattern | None] = relationship()
    author: Mapped[User] = relationship()
    evidence: Mapped[list[PlaybookEvidence]] = relationship(back_populates="playbook", cascade="all, delete-orphan",
                                                            passive_deletes=True)


class PlaybookRevision(db.Model):
    __tablename__ = "playbook_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbook.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(String(200))
    problem_md: Mapped[str] = mapped_column(Text)
    steps_md: Mapped[str] = mapped_column(Text)
    applies_to: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    editor: Mapped[User] = relationship()


class PlaybookEvidence(db.Model):
    __tablename__ = "playbook_evidence"
    __table_args__ = (UniqueConstraint("playbook_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbook.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id", ondelete="SET NULL"))

    playbook: Mapped[Playbook] = relationship(back_populates="evidence")
    thread: Mapped[Thread] = relationship()
    reply: Mapped[Reply | None] = relationship()


class PlaybookConfirmation(db.Model):
    """A deployment where the playbook was applied successfully: the replication count."""

    __tablename__ = "playbook_confirmation"
    __table_args__ = (UniqueConstraint("playbook_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbook.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    # The version the deployment ran when it confirmed.
    product_version_id: Mapped[int | None] = mapped_column(ForeignKey("product_version.id", ondelete="SET NULL"),
                                                           index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    deployment: Mapped[Deployment] = relationship()


class SuggestionEvent(db.Model):
    """What the ask page suggested and what the asker did: the deflection metric."""

    __tablename__ = "suggestion_event"
    __table_args__ = (Index("ix_suggestion_event_draft", "draft_key", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A random key per ask-page visit, so impressions, clicks and the final post can be tied together.
    draft_key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # impression, click, posted
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="SET NULL"))
    playbook_id: Mapped[int | None] = mapped_column(ForeignKey("playbook.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PatternSnapshot(db.Model):
    """The patterns page's figures for one set of filters, computed off the request path.

    The page serves the stored figures and recomputes them in the background when the data moved
    (stale-while-revalidate), so a page view never waits for the grouped queries over every member thread.
    """

    __tablename__ = "pattern_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    # ``patterns.data_fingerprint()`` when the figures were computed: a different one now means stale.
    fingerprint: Mapped[str] = mapped_column(String(400), default="")
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    compute_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    figures: Mapped[list] = mapped_column(JSON, default=list)

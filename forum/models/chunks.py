"""Chunks of a mining run's embedding work, which any worker (or the run itself) claims one at a time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

CHUNK_QUEUED, CHUNK_CLAIMED, CHUNK_DONE = "queued", "claimed", "done"


class EmbeddingChunk(db.Model):
    """Threads of one run still to embed; claimed by one worker at a time, taken again once its heartbeat is stale."""

    __tablename__ = "embedding_chunk"
    __table_args__ = (Index("ix_embedding_chunk_run_state", "run_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("mining_run.id", ondelete="CASCADE"))
    thread_ids: Mapped[list] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)  # len(thread_ids), so progress is summed in SQL
    state: Mapped[str] = mapped_column(String(10), default=CHUNK_QUEUED)
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

"""The one clock: naive UTC datetimes, as every timestamp column stores them."""
from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

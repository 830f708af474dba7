"""What every model module shares: the UTC clock and enum columns stored as checked strings."""
from __future__ import annotations

import enum

from sqlalchemy import Enum

from ..clock import utcnow

__all__ = ["_enum", "utcnow"]


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint, so SQLite and PostgreSQL hold the same values.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda members: [m.value for m in members])

"""API writes under an ``Idempotency-Key``: a client's retry gets the first response again and creates nothing.

The key is taken (a row with no response yet) in its own transaction before the write, and the response is
stored after it. A retry while the first request is still served is told to wait (``KeyInUse``); the same key
sent with another request is refused (``KeyReused``). A key whose first request died before it answered is
free again after ``IDEMPOTENCY_PENDING_SECONDS``; kept responses are forgotten after
``IDEMPOTENCY_KEEP_HOURS``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import IdempotentRequest, utcnow


class KeyInUse(Exception):
    """The first request with this key is still being served."""


class KeyReused(Exception):
    """This key was sent before with a different request."""


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: str


def begin(user_id: int, key: str, fingerprint: str) -> Replay | None:
    """Take ``key`` for this request (None: go on and serve it), or the response kept for it."""
    now = utcnow()
    keep = timedelta(hours=float(current_app.config.get("IDEMPOTENCY_KEEP_HOURS", 24)))
    pending = timedelta(seconds=float(current_app.config.get("IDEMPOTENCY_PENDING_SECONDS", 30)))
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                       IdempotentRequest.created_at < now - keep))
    row = db.session.execute(select(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                             IdempotentRequest.key == key)).scalar()
    if row is not None:
        if row.fingerprint != fingerprint:
            db.session.rollback()
            raise KeyReused(key)
        if row.status_code is not None:
            replay = Replay(row.status_code, row.response_body)
            db.session.rollback()
            return replay
        if row.created_at >= now - pending:
            db.session.rollback()
            raise KeyInUse(key)
        db.session.delete(row)  # its request died before answering: this one serves it
        db.session.flush()
    db.session.add(IdempotentRequest(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent retry took it first
        db.session.rollback()
        raise KeyInUse(key) from None
    return None


def finish(user_id: int, key: str, status_code: int, body: str) -> None:
    """Keep the response of the request served under ``key``."""
    db.session.execute(update(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                       IdempotentRequest.key == key)
                       .values(status_code=status_code, response_body=body))
    db.session.commit()


def release(user_id: int, key: str) -> None:
    """Free ``key`` after a failure on our side (5xx): the client's retry is served afresh."""
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                       IdempotentRequest.key == key,
                                                       IdempotentRequest.status_code.is_(None)))
    db.session.commit()

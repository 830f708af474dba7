"""API writes under an ``Idempotency-Key``: a client's retry gets the first response again and creates nothing.

The key's row joins the request's own transaction (flushed, not committed), so it commits with the write it
guards: a request that dies before its commit leaves neither, and the retry does the write. The response is
stored after the commit. A retry while the first request is still served is told to wait (``KeyInUse``); one
whose first request committed but died before storing its response is told so (``ResponseLost``) and never
repeats the write; the same key sent with another request is refused (``KeyReused``). Kept responses are
forgotten after ``IDEMPOTENCY_KEEP_HOURS``.
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


class ResponseLost(Exception):
    """The first request with this key was carried out, but died before its response was kept."""


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
        started = row.created_at
        db.session.rollback()
        if started >= now - pending:
            raise KeyInUse(key)
        raise ResponseLost(key)  # committed with its write: doing it again would store it twice
    db.session.add(IdempotentRequest(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now))
    try:
        db.session.flush()  # committed by the request's own commit, with the write it guards
    except IntegrityError:  # a concurrent retry holds it
        db.session.rollback()
        raise KeyInUse(key) from None
    return None


def finish(user_id: int, key: str, status_code: int, body: str) -> None:
    """Keep the response of the request served under ``key`` (nothing if its transaction was rolled back)."""
    db.session.execute(update(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                       IdempotentRequest.key == key)
                       .values(status_code=status_code, response_body=body))
    db.session.commit()

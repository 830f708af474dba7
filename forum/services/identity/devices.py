"""Remembered devices: a browser that passed the second factor skips it for a while (30 days by default).

The cookie is signed and names the member and the device row; the row holds only a digest of the random part,
so the server can revoke a device (or all of them) and a cookie copied to another account's sign-in is useless.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from ...extensions import db
from ...models import RememberedDevice, User, utcnow

COOKIE_NAME = "gw_device"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="groundwork-remembered-device")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def remember_days() -> int:
    """How long a remembered device skips the second factor."""
    return int(current_app.config.get("TWO_FACTOR_REMEMBER_DAYS", 30))


def remember(user: User, label: str) -> str:
    """Remember this browser for ``user``; the value for its cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    device = RememberedDevice(user_id=user.id, token_hash=_digest(token), label=(label or "")[:120],
                              created_at=now, expires_at=now + timedelta(days=remember_days()))
    db.session.add(device)
    db.session.commit()
    return _serializer().dumps({"u": user.id, "d": device.id, "t": token})


def recognises(user: User, cookie: str | None) -> bool:
    """Does this cookie remember a live device of ``user``? (Marks it used.)"""
    if not cookie or len(cookie) > 500:
        return False
    try:
        data = _serializer().loads(cookie)
        user_id, device_id, token = int(data["u"]), int(data["d"]), str(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return False
    if user_id != user.id:
        return False
    device = db.session.get(RememberedDevice, device_id)
    now = utcnow()
    if (device is None or device.user_id != user.id or device.revoked_at is not None or device.expires_at <= now
            or not secrets.compare_digest(device.token_hash, _digest(token))):
        return False
    device.last_used_at = now
    db.session.commit()
    return True


def devices_of(user: User) -> list[RememberedDevice]:
    """The member's live remembered devices, newest first."""
    return list(db.session.execute(
        select(RememberedDevice).where(RememberedDevice.user_id == user.id, RememberedDevice.revoked_at.is_(None),
                                       RememberedDevice.expires_at > utcnow())
        .order_by(RememberedDevice.created_at.desc(), RememberedDevice.id.desc())).scalars())


def forget(user: User, device_id: int) -> bool:
    """Revoke one of the member's devices; False when there is no such live device of theirs."""
    done = db.session.execute(
        update(RememberedDevice).where(RememberedDevice.id == device_id, RememberedDevice.user_id == user.id,
                                       RememberedDevice.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done == 1


def revoke_all(user: User) -> None:
    """Revoke every device of the member (caller commits)."""
    db.session.execute(
        update(RememberedDevice).where(RememberedDevice.user_id == user.id, RememberedDevice.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))

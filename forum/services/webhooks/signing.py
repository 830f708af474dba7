"""Signing payloads: ``X-Groundwork-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``.

A receiver recomputes the HMAC over the timestamp, a dot and the raw body with its webhook's secret, compares in
constant time, and refuses timestamps older than a few minutes (a replayed request).
"""
from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Groundwork-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` at ``timestamp`` (now by default)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Does ``header`` sign ``body`` with ``secret``, recently enough? (What a receiver does; tests use it.)"""
    try:
        fields = dict(part.strip().split("=", 1) for part in (header or "").split(","))
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))

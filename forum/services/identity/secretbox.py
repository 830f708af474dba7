"""Secrets the app must read back (TOTP seeds, identity-provider client secrets), encrypted at rest with Fernet.

The key is ``ENCRYPTION_KEY`` when set (a Fernet key), otherwise derived from ``SECRET_KEY``: rotating the secret
key then makes stored secrets unreadable, which is why a dedicated key is recommended in production.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured key (the key changed)."""


def _fernet() -> Fernet:
    key = current_app.config.get("ENCRYPTION_KEY") or ""
    if not key:
        digest = hashlib.sha256(b"groundwork-secretbox:" + str(current_app.config["SECRET_KEY"]).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def seal(plaintext: str) -> bytes:
    """``plaintext`` encrypted and authenticated, ready to store."""
    return _fernet().encrypt(plaintext.encode("utf-8"))


def unseal(token: bytes) -> str:
    """The plaintext of a sealed value; SecretUnreadable when the key no longer matches."""
    try:
        return _fernet().decrypt(bytes(token)).decode("utf-8")
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted with the configured key") from exc

"""Personal access tokens: minted once, stored as sha256 hashes, revocable. Plain functions that commit."""
from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext
from sqlalchemy import select

from ...extensions import db
from ...models import SCOPES, ApiToken, User, utcnow

PREFIX = "gw_"
MAX_TOKENS = 20


class TokenError(Exception):
    """The token cannot be created as asked (bad name or scope, too many tokens)."""


def hash_token(raw: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the raw token, which is never stored or shown again."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise TokenError(gettext("Give the token a name of at most 80 characters."))
    if scope not in SCOPES:
        raise TokenError(gettext("Choose read or write."))
    if len(active_tokens(user)) >= MAX_TOKENS:
        raise TokenError(gettext('You already have %(MAX_TOKENS)s tokens; revoke one first.', MAX_TOKENS=MAX_TOKENS))
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, scope=scope, token_hash=hash_token(raw))
    db.session.add(token)
    db.session.commit()
    return token, raw


def active_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return list(db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())).scalars())


def revoke_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs, missing or already revoked."""
    token = db.session.execute(select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).scalar_one_or_none()
    if token is None:
        return False
    token.revoked_at = utcnow()
    db.session.commit()
    return True


def token_for(raw: str) -> ApiToken | None:
    """The live token (of an active user) matching ``raw``, or None."""
    if not raw or len(raw) > 200:
        return None
    token = db.session.execute(select(ApiToken).where(
        ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))).scalar_one_or_none()
    if token is None or token.user is None or not token.user.active:
        return None
    return token

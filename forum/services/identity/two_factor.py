"""Two-factor sign-in: an authenticator app (TOTP, RFC 6238) and single-use recovery codes.

A code is accepted for the current 30-second step or one either side (clocks drift), and only for a step later
than the last one used, so a code cannot be replayed even within its own minute. Recovery codes are stored as
digests and claimed with a conditional UPDATE, so each works exactly once however many requests race for it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from flask_babel import gettext
from sqlalchemy import delete, func, select, update

from ...extensions import db
from ...models import RecoveryCode, TwoFactor, User, utcnow
from ..moderation import audit
from ..orgs.accounts import revoke_sessions
from . import devices
from .secretbox import SecretUnreadable, seal, unseal

ISSUER = "Groundwork"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper and typed again
STEP_SECONDS = 30
DRIFT_STEPS = 1


class CodeRefused(Exception):
    """The code is wrong, expired, already used, or the account has no second factor to check it against."""


def new_secret() -> str:
    """A fresh random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code or pasted)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def is_enrolled(user: User) -> bool:
    """Has this member set up an authenticator app?"""
    return db.session.get(TwoFactor, user.id) is not None


def _normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()[:64]


def _current_step() -> int:
    return int(time.time()) // STEP_SECONDS


def _matching_step(secret: str, code: str) -> int | None:
    """The step within the drift window whose code is ``code``, latest first; None when none matches."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp, now = pyotp.TOTP(secret), _current_step()
    for step in range(now + DRIFT_STEPS, now - DRIFT_STEPS - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enroll(user: User, secret: str, code: str) -> list[str]:
    """Turn the authenticator on once ``code`` proves the app holds ``secret``; the new recovery codes."""
    step = _matching_step(secret, _normalise(code))
    if step is None:
        raise CodeRefused(gettext("That code does not match. Check the time on your phone and try the newest code."))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.add(TwoFactor(user_id=user.id, secret_encrypted=seal(secret), last_step=step, confirmed_at=utcnow()))
    codes = _replace_recovery_codes(user)
    audit.record("two_factor.enable", user, actor=user.id, before={}, after={"two_factor": True},
                 says=("two_factor.enable", {"username": user.username}))
    db.session.commit()
    return codes


def verify(user: User, code: str) -> str:
    """Check a second-factor code: "totp" or "recovery" for the kind that was accepted, else CodeRefused."""
    factor = db.session.get(TwoFactor, user.id)
    if factor is None:
        raise CodeRefused(gettext("This account has no second factor set up."))
    code = _normalise(code)
    if len(code) == 6 and code.isdigit():
        try:
            secret = unseal(factor.secret_encrypted)
        except SecretUnreadable as exc:
            raise CodeRefused(gettext("Your authenticator cannot be checked; use a recovery code or ask an admin.")) from exc
        step = _matching_step(secret, code)
        # Claim the step: of two requests with one code only one moves last_step forward.
        if step is not None and db.session.execute(
                update(TwoFactor).where(TwoFactor.user_id == user.id, TwoFactor.last_step < step)
                .values(last_step=step).execution_options(synchronize_session=False)).rowcount == 1:
            db.session.commit()
            return "totp"
        db.session.rollback()
        raise CodeRefused(gettext("That code is not valid (wrong, expired or already used)."))
    claimed = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _recovery_digest(user.id, code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise CodeRefused(gettext("That code is not valid (wrong, expired or already used)."))
    db.session.commit()
    return "recovery"


def _recovery_digest(user_id: int, code: str) -> str:
    # Bound to the member, so equal codes of two people never share a digest.
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(user.id, raw)))
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """New recovery codes for an enrolled member; every earlier code stops working."""
    if not is_enrolled(user):
        raise CodeRefused(gettext("Set up an authenticator app first."))
    codes = _replace_recovery_codes(user)
    db.session.commit()
    return codes


def recovery_codes_left(user: User) -> int:
    """How many of the member's recovery codes are still unused."""
    return db.session.execute(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def _remove(user: User) -> None:
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    devices.revoke_all(user)


def disable(user: User) -> None:
    """The member turns their own second factor off (the caller checked they may)."""
    _remove(user)
    audit.record("two_factor.disable", user, actor=user.id, before={"two_factor": True}, after={"two_factor": False},
                 says=("two_factor.disable", {"username": user.username}))
    db.session.commit()


def reset(member: User, actor: User) -> None:
    """An admin removes a member's second factor (a lost phone): devices forgotten, every session ended, audited.

    Staff then set up a new authenticator at their next sign-in before they reach any page."""
    was_enrolled = is_enrolled(member)
    _remove(member)
    revoke_sessions(member)
    audit.record("two_factor.reset", member, actor=actor, before={"two_factor": was_enrolled},
                 after={"two_factor": False}, says=("two_factor.reset", {"username": member.username}))
    db.session.commit()

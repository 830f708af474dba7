"""Password hashing (argon2id) and the password policy."""
from __future__ import annotations

import functools
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext

MIN_LENGTH = 12
# argon2 hashes the whole password (no 72-byte truncation as in bcrypt); the cap only bounds the work
# an attacker can make us do per request.
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"
# Stripped from both ends before the common-password look-up: "Sunshine2024!" is "sunshine".
_AFFIXES = "0123456789!@#$%^&*()-_=+.,?~ "
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s",
                       "7": "t", "+": "t"})

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Does ``password`` match the stored hash? False for empty or malformed hashes."""
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_verification_time(password: str) -> None:
    """Spend what one verification costs (used when the account does not exist)."""
    verify_password(_dummy_hash(), password[:MAX_LENGTH])


@functools.cache
def _dummy_hash() -> str:
    # Compared against when no account matches, so a wrong email costs as long as a wrong password.
    return _hasher.hash("not a real password, only for equal timing")


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters."""
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords and password cores, lower case."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """Is this a listed password, or a listed word dressed up with digits, symbols or l33t?"""
    lowered = password.strip().lower()
    squashed = re.sub(r"\s+", "", lowered)
    candidates = set()
    for form in (lowered, squashed):
        candidates.update({form, form.strip(_AFFIXES), form.translate(_LEET),
                           form.strip(_AFFIXES).translate(_LEET)})
    listed = common_passwords()
    return any(c and c in listed for c in candidates)


def password_problems(password: str, *, email: str = "", username: str = "",
                      display_name: str = "") -> list[str]:
    """Why this password is refused (empty list: it is acceptable)."""
    if len(password) < MIN_LENGTH:
        return [gettext("Use at least %(num)s characters (a few unrelated words make a good password).",
                        num=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [gettext("Use at most %(num)s characters.", num=MAX_LENGTH)]
    problems = []
    lowered = password.lower()
    if is_common_password(password):
        problems.append(gettext("This password is too common: it appears on lists that attackers try first. "
                                "Choose something less predictable."))
    elif len(set(lowered)) < 4:
        problems.append(gettext("This password repeats too few different characters."))
    personal = [email.strip().lower(), email.strip().lower().split("@")[0], username.strip().lower()]
    personal += [part for part in display_name.lower().split() if len(part) >= 4]
    if any(len(item) >= 3 and item in lowered for item in personal):
        problems.append(gettext("Do not use your email address, username or name in your password."))
    return problems

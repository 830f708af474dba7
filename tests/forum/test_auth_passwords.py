"""The password policy and hashing: length, no truncation, common passwords, personal data."""
from __future__ import annotations

import secrets
import string

import pytest

from forum.passwords import (
    MAX_LENGTH,
    common_passwords,
    hash_password,
    is_common_password,
    password_problems,
    verify_password,
)


def _random_password(length: int) -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation + " "
    return "".join(secrets.choice(alphabet) for _ in range(length))


def test_hash_is_argon2id_and_verifies():
    hashed = hash_password("a perfectly fine passphrase")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a perfectly fine passphrase")
    assert not verify_password(hashed, "a perfectly fine passphrasE")
    assert not verify_password("", "anything")
    assert not verify_password("not-a-hash", "anything")


def test_no_truncation_long_password_and_its_prefix():
    password = _random_password(200)
    hashed = hash_password(password)
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password[:199])
    assert not verify_password(hashed, password[:72])


def test_length_bounds():
    assert password_problems("x7#Kq2!mZp9") != []  # 11 characters
    assert password_problems("x7#Kq2!mZp9@") == []  # 12 characters
    assert password_problems(_random_password(MAX_LENGTH)) == []
    assert any("at most" in p for p in password_problems(_random_password(MAX_LENGTH + 1)))


def test_shipped_list_is_ours_and_a_few_thousand_long():
    words = common_passwords()
    assert 2000 <= len(words) <= 20000
    assert "password" in words and "qwertyuiop" in words and "sunshine" in words


@pytest.mark.parametrize("password", [
    "password1234", "Password2024!", "P@ssw0rd12345", "qwertyuiop123", "1q2w3e4r5t6y", "Sunshine1987!!",
    "iloveyou2023!", "letmein123456", "Jennifer1985!", "123456789012", "football2020", "mysunshine123",
    "  Welcome2025!! ", "superman1234", "QWERTY123456",
])
def test_common_passwords_are_refused_with_a_clear_message(password):
    assert is_common_password(password)
    problems = password_problems(password)
    assert problems and "too common" in problems[0]


@pytest.mark.parametrize("password", [
    "correct horse battery staple 42", "plum orchard under a quiet sky 7", "Tr0ub4dor&3xyzzy",
    "granite-otter-lampshade", "my cat eats lasagne on tuesdays",
])
def test_uncommon_passwords_pass(password):
    assert password_problems(password, email="ann@example.test", username="ann_k") == []


def test_repetitive_passwords_refused():
    assert password_problems("aaaaaaaaaaaaaaa")
    assert password_problems("abababababab")


@pytest.mark.parametrize("password", [
    "mary.smith@corp.test!", "hello mary.smith 2024", "msmith-rocks-hard", "Smithereens Mary 12",
])
def test_personal_data_refused(password):
    problems = password_problems(password, email="mary.smith@corp.test", username="msmith",
                                 display_name="Mary Smithereens")
    assert any("email address, username or name" in p for p in problems)

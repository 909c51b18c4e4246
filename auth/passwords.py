"""Password hashing with Argon2id (argon2-cffi): memory-hard, the OWASP first choice, salted and
self-describing (parameters live in the hash, so they can be raised later and old hashes re-hashed)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
_HASHER = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must have at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """True when `password` matches `stored`; never raises for a wrong or malformed hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


# Verified against when the account does not exist, so a wrong user name costs the same time as a
# wrong password (no user enumeration by timing).
DUMMY_HASH = _HASHER.hash("not-a-real-password")

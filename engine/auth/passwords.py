"""Password hashing with Argon2id (DESIGN: Security and privacy)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

# argon2-cffi's defaults are RFC 9106's "low memory" Argon2id profile.
_HASHER = PasswordHasher(type=Type.ID)
# Verified against when no such teammate exists, so a wrong login and a wrong
# password take the same time and do not tell an attacker which handles exist.
_DUMMY_HASH = _HASHER.hash("kazi-no-such-teammate-password")


class WeakPassword(ValueError):
    """The new password is refused; the message says why."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise WeakPassword("a password may not start or end with spaces")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-effort check; a missing hash (no password set yet) never matches."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True

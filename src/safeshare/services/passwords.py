"""Password rules and hashing: argon2id, with production and test-suite costs
(a login rehashes a password when the parameters change)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type


class WeakPasswordError(ValueError):
    """A password shorter than the minimum."""


MIN_PASSWORD_LENGTH = 12


def production_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's low-memory recommendation (t=3, m=64 MiB, p=4)."""
    return PasswordHasher(
        time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
    )


def fast_hasher() -> PasswordHasher:
    """argon2id with small costs: for the test suite only (still argon2id, still salted)."""
    return PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
    )

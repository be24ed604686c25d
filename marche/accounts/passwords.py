"""Password hashing with argon2id."""
from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: argon2id's cost. "default": the library's parameters (t=3, m=64 MiB, p=4: RFC 9106's second recommended
#: option), about 0.1 to 0.2 s a hash here. "test": the test suite's (t=1, m=1 MiB, p=1), the same algorithm and
#: code at a cost its 2 000 tests can pay (set by tests/conftest.py; refused in production by `marche.config`).
COSTS = {"default": {}, "test": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}}
COST = os.environ.get("MARCHE_PASSWORD_HASH_COST", "default")
if COST not in COSTS:
    raise RuntimeError(f"MARCHE_PASSWORD_HASH_COST : « {COST} » inconnu ({', '.join(COSTS)}).")
_hasher = PasswordHasher(**COSTS[COST])
#: verifying against this keeps the timing of unknown accounts close to known ones
_DUMMY_HASH = _hasher.hash("marche-dummy-password")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

"""API token secrets: made random, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "hoist_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()

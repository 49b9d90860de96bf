"""Real services the tests use: reachability checks that skip or fail as CI asks."""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = os.environ.get("HOIST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Skip when a service is down, or fail when HOIST_TEST_REQUIRE_SERVICES=1 (CI)."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("HOIST_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (HOIST_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

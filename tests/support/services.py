"""Real services the tests use: reachability checks that skip or fail as CI asks.

PostgreSQL is the machine's server (HOIST_TEST_POSTGRES_URL names another); the tests only
create and drop scratch databases beside the one named. Redis is never the machine's: the
tests that need one start a redis-server of their own on a free port (tests/support/
processes.py), so a developer's Redis keeps its data.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

POSTGRES_URL = os.environ.get("HOIST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


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


def require_program(name: str) -> str:
    """The path of a program the tests run (redis-server); skip or fail as `require` does."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed (not on PATH)"
    if os.environ.get("HOIST_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (HOIST_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

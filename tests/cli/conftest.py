"""CLI tests run `hoist` as a subprocess; client commands talk to a live server."""

from __future__ import annotations

from tests.support.live_server import live_server

__all__ = ["live_server"]  # a fixture: pytest finds it here, in this folder's conftest

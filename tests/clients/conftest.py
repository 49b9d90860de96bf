"""Third-party GraphQL clients (Python gql, Node graphql-request) against a live server."""

from __future__ import annotations

from tests.support.live_server import live_server

__all__ = ["live_server"]  # a fixture: pytest finds it here, in this folder's conftest

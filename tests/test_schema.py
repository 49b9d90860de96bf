"""schema.graphql is the code's schema (tests/contract checks it holds the client contract)."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema

from app.graphql.schema import schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "schema.graphql drifted: run `make schema`"


def test_schema_builds_as_sdl() -> None:
    build_schema((ROOT / "schema.graphql").read_text())

"""schema.graphql is the code's schema, and it holds every part of the shared contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import build_schema

from app.graphql.schema import schema

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "contract.graphql"
CHECKER = ROOT.parent / "shared" / "tools" / "contract-check"


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "schema.graphql drifted: run `make schema`"


def test_schema_builds_as_sdl() -> None:
    build_schema((ROOT / "schema.graphql").read_text())


def test_contract_items_present_with_same_types() -> None:
    assert CONTRACT.exists(), f"the shared contract is missing at {CONTRACT}"
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(ROOT / "schema.graphql"), str(CONTRACT)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "0 gaps" in result.stdout.splitlines()[-1], result.stdout

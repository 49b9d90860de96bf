"""Every setting is documented, and every documented or deployed HOIST_ name is a setting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {f"HOIST_{name.upper()}" for name in Settings.model_fields}
NAME = re.compile(r"\bHOIST_[A-Z0-9_]+\b")
# Names the test suite itself reads (never the application).
TEST_ONLY = {"HOIST_TEST_REQUIRE_SERVICES", "HOIST_TEST_POSTGRES_URL"}


def names_in(path: str) -> set[str]:
    return set(NAME.findall((ROOT / path).read_text())) - TEST_ONLY


def test_readme_table_lists_every_setting() -> None:
    table = {
        m
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| `HOIST_")
        for m in NAME.findall(line.split("|")[1])
    }
    assert table == SETTINGS


def test_env_example_lists_every_setting() -> None:
    assert names_in(".env.example") == SETTINGS


def test_no_unknown_names_in_docs_or_deployment_files() -> None:
    for path in ("README.md", "docker-compose.yml", "Dockerfile", ".env.example"):
        unknown = names_in(path) - SETTINGS
        assert not unknown, f"{path} names settings that don't exist: {sorted(unknown)}"


def test_compose_file_wires_api_and_worker_alike() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["api"]["environment"] == services["worker"]["environment"]
    assert services["worker"]["command"][:2] == ["hoist", "worker"]

"""The committed migrations describe the models exactly: `makemigrations` would write nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from app import db as app_db


def _apps_config(migrations: str) -> dict[str, dict[str, Any]]:
    config = app_db.tortoise_config("sqlite://:memory:")["apps"]
    return {label: {**app, "migrations": migrations} for label, app in config.items()}


async def _pending_operations(migrations: str) -> list[str]:
    detector = MigrationAutodetector(Tortoise.apps, _apps_config(migrations))
    return [op.describe() for writer in await detector.changes() for op in writer.operations]


async def test_no_model_change_lacks_a_migration(db: str) -> None:
    pending = await _pending_operations("app.migrations")
    assert pending == [], (
        "models changed without a migration: run `tortoise -c "
        "app.db.TORTOISE_ORM makemigrations -n <name>`\n" + "\n".join(pending)
    )


async def test_the_check_sees_models_without_migrations(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against an empty migrations package every model is pending: the check above can fail."""
    package = tmp_path / "no_migrations_yet"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    pending = await _pending_operations("no_migrations_yet")
    created = " ".join(pending)
    for model in Tortoise.apps["hoist"].values():
        assert model.__name__ in created

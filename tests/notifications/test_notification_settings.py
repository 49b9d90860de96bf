"""Every email setting is documented where people look: README's table and .env.example."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EMAIL_SETTINGS = [name for name in Settings.model_fields
                  if name.startswith(("email_", "smtp_", "ses_"))]


def test_email_settings_are_documented() -> None:
    readme, example = (ROOT / "README.md").read_text(), (ROOT / ".env.example").read_text()
    assert len(EMAIL_SETTINGS) >= 16
    for name in EMAIL_SETTINGS:
        variable = f"HOIST_{name.upper()}"
        assert f"| `{variable}` |" in readme, variable
        assert f"{variable}=" in example, variable


def test_defaults_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOIST_EMAIL_BACKEND", "HOIST_EMAIL_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.email_backend, settings.email_max_attempts) == ("console", 5)
    monkeypatch.setenv("HOIST_EMAIL_BACKEND", "pigeon")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]

"""Email settings: the console default, and an unknown backend refused at start-up.

(That every setting is documented is tests/test_configuration.py's job.)
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_defaults_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOIST_EMAIL_BACKEND", "HOIST_EMAIL_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.email_backend, settings.email_max_attempts) == ("console", 5)
    monkeypatch.setenv("HOIST_EMAIL_BACKEND", "pigeon")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("HOIST_EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("HOIST_EMAIL_MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]

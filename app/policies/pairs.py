"""(application, environment) pairs as policies and promotion windows are applied to them,
and what is wrong with one: the rules both share (all or nothing, each bad pair named)."""

from __future__ import annotations

from dataclasses import dataclass

from app.catalog.models import Application, Environment
from app.errors import DomainError, not_found, validation


@dataclass(frozen=True)
class Pair:
    application: str
    environment: str


def bad_pair(
    pair: Pair,
    apps: dict[str, Application],
    envs: dict[str, Environment],
    with_pipeline: set[tuple[int, int]],
    field: str,
) -> list[DomainError]:
    """What is wrong with one pair: an unknown application and environment are both named."""
    app, env = apps.get(pair.application), envs.get(pair.environment)
    errors: list[DomainError] = []
    if app is None:
        errors.append(not_found(f"no application named {pair.application!r}", f"{field}.appName"))
    if env is None:
        errors.append(not_found(f"no environment named {pair.environment!r}", f"{field}.envName"))
    if app is not None and env is not None and (app.id, env.id) not in with_pipeline:
        errors.append(
            validation(
                f"{pair.application} has no CD pipeline in {pair.environment!r}", f"{field}.envName"
            )
        )
    return errors

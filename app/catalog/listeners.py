"""The catalog hears the accounts' events: a role's scope must name what the catalog has."""

from __future__ import annotations

from app.accounts.models import WILDCARD
from app.catalog import repository
from app.errors import ErrorCollector, not_found
from app.events import RoleScopeNamed, listener


@listener(RoleScopeNamed)
async def refuse_unknown_scope(event: RoleScopeNamed) -> None:
    """NOT_FOUND for an application or environment no one created (`*` names them all)."""
    errors = ErrorCollector()
    if event.application != WILDCARD and not await repository.application_named(event.application):
        errors.add(not_found(f"no application named {event.application!r}", "application"))
    if event.environment != WILDCARD and not await repository.environment_named(event.environment):
        errors.add(not_found(f"no environment named {event.environment!r}", "environment"))
    errors.raise_if_any()

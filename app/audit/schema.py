"""The audit log query (super-admins)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from app.accounts.types import User, load_user
from app.audit import models, repository, service
from app.graphql.context import Info
from app.graphql.errors import UNSET, unset_to_none
from app.graphql.nodes import super_admins, visible_nodes
from app.graphql.pagination import After, Connection, First, paginate


@strawberry.type(description="One state change: who did what, when, with its data as JSON.")
class AuditEvent(relay.Node):
    id: relay.NodeID[int]
    at: datetime = strawberry.field(description="When it happened.")
    action: str = strawberry.field(
        description="What happened, as domain.verb, e.g. policy.updated or role.granted."
    )
    application: str | None = strawberry.field(description="The application it concerns, if one.")
    environment: str | None = strawberry.field(description="The environment it concerns, if one.")
    data: str = strawberry.field(description="The change's details, a JSON object.")
    actor_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: models.AuditEvent) -> AuditEvent:
        return cls(
            id=row.id,
            at=row.at,
            action=row.action,
            application=row.application,
            environment=row.environment,
            data=json.dumps(row.data, sort_keys=True, default=str),
            actor_id=row.actor_id,
        )

    resolve_nodes = visible_nodes(repository.events_by_ids, super_admins)

    @strawberry.field(description="Who did it; null when Hoist itself did (workers, triggers).")
    async def actor(self, info: Info) -> User | None:
        return await load_user(info, self.actor_id)


@strawberry.type
class Query:
    @strawberry.field(
        description="The audit log, newest first (super-admins). `actor` is an "
        "email; `action` matches exactly or, ending in '.', as a prefix; "
        "both ignore case."
    )
    async def audit_log(
        self,
        info: Info,
        application: Annotated[
            str | None, strawberry.argument(description="Only events of this application.")
        ] = UNSET,
        actor: Annotated[
            str | None, strawberry.argument(description="Only events by the user with this email.")
        ] = UNSET,
        action: Annotated[
            str | None,
            strawberry.argument(
                description="Only this action (role.granted), or with a final '.' every "
                "action it begins (role.)."
            ),
        ] = UNSET,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[AuditEvent]:
        rows = service.audit_log(
            await info.context.access(),
            unset_to_none(application),
            unset_to_none(actor),
            unset_to_none(action),
        )
        return await paginate(rows, first, unset_to_none(after), AuditEvent.of)

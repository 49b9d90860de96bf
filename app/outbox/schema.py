"""GraphQL doors of the outbox: super-admins see worker jobs that gave up and retry them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry import relay

from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, parse_id, unset_to_none
from app.graphql.nodes import super_admins, visible_nodes
from app.graphql.pagination import After, Connection, First, paginate
from app.outbox import models, repository, service


@strawberry.enum(description="Where a worker job stands.")
class OutboxJobState(Enum):
    PENDING = strawberry.enum_value(
        service.PENDING, description=("Not done yet; after a failed run it waits until retryAt.")
    )
    DONE = strawberry.enum_value(service.DONE, description="Done.")
    DEAD = strawberry.enum_value(
        service.DEAD,
        description=(
            "Its handler failed HOIST_OUTBOX_MAX_ATTEMPTS times: not run again unless a "
            "super-admin retries it (retryOutboxJob)."
        ),
    )


@strawberry.type(description="One job for the workers (promote, send emails, deploy).")
class OutboxJob(relay.Node):
    id: relay.NodeID[int]
    task: str = strawberry.field(description="The job's name, e.g. notifications.send.")
    state: OutboxJobState = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(
        description="Runs whose handler failed (since the last retry by a super-admin)."
    )
    last_error: str | None = strawberry.field(
        description="Why the last run or hand-over to the broker failed."
    )
    created_at: datetime = strawberry.field(description="When the change that needs it wrote it.")
    retry_at: datetime | None = strawberry.field(
        description="A failed PENDING job is not run again before this."
    )
    dead_at: datetime | None = strawberry.field(description="When it gave up.")
    done_at: datetime | None = strawberry.field(description="When it was done.")

    @classmethod
    def of(cls, row: models.OutboxJob) -> OutboxJob:
        state = OutboxJobState(service.state_of(row))
        return cls(
            id=row.id,
            task=row.task,
            state=state,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            retry_at=row.retry_at if state == OutboxJobState.PENDING else None,
            dead_at=row.dead_at,
            done_at=row.done_at,
        )

    resolve_nodes = visible_nodes(repository.jobs_by_ids, super_admins)


@strawberry.type(description="What retryOutboxJob did.")
class RetryOutboxJobPayload:
    job: OutboxJob | None = strawberry.field(
        default=None, description="The job, PENDING again; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why the job was not retried.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.NOT_DEAD,
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Worker jobs newest first, DEAD ones by default (super-admins only)."
    )
    async def outbox_jobs(
        self,
        info: Info,
        state: Annotated[
            OutboxJobState | None,
            strawberry.argument(description="Only jobs in this state; null: every job."),
        ] = OutboxJobState.DEAD,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[OutboxJob]:
        (await info.context.access()).require_super_admin()
        # strawberry.enum unwraps enum_value(): at run time .value is the service's state name.
        rows = service.jobs_in_state(cast(str, state.value) if state else None)
        return await paginate(rows, first, unset_to_none(after), OutboxJob.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Run a DEAD job again with a fresh set of attempts "
        "(super-admins only); NOT_DEAD for any other job."
    )
    async def retry_outbox_job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The DEAD job's id.")],
    ) -> RetryOutboxJobPayload | None:
        access = await info.context.access()

        async def run() -> RetryOutboxJobPayload:
            job = await service.retry_dead_job(access, parse_id(id, "id", "OutboxJob"))
            return RetryOutboxJobPayload(job=OutboxJob.of(job))

        return await mutate(run, lambda errors: RetryOutboxJobPayload(errors=errors))

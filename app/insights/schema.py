"""GraphQL door of delivery insights."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.graphql.context import Info
from app.graphql.errors import UNSET, unset_to_none
from app.insights import service
from app.insights.types import DeliveryInsights


@strawberry.type
class Query:
    @strawberry.field(
        description="Delivery figures of an application per ISO week (UTC) and over the "
        "range: lead time from commit to running, promotions by state, approval wait, "
        "skipped stages and rollbacks (README, 'Delivery insights'). For whoever may see "
        "the application; the range may span at most 366 days."
    )
    async def delivery_insights(
        self,
        info: Info,
        application: Annotated[str, strawberry.argument(description="The application's name.")],
        environment: Annotated[
            str | None,
            strawberry.argument(description="Only this environment; left out: all of them."),
        ] = UNSET,
        *,
        from_: Annotated[
            datetime,
            strawberry.argument(
                name="from", description="The range's start, included (without a zone: UTC)."
            ),
        ],
        to: Annotated[
            datetime,
            strawberry.argument(description="The range's end, excluded (without a zone: UTC)."),
        ],
    ) -> DeliveryInsights:
        access = await info.context.access()
        return DeliveryInsights.of(
            await service.delivery_insights(
                access, application, unset_to_none(environment), from_, to
            )
        )

"""The root schema, assembled from each domain's queries and mutations."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.accounts import schema as accounts
from app.audit import schema as audit
from app.catalog import schema as catalog
from app.deployments import schema as deployments
from app.graphql import live, nodes
from app.graphql.context import Ports
from app.graphql.errors import MaskCrashes, is_expected, should_mask
from app.graphql.limits import (
    BoundedParserCache,
    BoundedValidationCache,
    DocumentLimits,
    limit_rules,
)
from app.graphql.log_fields import LogFields
from app.graphql.metrics import OperationMetrics
from app.insights import schema as insights
from app.notifications import schema as notifications
from app.outbox import schema as outbox
from app.policies import schema as policies
from app.policies import types as policy_types
from app.promotions import schema as promotions
from app.settings import get_settings
from app.supplychain import schema as supplychain
from app.supplychain import types as supplychain_types
from app.webhooks import schema as webhooks
from app.windows import schema as windows

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("hoist.graphql")

Query = merge_types(
    "Query",
    (
        nodes.Query,
        accounts.Query,
        catalog.Query,
        supplychain.Query,
        policies.Query,
        windows.Query,
        promotions.Query,
        deployments.Query,
        audit.Query,
        notifications.Query,
        outbox.Query,
        webhooks.Query,
        insights.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        accounts.Mutation,
        catalog.Mutation,
        supplychain.Mutation,
        policies.Mutation,
        windows.Mutation,
        promotions.Mutation,
        deployments.Mutation,
        notifications.Mutation,
        outbox.Mutation,
        webhooks.Mutation,
    ),
)
# merge_types takes no description; the merged types' definitions are Strawberry's own
# (mutable) dataclasses, read when the schema is built below.
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Reads. Each needs an API token; you see only the applications you hold a role on."
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Changes. Each happens fully or not at all; its payload says what was done or why not."
)


class HoistSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log crashes with their traceback; expected errors are answers, not incidents."""
        for error in errors:
            if not is_expected(error):
                log.error(
                    "GraphQL resolver failed: %s", error.message, exc_info=error.original_error
                )


def _no_argument_values(args: dict[str, Any], info: Any) -> dict[str, Any]:
    # A resolver's arguments may hold what no span may carry (a comment, a reason, a
    # credential's name...): the spans name the fields, not what was passed.
    return {}


def build_schema(tracer_provider: TracerProvider | None = None) -> HoistSchema:
    """The schema; with `tracer_provider` (tracing on), each operation, its parsing,
    validation and resolvers are spans (Strawberry's OpenTelemetry extension)."""
    settings = get_settings()
    # Built once, here: the same rule objects on every request let ValidationCache hit.
    rules = limit_rules(
        DocumentLimits(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_fragments=settings.graphql_max_fragments,
            max_selections=settings.graphql_max_selections,
            max_cost=settings.graphql_max_cost,
        )
    )
    extensions: list[Any] = [
        OperationMetrics,  # first: its time includes the other extensions' work
        # Before the parser cache: it sets the parse option the cache is keyed on.
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        BoundedParserCache,
        lambda: AddValidationRules(rules),
        BoundedValidationCache,
        lambda: MaskCrashes(
            should_mask_error=should_mask, error_message="Internal error; it has been logged."
        ),
        LogFields,
    ]
    if tracer_provider is not None:
        from strawberry.extensions.tracing import OpenTelemetryExtension

        # First, so that the operation's span encloses what the others do.
        extensions.insert(
            0,
            lambda: OpenTelemetryExtension(
                arg_filter=_no_argument_values, tracer_provider=tracer_provider
            ),
        )
    return HoistSchema(
        query=Query, mutation=Mutation, subscription=live.Subscription, extensions=extensions
    )


schema = build_schema()
# The lower domains' views of higher ones (app/graphql/context.py).
ports = Ports(
    policy_of_pair=policy_types.load_policy_of_pair,
    evidence_of_image=supplychain_types.load_image_evidence,
)

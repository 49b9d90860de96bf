"""GraphQL types of promotion policies."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app import durations
from app.catalog.types import application_by_id, environment_by_id
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.loaders import load_existing, rows_by_id, rows_grouped
from app.graphql.nodes import super_admins, visible_nodes
from app.policies import models, repository

strawberry.enum(
    models.Enforcement,
    description="What a policy's failing conditions do: block (ENFORCE) or warn (WARN).",
)
describe_values(
    models.Enforcement,
    {
        models.Enforcement.ENFORCE: "A failing condition blocks the promotion (BLOCKED_BY_POLICY).",
        models.Enforcement.WARN: "A failing condition does not block: the request is made and "
        "carries the failed clauses as its warnings (GraphQL, approval emails, audit log).",
    },
)


def _binding_by_pair(info: Info) -> DataLoader[tuple[int, int], models.PolicyBinding | None]:
    """Bindings by (application id, environment id)."""

    async def load(keys: list[tuple[int, int]]) -> list[models.PolicyBinding | None]:
        rows = await repository.bindings_of_pairs(keys)
        found = {(r.application_id, r.environment_id): r for r in rows}
        return [found.get(k) for k in keys]

    return info.context.loaders.get("policy_binding_by_pair", lambda: DataLoader(load_fn=load))


def policy_by_id(info: Info) -> DataLoader[int, models.PromotionPolicy | None]:
    return info.context.loaders.get("policy_by_id", lambda: rows_by_id(repository.policies_by_ids))


def _duration(seconds: int | None) -> str | None:
    return None if seconds is None else durations.show(seconds)


async def _application_name(info: Info, application_id: int) -> str:
    return (await load_existing(application_by_id(info), application_id)).name


@strawberry.type(description="The policy of one application+environment pair.")
class PolicyBinding:
    application_id: strawberry.Private[int]
    environment_id: strawberry.Private[int]
    policy_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.PolicyBinding) -> PolicyBinding:
        return cls(
            application_id=row.application_id,
            environment_id=row.environment_id,
            policy_id=row.policy_id,
        )

    @strawberry.field(description="The application's name.")
    async def app_name(self, info: Info) -> str:
        return await _application_name(info, self.application_id)

    @strawberry.field(description="The environment's name.")
    async def env_name(self, info: Info) -> str:
        return (await load_existing(environment_by_id(info), self.environment_id)).name

    @strawberry.field(description="The policy that governs promoting to the pair.")
    async def policy(self, info: Info) -> PromotionPolicy:
        return PromotionPolicy.of(await load_existing(policy_by_id(info), self.policy_id))


@strawberry.type(description="Conditions and approval rules for promoting images to a target.")
class PromotionPolicy(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique; lowercase letters, digits and '-'.")
    description: str | None = strawberry.field(description="What the policy is for.")
    pass_condition: str | None = strawberry.field(description="CEL; the image must meet it.")
    fail_condition: str | None = strawberry.field(
        description="CEL; an image meeting it is blocked (it wins over passCondition)."
    )
    approver_count: int = strawberry.field(description="Approvals needed, 0-6.")
    allow_request_from_approve: bool = strawberry.field(
        description="May the requester approve their own request?"
    )
    allow_image_builder_from_approve: bool = strawberry.field(
        description="May the user who built the image approve it?"
    )
    allow_approver_from_deploy: bool = strawberry.field(
        description="May an approver of the promotion deploy the image?"
    )
    version: int = strawberry.field(description="1 when created, one more on every update.")
    request_timeout: str | None = strawberry.field(
        description="How long a request may await approval before it turns EXPIRED, as a "
        "duration such as 72h; null: no limit."
    )
    approval_max_age: str | None = strawberry.field(
        description="How long an approval counts towards the quorum (say 24h); null: "
        "approvals never age out."
    )
    remind_after: str | None = strawberry.field(
        description="Approvers who have not decided are reminded once per this period; "
        "null: no reminders."
    )
    max_reminders: int = strawberry.field(description="Reminders per approver, at most.")
    break_glass_approver_count: int = strawberry.field(
        description="Extra approvals a break-glass promotion through a closed promotion "
        "window needs."
    )
    enforcement: models.Enforcement = strawberry.field(
        default=models.Enforcement.ENFORCE,
        description="ENFORCE: failing conditions block a promotion; WARN: they are recorded "
        "as the request's warnings and the promotion goes on.",
    )

    @classmethod
    def of(cls, row: models.PromotionPolicy) -> PromotionPolicy:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            pass_condition=row.pass_condition,
            fail_condition=row.fail_condition,
            approver_count=row.approver_count,
            allow_request_from_approve=row.allow_request_from_approve,
            allow_image_builder_from_approve=row.allow_image_builder_from_approve,
            allow_approver_from_deploy=row.allow_approver_from_deploy,
            version=row.version,
            request_timeout=_duration(row.request_timeout_seconds),
            approval_max_age=_duration(row.approval_max_age_seconds),
            remind_after=_duration(row.remind_after_seconds),
            max_reminders=row.max_reminders,
            break_glass_approver_count=row.break_glass_approver_count,
            enforcement=row.enforcement,
        )

    resolve_nodes = visible_nodes(repository.policies_by_ids, super_admins)

    @strawberry.field(description="The pairs this policy governs (of applications you see).")
    async def bindings(self, info: Info) -> list[PolicyBinding]:
        access = await info.context.access()
        loader = info.context.loaders.get(
            "policy_bindings_by_policy",
            lambda: rows_grouped(repository.bindings_of_policies, "policy_id"),
        )
        bindings = [PolicyBinding.of(b) for b in await loader.load(self.id)]
        if access.visible_applications() is None:
            return bindings
        # A policy reached through one application must not reveal the others' names.
        return [
            b for b in bindings if access.can_view(await _application_name(info, b.application_id))
        ]


async def load_policy_of_pair(
    info: Info, application_id: int, environment_id: int
) -> PromotionPolicy | None:
    binding = await _binding_by_pair(info).load((application_id, environment_id))
    if binding is None:
        return None
    return PromotionPolicy.of(await load_existing(policy_by_id(info), binding.policy_id))

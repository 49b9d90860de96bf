"""GraphQL queries and mutations of promotion policies (super-admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app import cel, durations, limits
from app.accounts.schema import DeletePayload, deleted_payload
from app.cel import limits as cel_limits
from app.errors import DomainError, ErrorCode, ErrorCollector, validation
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, unset_to_none
from app.policies import manifest as manifests
from app.policies import service
from app.policies.models import Enforcement
from app.policies.types import PolicyBinding, PromotionPolicy

_NAME = f"Lowercase letters, digits and '-', 3-{limits.NAME} characters."
_DESCRIPTION = limits.text_note(limits.DESCRIPTION)
_CONDITION = "CEL. " + limits.text_note(limits.CONDITION)
_APPROVER_COUNT = "Approvals a request needs before the image is promoted, 0-6; 0: none."
_ALLOW_REQUESTER = "Whether the user who requested a promotion may also approve it."
_ALLOW_BUILDER = "Whether a user who built the image may approve its promotion."
_ALLOW_APPROVER = "Whether a user who approved the promotion may then deploy the image there."
_DURATION = (
    "A duration such as 72h, 1h30m, 2d or 45m (d: 24 hours; whole units, largest first); "
    f'null or "": none. {limits.text_note(limits.DURATION)} '
)
_REQUEST_TIMEOUT = (
    _DURATION + "A request still awaiting approval this long after it was made turns "
    "EXPIRED (the requester is emailed); 5m-90d. Requests made before a change keep "
    "their deadline."
)
_APPROVAL_MAX_AGE = (
    _DURATION + "An approval older than this no longer counts towards the quorum (its "
    "approver may approve again); 1m-90d."
)
_REMIND_AFTER = (
    _DURATION + "Approvers who were emailed and have not decided get a reminder once "
    "per this period while the request awaits approval; 5m-30d."
)
_MAX_REMINDERS = f"Reminders per approver, at most; 0-{service.MAX_REMINDERS} (default 2)."
_BREAK_GLASS = (
    "Approvals a break-glass promotion through a closed promotion window needs on top of "
    "approverCount, 0-6 (default 1); super-admins are not exempt from separation of duty."
)
_ENFORCEMENT = (
    "ENFORCE (default): a failing condition blocks the promotion. WARN: it does not; the "
    "request, its approval email and the audit log carry the failed clauses as warnings."
)
_POLICY_NAME = Annotated[str, strawberry.argument(description="The policy's name.")]


@strawberry.input(description="A new promotion policy: its conditions and approval rules.")
class PromotionPolicyInput:
    name: str = strawberry.field(description=_NAME)
    description: str | None = strawberry.field(default=UNSET, description=_DESCRIPTION)
    pass_condition: str | None = strawberry.field(default=UNSET, description=_CONDITION)
    fail_condition: str | None = strawberry.field(default=UNSET, description=_CONDITION)
    approver_count: int | None = strawberry.field(default=0, description=_APPROVER_COUNT)
    allow_request_from_approve: bool | None = strawberry.field(
        default=False, description=_ALLOW_REQUESTER
    )
    allow_image_builder_from_approve: bool | None = strawberry.field(
        default=False, description=_ALLOW_BUILDER
    )
    allow_approver_from_deploy: bool | None = strawberry.field(
        default=False, description=_ALLOW_APPROVER
    )
    request_timeout: str | None = strawberry.field(default=UNSET, description=_REQUEST_TIMEOUT)
    approval_max_age: str | None = strawberry.field(default=UNSET, description=_APPROVAL_MAX_AGE)
    remind_after: str | None = strawberry.field(default=UNSET, description=_REMIND_AFTER)
    max_reminders: int | None = strawberry.field(default=2, description=_MAX_REMINDERS)
    break_glass_approver_count: int | None = strawberry.field(default=1, description=_BREAK_GLASS)
    enforcement: Enforcement | None = strawberry.field(
        default=Enforcement.ENFORCE, description=_ENFORCEMENT
    )


@strawberry.input(description='Only the fields you set change; set a condition to "" to drop it.')
class PromotionPolicyPatch:
    name: str | None = strawberry.field(default=strawberry.UNSET, description=_NAME)
    description: str | None = strawberry.field(default=strawberry.UNSET, description=_DESCRIPTION)
    pass_condition: str | None = strawberry.field(default=strawberry.UNSET, description=_CONDITION)
    fail_condition: str | None = strawberry.field(default=strawberry.UNSET, description=_CONDITION)
    approver_count: int | None = strawberry.field(
        default=strawberry.UNSET, description=_APPROVER_COUNT
    )
    allow_request_from_approve: bool | None = strawberry.field(
        default=strawberry.UNSET, description=_ALLOW_REQUESTER
    )
    allow_image_builder_from_approve: bool | None = strawberry.field(
        default=strawberry.UNSET, description=_ALLOW_BUILDER
    )
    allow_approver_from_deploy: bool | None = strawberry.field(
        default=strawberry.UNSET, description=_ALLOW_APPROVER
    )
    request_timeout: str | None = strawberry.field(
        default=strawberry.UNSET, description=_REQUEST_TIMEOUT
    )
    approval_max_age: str | None = strawberry.field(
        default=strawberry.UNSET, description=_APPROVAL_MAX_AGE
    )
    remind_after: str | None = strawberry.field(default=strawberry.UNSET, description=_REMIND_AFTER)
    max_reminders: int | None = strawberry.field(
        default=strawberry.UNSET, description=_MAX_REMINDERS
    )
    break_glass_approver_count: int | None = strawberry.field(
        default=strawberry.UNSET, description=_BREAK_GLASS
    )
    enforcement: Enforcement | None = strawberry.field(
        default=strawberry.UNSET, description=_ENFORCEMENT
    )


@strawberry.input(description="An application and one of its environments, by name.")
class AppEnvInput:
    app_name: str = strawberry.field(description="The application's name.")
    env_name: str = strawberry.field(
        description="The environment's name; the application needs a CD pipeline there."
    )


@strawberry.type(description="The policy as saved, or why nothing was saved.")
class PromotionPolicyPayload:
    policy: PromotionPolicy | None = strawberry.field(
        default=None, description="The policy as saved; null when errors is not empty."
    )
    errors: list[UserError] = error_list(
        "Why nothing was saved: for instance a condition that does not compile (the message says "
        "where) or CONFLICT on ifVersion.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_CONDITION,
    )


@strawberry.type(description="The pairs' bindings after applying, or why nothing changed.")
class ApplyPolicyPayload:
    bindings: list[PolicyBinding] = strawberry.field(
        default_factory=list,
        description="The pairs' bindings now, once per pair; empty after un-applying.",
    )
    errors: list[UserError] = error_list(
        "Why nothing changed: every bad pair or name, each naming its field.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_MANIFEST,
    )


_NOT_NULL = {
    "name",
    "approver_count",
    "allow_request_from_approve",
    "allow_image_builder_from_approve",
    "allow_approver_from_deploy",
    "max_reminders",
    "break_glass_approver_count",
    "enforcement",
}
# Durations in the API (`72h`), seconds in the service: the API name of each.
_DURATIONS = {attr: api for attr, (api, _, _) in service.DURATIONS.items()}


def _seconds(attr: str, text: str | None) -> int | None:
    """A duration field's text as the service takes it (raises VALIDATION naming it)."""
    return durations.read(text, _DURATIONS[attr])


def _patch(patch: PromotionPolicyPatch) -> dict[str, object]:
    """The fields the caller set; null is refused where the field cannot be absent."""
    values: dict[str, object] = {}
    errors = ErrorCollector()
    for name, value in vars(patch).items():
        if value is strawberry.UNSET:
            continue
        if value is None and name in _NOT_NULL:
            camel = to_camel_case(name)
            errors.add(validation(f"{camel} cannot be null", camel))
        if f"{name}_seconds" in _DURATIONS:
            name = f"{name}_seconds"
            try:
                value = _seconds(name, value)
            except DomainError as error:
                errors.add(error)
        values[name] = value
    errors.raise_if_any()
    return values


@strawberry.type
class Query:
    @strawberry.field(description="Every promotion policy, by name (super-admins).")
    async def promotion_policies(self, info: Info) -> list[PromotionPolicy]:
        access = await info.context.access()
        return [PromotionPolicy.of(p) for p in await service.list_policies(access)]

    @strawberry.field(description="One promotion policy by name (super-admins).")
    async def promotion_policy(self, info: Info, name: _POLICY_NAME) -> PromotionPolicy | None:
        row = await service.get_policy(await info.context.access(), name)
        return PromotionPolicy.of(row) if row else None

    @strawberry.field(description="Policy bindings, filtered by application, environment, policy.")
    async def policy_bindings(
        self,
        info: Info,
        application: Annotated[
            str | None, strawberry.argument(description="Only bindings of this application.")
        ] = UNSET,
        environment: Annotated[
            str | None, strawberry.argument(description="Only bindings of this environment.")
        ] = UNSET,
        policy: Annotated[
            str | None, strawberry.argument(description="Only bindings of this policy (its name).")
        ] = UNSET,
    ) -> list[PolicyBinding]:
        access = await info.context.access()
        rows = await service.list_bindings(
            access, unset_to_none(application), unset_to_none(environment), unset_to_none(policy)
        )
        return [PolicyBinding.of(b) for b in rows]

    @strawberry.field(
        description=(
            "Check a CEL condition without saving anything: null when it may be saved, else the "
            "message saving it would give (editors call this as the user types). Open to every "
            "signed-in user, so it is bounded like saving: at most "
            f"{cel_limits.MAX_EXPRESSION_CHARS} characters and {cel_limits.MAX_EXPRESSION_NODES} "
            f"operators and operands, comprehensions (all, exists, exists_one, map, filter) "
            f"nested at most {cel_limits.MAX_MACRO_NESTING} deep and at most "
            f"{cel_limits.MAX_MACROS} of them, a type check, and a trial run on sample images "
            f"under a small budget ({cel_limits.VALIDATION_BUDGET.steps} steps, "
            f"{cel_limits.VALIDATION_BUDGET.seconds:g} s), off the event loop."
        )
    )
    async def validate_condition(
        self,
        info: Info,
        expression: Annotated[str, strawberry.argument(description=_CONDITION)],
    ) -> str | None:
        await info.context.access()  # signed in: it costs CPU, so not for anonymous callers
        return await cel.off_loop(service.condition_problem, expression)


def _policy_fields(input: PromotionPolicyInput) -> service.PolicyFields:
    return service.PolicyFields(
        name=input.name,
        description=unset_to_none(input.description),
        pass_condition=unset_to_none(input.pass_condition),
        fail_condition=unset_to_none(input.fail_condition),
        approver_count=input.approver_count if input.approver_count is not None else 0,
        allow_request_from_approve=bool(input.allow_request_from_approve),
        allow_image_builder_from_approve=bool(input.allow_image_builder_from_approve),
        allow_approver_from_deploy=bool(input.allow_approver_from_deploy),
        request_timeout_seconds=_seconds(
            "request_timeout_seconds", unset_to_none(input.request_timeout)
        ),
        approval_max_age_seconds=_seconds(
            "approval_max_age_seconds", unset_to_none(input.approval_max_age)
        ),
        remind_after_seconds=_seconds("remind_after_seconds", unset_to_none(input.remind_after)),
        max_reminders=input.max_reminders if input.max_reminders is not None else 2,
        break_glass_approver_count=(
            input.break_glass_approver_count if input.break_glass_approver_count is not None else 1
        ),
        enforcement=input.enforcement or Enforcement.ENFORCE,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a promotion policy at version 1.")
    async def create_promotion_policy(
        self,
        info: Info,
        input: Annotated[PromotionPolicyInput, strawberry.argument(description="The policy.")],
    ) -> PromotionPolicyPayload | None:
        access = await info.context.access()

        async def run() -> PromotionPolicyPayload:
            policy = await service.create_policy(access, _policy_fields(input))
            return PromotionPolicyPayload(policy=PromotionPolicy.of(policy))

        return await mutate(run, lambda errors: PromotionPolicyPayload(errors=errors))

    @strawberry.mutation(
        description="Change a policy (version + 1); its pending requests are re-evaluated."
    )
    async def update_promotion_policy(
        self,
        info: Info,
        name: Annotated[
            str, strawberry.argument(description="The policy to change, by its current name.")
        ],
        input: Annotated[
            PromotionPolicyPatch, strawberry.argument(description="The fields to change.")
        ],
        if_version: Annotated[
            int | None,
            strawberry.argument(
                description="Change the policy only if it is still at this version (the one you "
                "read); otherwise nothing changes and the answer is a CONFLICT error "
                "on ifVersion. Left out: the patch applies to the latest version."
            ),
        ] = UNSET,
    ) -> PromotionPolicyPayload | None:
        access = await info.context.access()

        async def run() -> PromotionPolicyPayload:
            policy = await service.update_policy(
                access, name, _patch(input), if_version=unset_to_none(if_version)
            )
            return PromotionPolicyPayload(policy=PromotionPolicy.of(policy))

        return await mutate(run, lambda errors: PromotionPolicyPayload(errors=errors))

    @strawberry.mutation(description="Delete a policy; pending requests it governed turn STALE.")
    async def delete_promotion_policy(self, info: Info, name: _POLICY_NAME) -> DeletePayload | None:
        access = await info.context.access()

        async def run() -> DeletePayload:
            await service.delete_policy(access, name)
            return DeletePayload(deleted=True)

        return await mutate(run, deleted_payload)

    @strawberry.mutation(description="Apply a policy to pairs (null: un-apply), all or nothing.")
    async def apply_promotion_policy(
        self,
        info: Info,
        *,
        policy: Annotated[
            str | None,
            strawberry.argument(
                description="The policy's name, or null to un-apply the pairs; leaving it out "
                "is refused."
            ),
        ] = UNSET,
        application_environments: Annotated[
            list[AppEnvInput], strawberry.argument(description=limits.list_note())
        ],
    ) -> ApplyPolicyPayload | None:
        access = await info.context.access()

        async def run() -> ApplyPolicyPayload:
            access.require_super_admin()
            if policy is UNSET:
                # Left out is not the same as null: a script that forgot the argument must
                # not silently strip the pairs of their policy.
                raise validation("name the policy to apply, or pass null to un-apply", "policy")
            pairs = [service.Pair(p.app_name, p.env_name) for p in application_environments]
            bindings = await service.apply_policy(access, policy, pairs)
            return ApplyPolicyPayload(bindings=[PolicyBinding.of(b) for b in bindings])

        return await mutate(run, lambda errors: ApplyPolicyPayload(errors=errors))

    @strawberry.mutation(description="Apply the YAML manifest the CLI reads (SPEC §3).")
    async def apply_policy_manifest(
        self,
        info: Info,
        manifest: Annotated[
            str,
            strawberry.argument(
                description=(
                    f"The YAML text. At most {limits.MANIFEST_BYTES} bytes (UTF-8) and "
                    f"{limits.MAX_ITEMS} applicationEnvironments."
                )
            ),
        ],
    ) -> ApplyPolicyPayload | None:
        access = await info.context.access()

        async def run() -> ApplyPolicyPayload:
            access.require_super_admin()
            parsed = manifests.parse(manifest)
            bindings = await service.apply_policy(
                access,
                parsed.policy_name,
                parsed.pairs,
                field="spec.payload.applicationEnvironments",
                policy_field="spec.payload.applyToPolicyName",
            )
            return ApplyPolicyPayload(bindings=[PolicyBinding.of(b) for b in bindings])

        return await mutate(run, lambda errors: ApplyPolicyPayload(errors=errors))

"""The checks of promoting one image to one target (SPEC §4, steps 1-6), shared by
`promoteImage` and its dry run `promotionPreview`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app import cel, ids
from app.accounts.access import Access
from app.accounts.models import Role
from app.catalog.models import CdPipeline, Image
from app.catalog.repository import pipelines_of_workflow
from app.catalog.stages import environments_passed, passed_all_stages
from app.errors import validation
from app.policies.models import PromotionPolicy
from app.policies.programs import blocks, policy_program
from app.policies.repository import policies_of_pairs
from app.promotions.approval import quorum_reached
from app.promotions.models import PromotionRequest, PromotionStatus, SourceType
from app.promotions.outcomes import PromoteOutcome
from app.supplychain.variables import images_variables


@dataclass(frozen=True)
class Source:
    type: SourceType
    environment: str | None = None

    def describe(self) -> str:
        return "CI" if self.type == SourceType.CI else f"environment {self.environment}"


def open_key(image_id: int, environment_id: int) -> str:
    return f"{image_id}:{environment_id}"


@dataclass
class Verdict:
    """What promoting to one target would do; `ok` when a request would be created."""

    environment: str
    outcome: PromoteOutcome
    message: str
    pipeline: CdPipeline | None = None
    policy: PromotionPolicy | None = None
    evaluation: cel.Evaluation | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    # A WARN policy's failing clauses: the request goes ahead and carries them (issue 20).
    warnings: tuple[cel.ClauseResult, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome in (PromoteOutcome.PROMOTING, PromoteOutcome.AWAITING_APPROVAL)

    @property
    def failed_clauses(self) -> tuple[cel.ClauseResult, ...]:
        """The clauses that blocked the promotion, or that it goes ahead with as warnings."""
        if self.evaluation is None:
            return ()
        return self.evaluation.kept_back_by()


class PromotionChecks:
    """The image's workflow tree and source, loaded once for all targets of one call."""

    def __init__(self, access: Access, image: Image, source: Source) -> None:
        self.access = access
        self.image = image
        self.source = source
        self.pipelines: dict[str, CdPipeline] = {}
        self.by_id: dict[int, CdPipeline] = {}
        self.source_pipeline: CdPipeline | None = None
        self.passed_at_source = True

    @classmethod
    async def load(cls, access: Access, image: Image, source: Source) -> PromotionChecks:
        if source.type == SourceType.ENVIRONMENT and not source.environment:
            raise validation(
                "a source of type ENVIRONMENT needs an environment", "source.environment"
            )
        checks = cls(access, image, source)
        rows = await pipelines_of_workflow(image.workflow_id)
        checks.pipelines = {p.environment.name: p for p in rows}
        checks.by_id = {p.id: p for p in rows}
        if source.type == SourceType.ENVIRONMENT:
            checks.source_pipeline = checks.pipelines.get(source.environment or "")
            checks.passed_at_source = checks.source_pipeline is not None and (
                await passed_all_stages(image.id, checks.source_pipeline)
            )
        return checks

    def _follows_source(self, target: CdPipeline) -> bool:
        """True when `target` lies below the source in the pipeline tree (CI is the root)."""
        if self.source_pipeline is None:
            return True
        parent_id = target.parent_id
        while parent_id is not None:
            if parent_id == self.source_pipeline.id:
                return True
            parent_id = self.by_id[parent_id].parent_id
        return False

    async def check(self, target: str) -> Verdict:
        """Steps 1-6 of SPEC §4 for one target, in order; the first that fails answers."""
        [verdict] = await self.check_all([target])
        return verdict

    async def check_all(self, targets: list[str]) -> list[Verdict]:
        """:meth:`check` for each target, with the policy conditions of all of them
        evaluated in one batch off the event loop (SPEC §3)."""
        # The first checks need no query; what the later ones read is read once for all
        # targets that got that far (one query per kind): 100 targets cost what 1 does.
        early = [(target, self._before_reads(target)) for target in targets]
        reads = await _Reads.load(self.image, [s for _, s in early if isinstance(s, CdPipeline)])
        steps = [
            reads.decide(target, step) if isinstance(step, CdPipeline) else step
            for target, step in early
        ]
        pending = [step for step in steps if isinstance(step, _Pending)]
        programs = [policy_program(p.policy) for p in pending]
        names = frozenset().union(*(program.names for program in programs))
        [variables] = await images_variables([self.image], names)
        evaluations = iter(
            await cel.evaluate_many([(program, variables) for program in programs], explain=True)
        )
        return [
            step if isinstance(step, Verdict) else step.finish(next(evaluations), variables)
            for step in steps
        ]

    def _before_reads(self, target: str) -> Verdict | CdPipeline:
        """The checks that need no query (pipeline, source, order, role) for one target:
        its verdict, or its pipeline when it passed them."""
        app = self.image.application.name
        pipeline = self.pipelines.get(target)
        if pipeline is None:
            return Verdict(
                target,
                PromoteOutcome.NOT_IN_WORKFLOW,
                f"environment {target!r} has no CD pipeline in this image's workflow",
            )
        if self.source.type == SourceType.ENVIRONMENT:
            if not self.passed_at_source:
                return Verdict(
                    target,
                    PromoteOutcome.NOT_PASSED_AT_SOURCE,
                    f"the image has not passed all stages of {self.source.environment}",
                )
            if target == self.source.environment:
                return Verdict(
                    target, PromoteOutcome.SAME_AS_SOURCE, "the target is the source environment"
                )
            if not self._follows_source(pipeline):
                return Verdict(
                    target,
                    PromoteOutcome.ORDER_MISMATCH,
                    f"{target} does not come after {self.source.environment} in the pipeline tree",
                )
        if not self.access.has_role(Role.BUILD_DEPLOY, app, target):
            return Verdict(
                target, PromoteOutcome.FORBIDDEN, f"you need BUILD_DEPLOY on {app}/{target}"
            )
        return pipeline


@dataclass(frozen=True)
class _Reads:
    """What the remaining checks read (policy, open request, stage runs), for all the
    target pipelines at once, keyed by environment id."""

    application: str
    policies: dict[int, PromotionPolicy]
    open_requests: dict[int, PromotionRequest]
    passed: set[int]

    @classmethod
    async def load(cls, image: Image, pipelines: list[CdPipeline]) -> _Reads:
        env_ids = [p.environment_id for p in pipelines]
        policies = await policies_of_pairs([(image.application_id, e) for e in env_ids])
        by_env = {env_id: policy for (_, env_id), policy in policies.items()}
        open_requests: dict[int, PromotionRequest] = {}
        if env_ids:
            keys = [open_key(image.id, e) for e in env_ids]
            for row in await PromotionRequest.filter(open_key__in=keys):
                open_requests[row.target_environment_id] = row
        return cls(
            image.application.name,
            by_env,
            open_requests,
            await environments_passed(image.id, pipelines),
        )

    def decide(self, target: str, pipeline: CdPipeline) -> Verdict | _Pending:
        """The policy, open-request and already-at-target checks for one target that
        passed the first ones, in that order."""
        env_id = pipeline.environment_id
        policy = self.policies.get(env_id)
        if policy is None:
            return Verdict(
                target,
                PromoteOutcome.POLICY_NOT_CONFIGURED,
                f"no promotion policy applies to {self.application}/{target}",
            )
        existing = self.open_requests.get(env_id)
        if existing is not None:
            return already(target, existing)
        if env_id in self.passed:
            return Verdict(
                target,
                PromoteOutcome.ALREADY_AT_TARGET,
                f"the image already passed all stages of {target}",
            )
        return _Pending(target, pipeline, policy)


@dataclass(frozen=True)
class _Pending:
    """A target that passed steps 1-5: its policy's conditions decide (step 6)."""

    target: str
    pipeline: CdPipeline
    policy: PromotionPolicy

    def finish(self, evaluation: cel.Evaluation, variables: dict[str, Any]) -> Verdict:
        target, pipeline, policy = self.target, self.pipeline, self.policy
        if blocks(policy, evaluation):
            return Verdict(
                target,
                PromoteOutcome.BLOCKED_BY_POLICY,
                f"blocked by policy {policy.name}: {evaluation.reason}",
                pipeline,
                policy,
                evaluation,
                variables,
            )
        # Failed but let through (a WARN policy): the failed clauses are its warnings.
        warnings = () if evaluation.eligible else evaluation.kept_back_by()
        if quorum_reached(0, policy):  # no approval needed
            outcome, message = PromoteOutcome.PROMOTING, "no approval needed: promoting"
        else:
            outcome = PromoteOutcome.AWAITING_APPROVAL
            message = f"waiting for {policy.approver_count} approval(s)"
        if warnings:
            message += f" (policy {policy.name} warns: {evaluation.reason})"
        return Verdict(target, outcome, message, pipeline, policy, evaluation, variables, warnings)


def already(target: str, existing: PromotionRequest) -> Verdict:
    request = ids.global_id("PromotionRequest", existing.id)  # the id the API shows
    if existing.status == PromotionStatus.AWAITING_APPROVAL:
        return Verdict(
            target,
            PromoteOutcome.ALREADY_REQUESTED,
            f"request {request} for this image and target awaits approval",
        )
    if existing.status == PromotionStatus.QUEUED:
        return Verdict(
            target,
            PromoteOutcome.ALREADY_REQUESTED,
            f"request {request} for this image and target is queued for the promotion window",
        )
    return Verdict(
        target,
        PromoteOutcome.ALREADY_PROMOTED,
        f"request {request} already promoted this image to {target}",
    )

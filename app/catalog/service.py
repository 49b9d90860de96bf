"""Applications, environments, workflows, images and stage results (SPEC §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from app import cel, limits
from app.accounts.access import Access
from app.accounts.models import Role, User
from app.audit.service import record
from app.catalog import git_target, repository
from app.catalog.models import (
    Application,
    CdPipeline,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Trigger,
    Workflow,
)
from app.catalog.repository import get_visible_image
from app.catalog.stages import configured_stages
from app.errors import DomainError, ErrorCode, ErrorCollector, conflict, not_found, validation
from app.events import ImageBuilt, StageReported, publish
from app.validation import blank_to_none, check_count, check_moment, check_name, utc


async def create_application(access: Access, name: str) -> Application:
    """Create an application; super-admins only."""
    access.require_super_admin()
    if error := check_name(name, "name"):
        raise error
    if await Application.exists(name=name):
        raise conflict(f"an application named {name!r} already exists", "name")
    app = await Application.create(name=name)
    await record(access, "application.created", application=name)
    return app


async def create_environment(access: Access, name: str, production: bool) -> Environment:
    """Create an environment; super-admins only."""
    access.require_super_admin()
    if error := check_name(name, "name"):
        raise error
    if await Environment.exists(name=name):
        raise conflict(f"an environment named {name!r} already exists", "name")
    env = await Environment.create(name=name, production=production)
    await record(access, "environment.created", environment=name, production=production)
    return env


@dataclass(frozen=True)
class CdPipelineSpec:
    environment: str
    parent_environment: str | None = None
    pre_stage: bool = False
    post_stage: bool = False
    trigger: Trigger = Trigger.MANUAL
    deployment_approval_count: int = 0
    filter_pass_condition: str | None = None
    filter_fail_condition: str | None = None
    git_target: git_target.GitTarget | None = None


async def pipeline_of(application: str, environment: str) -> CdPipeline:
    """The application's CD pipeline in the environment, or NOT_FOUND naming the field."""
    app = await Application.get_or_none(name=application)
    if app is None:
        raise not_found(f"no application named {application!r}", "application")
    pipeline = await CdPipeline.get_or_none(application_id=app.id, environment__name=environment)
    if pipeline is None:
        raise not_found(f"{application} has no CD pipeline in {environment!r}", "environment")
    return pipeline


async def set_git_target(
    access: Access, application: str, environment: str, target: git_target.GitTarget | None
) -> CdPipeline:
    """Give the pipeline a Git target (its deployments become commits), or take it away
    (None: the installation's executor again). Super-admins only; every bad field named."""
    access.require_super_admin()
    pipeline = await pipeline_of(application, environment)
    if target is not None:
        errors = ErrorCollector()
        for error in git_target.check(target, "gitTarget"):
            errors.add(error)
        errors.raise_if_any()
    pipeline.git_target = target.to_json() if target else None
    await pipeline.save(update_fields=["git_target"])
    await record(
        access,
        "cd_pipeline.git_target_set",
        application=application,
        environment=environment,
        git_target=target.to_json() if target else None,
    )
    return pipeline


def check_condition(expression: str | None, field: str) -> DomainError | None:
    """A CEL condition that cannot be saved, as an INVALID_CONDITION error naming the field."""
    if (expression := blank_to_none(expression)) is None:
        return None
    # Only the length here, before the parser sees the text; cel.py bounds the cost.
    if error := limits.check_text(expression, field, limits.CONDITION):
        return error
    message = cel.validate_condition(expression)
    if message is None:
        return None
    return DomainError(ErrorCode.INVALID_CONDITION, f"{field}: {message}", field)


def _tree_order(specs: list[CdPipelineSpec], errors: ErrorCollector) -> list[int]:
    """Indexes of `specs` with every parent before its children; reports cycles."""
    index = {s.environment: i for i, s in enumerate(specs)}
    ordered: list[int] = []
    state: dict[int, str] = {}

    def visit(i: int) -> None:
        if state.get(i) == "done":
            return
        if state.get(i) == "visiting":
            errors.add(
                validation(
                    f"cdPipelines form a cycle through {specs[i].environment!r}",
                    f"cdPipelines[{i}].parentEnvironment",
                )
            )
            return
        state[i] = "visiting"
        parent = specs[i].parent_environment
        # Being one's own parent is reported once, by create_workflow, not as a cycle too.
        if parent is not None and parent in index and parent != specs[i].environment:
            visit(index[parent])
        state[i] = "done"
        ordered.append(i)

    for i in range(len(specs)):
        visit(i)
    return ordered


async def create_workflow(
    access: Access, application: str, name: str, ci_pipeline: str, specs: list[CdPipelineSpec]
) -> Workflow:
    """Create a workflow and its CD pipeline tree, or nothing with every bad field listed."""
    access.require_super_admin()
    # Before the environments are looked up and each pipeline checked.
    if error := limits.check_list(specs, "cdPipelines"):
        raise error
    errors = ErrorCollector()
    app = await Application.get_or_none(name=application)
    if app is None:
        errors.add(not_found(f"no application named {application!r}", "application"))
    if error := check_name(name, "name"):
        errors.add(error)
    elif app is not None and await Workflow.exists(application_id=app.id, name=name):
        errors.add(conflict(f"{application} already has a workflow named {name!r}", "name"))
    if not ci_pipeline.strip() or len(ci_pipeline) > limits.CI_PIPELINE:
        errors.add(
            validation(f"ciPipeline must be 1-{limits.CI_PIPELINE} characters long", "ciPipeline")
        )

    names = [s.environment for s in specs]
    environments = {e.name: e for e in await Environment.filter(name__in=names)}
    taken = set()
    if app is not None:
        taken = set(await repository.environments_with_pipeline(app.id, names))
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        at = f"cdPipelines[{i}]"
        if spec.environment not in environments:
            errors.add(not_found(f"no environment named {spec.environment!r}", f"{at}.environment"))
        elif spec.environment in seen:
            errors.add(
                validation(f"environment {spec.environment!r} is listed twice", f"{at}.environment")
            )
        elif spec.environment in taken:
            errors.add(
                conflict(
                    f"{application} already has a CD pipeline in {spec.environment!r}",
                    f"{at}.environment",
                )
            )
        seen.add(spec.environment)
        parent = spec.parent_environment
        if parent is not None and (parent not in names or parent == spec.environment):
            errors.add(
                validation(
                    f"parentEnvironment {parent!r} must be another environment of this workflow",
                    f"{at}.parentEnvironment",
                )
            )
        if error := check_count(spec.deployment_approval_count, f"{at}.deploymentApprovalCount"):
            errors.add(error)
        for expression, field in (
            (spec.filter_pass_condition, f"{at}.filterPassCondition"),
            (spec.filter_fail_condition, f"{at}.filterFailCondition"),
        ):
            # On the CEL threads: parsing and trying out a condition take milliseconds.
            if error := await cel.off_loop(check_condition, expression, field):
                errors.add(error)
        if spec.git_target is not None:
            for error in git_target.check(spec.git_target, f"{at}.gitTarget"):
                errors.add(error)
    order = _tree_order(specs, errors)
    errors.raise_if_any()
    assert app is not None

    workflow = await Workflow.create(application_id=app.id, name=name, ci_pipeline=ci_pipeline)
    created: dict[str, CdPipeline] = {}
    for position, i in enumerate(order):
        spec = specs[i]
        parent_row = created.get(spec.parent_environment) if spec.parent_environment else None
        created[spec.environment] = await CdPipeline.create(
            workflow_id=workflow.id,
            application_id=app.id,
            environment_id=environments[spec.environment].id,
            parent_id=parent_row.id if parent_row else None,
            position=position,
            pre_stage=spec.pre_stage,
            post_stage=spec.post_stage,
            trigger=spec.trigger,
            deployment_approval_count=spec.deployment_approval_count,
            filter_pass_condition=blank_to_none(spec.filter_pass_condition),
            filter_fail_condition=blank_to_none(spec.filter_fail_condition),
            git_target=spec.git_target.to_json() if spec.git_target else None,
        )
    await record(
        access,
        "workflow.created",
        application=application,
        workflow=name,
        cd_pipelines=[specs[i].environment for i in order],
    )
    return workflow


# An image reference as `docker pull` reads it: [registry[:port]/]path[:tag][@digest], with
# a tag or a digest (or both) required, so the reference names one build.
_HOST_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REGISTRY = rf"(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"
_IMAGE_REFERENCE = re.compile(
    rf"(?:{_REGISTRY}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    rf"(?::{_TAG}@{_DIGEST}|:{_TAG}|@{_DIGEST})"
)


@dataclass(frozen=True)
class GitCommitSpec:
    repo: str
    branch: str | None = None
    commit_hash: str | None = None
    commit_message: str | None = None
    author: str | None = None
    # When the commit was made (the committer's time): lead time is measured from the
    # image's newest one (app/insights).
    committed_at: datetime | None = None


def _utc_text(moment: datetime | None) -> str | None:
    return None if moment is None else utc(moment).isoformat()


async def _named_builder(access: Access, built_by: str) -> User:
    """The user `builtBy` names. Only a CI identity or a super-admin may name someone else
    (app/catalog/builders.py); anyone else is refused before the email is looked up, so
    the answer does not tell which emails exist."""
    email = built_by.strip().lower()
    me = access.user
    if me is not None and email == me.email:
        return me
    if not (access.is_super_admin or (me is not None and me.ci_identity)):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            "only a CI identity or a super-admin may "
            "name another user as builtBy; leave it out to be the builder",
            "builtBy",
        )
    builder = await User.get_or_none(email=email)
    if builder is None:
        raise not_found(f"no user with email {built_by!r}", "builtBy")
    return builder


_GIT_FIELDS = (
    ("repo", "repo", limits.GIT_REPO),
    ("branch", "branch", limits.GIT_BRANCH),
    ("commit_hash", "commitHash", limits.GIT_COMMIT_HASH),
    ("commit_message", "commitMessage", limits.GIT_COMMIT_MESSAGE),
    ("author", "author", limits.GIT_AUTHOR),
)


def _check_image_sizes(
    image: str, digest: str | None, labels: list[str], git_commits: list[GitCommitSpec]
) -> None:
    """Every size limit of what CI sends, all reported at once, before any lookup."""
    errors = ErrorCollector()
    for error in (
        limits.check_text(image, "image", limits.IMAGE),
        limits.check_text(digest, "digest", limits.DIGEST),
        limits.check_list(labels, "labels"),
        limits.check_list(git_commits, "gitCommits"),
    ):
        if error is not None:
            errors.add(error)
    for i, commit in enumerate(git_commits[: limits.MAX_ITEMS]):
        for attr, name, max_len in _GIT_FIELDS:
            if error := limits.check_text(
                getattr(commit, attr), f"gitCommits[{i}].{name}", max_len
            ):
                errors.add(error)
    errors.raise_if_any()


async def register_image(
    access: Access,
    application: str,
    workflow: str,
    image: str,
    digest: str | None,
    labels: list[str],
    git_commits: list[GitCommitSpec],
    built_by: str | None,
) -> Image:
    """Record an image built by a workflow's CI pipeline, and who registered it; builtBy
    defaults to the caller."""
    # The right is checked on the name first: a caller without it gets FORBIDDEN whether
    # or not the application exists, so the answer reveals no names.
    access.require_role(Role.BUILD_DEPLOY, application)
    _check_image_sizes(image, digest, labels, git_commits)
    app = await Application.get_or_none(name=application)
    if app is None:
        raise not_found(f"no application named {application!r}", "application")
    errors = ErrorCollector()
    wf = await Workflow.get_or_none(application_id=app.id, name=workflow)
    if wf is None:
        errors.add(not_found(f"{application} has no workflow named {workflow!r}", "workflow"))
    image = image.strip()
    if len(image) > 500 or not _IMAGE_REFERENCE.fullmatch(image):
        errors.add(
            validation(
                "image must be a reference like registry/repository:tag or repository@sha256:...",
                "image",
            )
        )
    if digest is not None and (not digest.strip() or len(digest) > 100):
        errors.add(validation("digest must be 1-100 characters long", "digest"))
    for i, label in enumerate(labels):
        if not label.strip() or len(label) > limits.LABEL:
            errors.add(
                validation(f"a label must be 1-{limits.LABEL} characters long", f"labels[{i}]")
            )
    for i, commit in enumerate(git_commits):
        if not commit.repo.strip():
            errors.add(validation("repo must not be empty", f"gitCommits[{i}].repo"))
        if error := check_moment(commit.committed_at, f"gitCommits[{i}].committedAt"):
            errors.add(error)
    builder: User | None = access.user
    if built_by is not None:
        try:
            builder = await _named_builder(access, built_by)
        except DomainError as error:
            errors.add(error)
    errors.raise_if_any()
    assert wf is not None
    created = await Image.create(
        application_id=app.id,
        workflow_id=wf.id,
        image=image,
        digest=digest,
        labels=labels,
        git_commits=[
            {
                "repo": c.repo,
                "branch": c.branch,
                "commitHash": c.commit_hash,
                "commitMessage": c.commit_message,
                "author": c.author,
                "committedAt": _utc_text(c.committed_at),
            }
            for c in git_commits
        ],
        newest_commit_at=max(
            (utc(c.committed_at) for c in git_commits if c.committed_at), default=None
        ),
        built_by_id=builder.id if builder else None,
        registered_by_id=access.user_id,
        registered_by_ci=bool(access.user and access.user.ci_identity),
    )
    await record(
        access,
        "image.registered",
        application=application,
        image_id=created.id,
        image=image,
        workflow=workflow,
        built_by=builder.email if builder else None,
    )
    await publish(ImageBuilt(created.id))  # deployments listens: AUTOMATIC pipelines
    return created


async def record_stage_result(
    access: Access, image_id: int, environment: str, stage: Stage, status: StageStatus
) -> StageRun:
    """Record one stage's outcome for an image in an environment of its workflow."""
    image = await get_visible_image(access, image_id)
    access.require_role(Role.BUILD_DEPLOY, image.application.name, environment)
    pipeline = await repository.pipeline_in_workflow(image.workflow_id, environment)
    if pipeline is None:
        raise not_found(
            f"the image's workflow has no CD pipeline in environment {environment!r}",
            "environment",
        )
    if stage not in configured_stages(pipeline):
        raise validation(f"the CD pipeline in {environment!r} has no {stage.value} stage", "stage")
    run = await StageRun.create(
        image_id=image.id,
        environment_id=pipeline.environment_id,
        stage=stage,
        status=status,
        reported_by_id=access.user_id,
    )
    await record(
        access,
        "stage.reported",
        application=image.application.name,
        environment=environment,
        image_id=image.id,
        stage=stage.value,
        status=status.value,
    )
    await publish(StageReported(pipeline.id, run.id))  # deployments listens
    return run


async def visible_applications(access: Access) -> list[Application]:
    """The applications the caller holds a role on, by name."""
    return await repository.applications_by_name(access.visible_applications())


async def visible_application(access: Access, name: str) -> Application | None:
    """The application named `name`; None when unknown or not visible to the caller."""
    if not access.can_view(name):
        return None
    return await repository.application_named(name)


async def environments() -> list[Environment]:
    """Every environment, by name (any signed-in caller may read them)."""
    return await repository.environments_by_name()

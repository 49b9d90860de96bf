"""A deployment through the `git` executor: the facts of the commit read from the
database, the push, and the outcome as the executor records it."""

from __future__ import annotations

import logging

from app import ids
from app.accounts.models import User
from app.catalog.git_target import GitTarget
from app.catalog.models import Application, Environment, Image
from app.deployments.git import publish
from app.deployments.git.command import GitError
from app.deployments.git.credentials import CredentialError, git_for
from app.deployments.git.message import CommitFacts, TemplateError, commit_message
from app.deployments.git.yamltext import EditError
from app.deployments.models import Deployment
from app.promotions.models import DecisionKind, PromotionDecision
from app.settings import Settings

log = logging.getLogger("hoist.deployments.git")


class GitDeployFailed(Exception):
    """Why the deployment failed, in words fit for Deployment.error (no secret in them)."""


async def facts_of(deployment: Deployment) -> CommitFacts:
    """What the commit message tells of `deployment`."""
    image = await Image.get(id=deployment.image_id)
    app = await Application.get(id=deployment.application_id)
    env = await Environment.get(id=deployment.environment_id)
    deployer = (
        await User.get_or_none(id=deployment.deployed_by_id) if deployment.deployed_by_id else None
    )
    approvers: tuple[str, ...] = ()
    request = None
    if deployment.promotion_request_id is not None:
        request = ids.global_id("PromotionRequest", deployment.promotion_request_id)
        emails = (
            await PromotionDecision.filter(
                request_id=deployment.promotion_request_id, kind=DecisionKind.APPROVE
            )
            .order_by("id")
            .values_list("user__email", flat=True)
        )
        approvers = tuple(str(email) for email in emails)
    return CommitFacts(
        application=app.name,
        environment=env.name,
        image=image.image,
        deployment=ids.global_id("Deployment", deployment.id),
        request=request,
        approvers=approvers,
        deployer=deployer.email if deployer else None,
    )


async def push(deployment: Deployment, target: GitTarget, settings: Settings) -> publish.Pushed:
    """Commit and push the deployment's image to `target`; GitDeployFailed says why not."""
    workdir = settings.resolved_git_workdir
    try:
        facts = await facts_of(deployment)
        message = commit_message(settings.git_commit_message, facts)
        git = git_for(target, settings.git_credentials_dir, workdir, settings.git_timeout_seconds)
        name, email = settings.git_author_parts
        return await publish.deploy(
            git,
            workdir,
            target,
            facts.image,
            message,
            publish.Author(name, email),
            settings.git_push_attempts,
        )
    except (GitError, EditError, CredentialError, TemplateError) as exc:
        raise GitDeployFailed(f"git: {exc}") from None
    except OSError as exc:
        # A folder Hoist cannot write (HOIST_GIT_WORKDIR) or a credential it cannot read.
        log.warning("deployment %s: git executor I/O error: %s", deployment.id, exc)
        raise GitDeployFailed(f"git: {type(exc).__name__} on {exc.filename or 'a file'}") from None

"""Two applications side by side: `shop` (A) and `blog` (B), with data of every kind.

Everything of B carries the marker "blog" in its text (application, workflow, CI
pipeline, image reference, labels, commits, comments, policy, its users' emails), so a
leak of B's data to a user of A shows as that word, and the ids of B's rows are kept
per GraphQL type (as the global ids the API gives out), so a leak of an id shows too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tortoise import Tortoise

from app.accounts.access import SYSTEM, Access
from app.accounts.models import ApiToken, Role, User
from app.audit.models import AuditEvent
from app.catalog import service as catalog
from app.catalog.models import Application, CdPipeline, Stage, StageRun, StageStatus, Workflow
from app.db import unit_of_work
from app.deployments import service as deployments
from app.deployments.models import Deployment
from app.ids import global_id
from app.notifications.models import Notification
from app.policies import service as policies
from app.promotions import service as promotions
from app.promotions.checks import Source
from app.promotions.models import PromotionRequest, SourceType
from app.promotions.outcomes import DecisionOutcome
from tests.conftest import People
from tests.promotions.world import drain

MARKER = "blog"

ALL_ROLES = tuple(Role)


@dataclass
class TwoApps:
    admin: str
    tokens: dict[str, str] = field(default_factory=dict)
    # GraphQL type name -> global ids of B's rows of that type.
    b_ids: dict[str, set[str]] = field(default_factory=dict)
    # Ids of A's rows, for calls that must work on A.
    a_image: int = 0
    a_request: int = 0
    b_image: int = 0
    b_request: int = 0
    b_promoted_request: int = 0
    b_fresh_image: int = 0  # no request yet: previewing it names blog's approvers
    b_token: int = 0


async def _access(email: str) -> Access:
    return await Access.of(await User.get(email=email))


async def build_two_apps(people: People, admin: str) -> TwoApps:
    """shop: dev -> staging -> prod; blog: dev -> prod; requests, deployments, emails, audit."""
    async with unit_of_work():
        for name in ("shop", "blog"):
            await catalog.create_application(SYSTEM, name)
        for name in ("dev", "staging", "prod"):
            await catalog.create_environment(SYSTEM, name, name == "prod")
        await catalog.create_workflow(
            SYSTEM,
            "shop",
            "main",
            "shop-ci",
            [
                catalog.CdPipelineSpec("dev"),
                catalog.CdPipelineSpec("staging", "dev", pre_stage=True),
                catalog.CdPipelineSpec("prod", "staging"),
            ],
        )
        await catalog.create_workflow(
            SYSTEM,
            "blog",
            "blog-flow",
            "blog-ci",
            [
                catalog.CdPipelineSpec("dev", filter_pass_condition='"blog-label" in imageLabels'),
                catalog.CdPipelineSpec("prod", "dev", deployment_approval_count=1),
            ],
        )
        await policies.create_policy(
            SYSTEM, policies.PolicyFields(name="shop-policy", approver_count=1)
        )
        await policies.create_policy(
            SYSTEM,
            policies.PolicyFields(
                name="blog-policy",
                description="blog rules",
                approver_count=1,
                pass_condition='containerRepository.endsWith("blog-secret")',
            ),
        )
        await policies.create_policy(SYSTEM, policies.PolicyFields(name="shared-policy"))
        await policies.apply_policy(SYSTEM, "shop-policy", [policies.Pair("shop", "prod")])
        await policies.apply_policy(SYSTEM, "blog-policy", [policies.Pair("blog", "prod")])
        await policies.apply_policy(
            SYSTEM,
            "shared-policy",
            [policies.Pair("shop", "staging"), policies.Pair("blog", "dev")],
        )

    world = TwoApps(admin=admin)
    a_roles = [(role, "shop", "*") for role in ALL_ROLES]
    world.tokens["alice"] = await people.token("alice@example.com", *a_roles)
    # Holds a role on both: alice may see this user, never their role on blog.
    world.tokens["both"] = await people.token(
        "both@example.com", (Role.ARTIFACT_PROMOTER, "shop", "prod"), (Role.VIEWER, "blog", "*")
    )
    world.tokens["bob"] = await people.token("bob@blog.example", (Role.BUILD_DEPLOY, "blog", "*"))
    world.tokens["bapprover"] = await people.token(
        "bapprover@blog.example",
        (Role.ARTIFACT_PROMOTER, "blog", "*"),
        (Role.DEPLOYMENT_APPROVER, "blog", "*"),
    )

    bob, bapprover, alice = [
        await _access(e)
        for e in ("bob@blog.example", "bapprover@blog.example", "alice@example.com")
    ]
    async with unit_of_work():
        shop_image = await catalog.register_image(
            SYSTEM,
            "shop",
            "main",
            "registry.example.com/shop:1.0",
            None,
            ["stable"],
            [catalog.GitCommitSpec("https://git.example.com/shop", "main", "abc")],
            "both@example.com",
        )
        blog_images = [
            await catalog.register_image(
                bob,
                "blog",
                "blog-flow",
                f"registry.example.com/blog-secret:{tag}",
                None,
                ["blog-label"],
                [
                    catalog.GitCommitSpec(
                        "https://git.example.com/blog-repo",
                        "main",
                        "b10b",
                        "blog secret commit",
                        "bob",
                    )
                ],
                None,
            )
            for tag in ("2.0", "2.1", "2.2")
        ]
        for stage, env in (
            (Stage.DEPLOY, "dev"),
            (Stage.PRE, "staging"),
            (Stage.DEPLOY, "staging"),
        ):
            await catalog.record_stage_result(
                SYSTEM, shop_image.id, env, stage, StageStatus.SUCCEEDED
            )
        for image in blog_images[:2]:
            await catalog.record_stage_result(
                bob, image.id, "dev", Stage.DEPLOY, StageStatus.SUCCEEDED
            )
    async with unit_of_work():
        [a_result] = await promotions.promote_image(
            alice, shop_image.id, Source(SourceType.CI), ["prod"], "shop comment"
        )
        [b_waiting] = await promotions.promote_image(
            bob, blog_images[0].id, Source(SourceType.CI), ["prod"], "blog secret comment"
        )
        [b_promoted] = await promotions.promote_image(
            bob,
            blog_images[1].id,
            Source(SourceType.ENVIRONMENT, "dev"),
            ["prod"],
            "blog secret comment",
        )
    assert a_result.request and b_waiting.request and b_promoted.request
    async with unit_of_work():
        [approved] = await promotions.approve(
            bapprover, [global_id("PromotionRequest", b_promoted.request.id)], "blog approval"
        )
    # The quorum of one: blog's image is on its way to prod (and its audit trail grows).
    assert approved.outcome == DecisionOutcome.PROMOTING, approved.message
    await drain()
    async with unit_of_work():
        await deployments.approve_deployment(bapprover, "blog", "prod", blog_images[1].id)
        await deployments.deploy_image(bob, "blog", "prod", blog_images[1].id)
        await deployments.deploy_image(bob, "blog", "dev", blog_images[0].id)
    await drain()

    world.a_image, world.a_request = shop_image.id, a_result.request.id
    world.b_image, world.b_request = blog_images[0].id, b_waiting.request.id
    world.b_promoted_request = b_promoted.request.id
    world.b_fresh_image = blog_images[2].id
    world.b_token = (await ApiToken.get(user__email="bob@blog.example")).id
    world.b_ids = await _ids_of_blog()
    return world


async def _ids_of_blog() -> dict[str, set[str]]:
    app = await Application.get(name=MARKER)

    request_ids = await PromotionRequest.filter(application_id=app.id).values_list("id", flat=True)
    blog_users = await User.filter(email__endswith="@blog.example").values_list("id", flat=True)
    ids_by_type = {
        "Application": [app.id],
        "Workflow": await Workflow.filter(application_id=app.id).values_list("id", flat=True),
        "CdPipeline": await CdPipeline.filter(application_id=app.id).values_list("id", flat=True),
        "Image": await catalog.Image.filter(application_id=app.id).values_list("id", flat=True),
        "StageRun": await StageRun.filter(image__application_id=app.id).values_list(
            "id", flat=True
        ),
        "PromotionRequest": request_ids,
        "Deployment": await Deployment.filter(application_id=app.id).values_list("id", flat=True),
        "Notification": await Notification.filter(request_id__in=request_ids).values_list(
            "id", flat=True
        ),
        "AuditEvent": await AuditEvent.filter(application=MARKER).values_list("id", flat=True),
        "PromotionPolicy": await policies.PromotionPolicy.filter(name="blog-policy").values_list(
            "id", flat=True
        ),
        "User": blog_users,
        "ApiToken": await ApiToken.filter(user_id__in=blog_users).values_list("id", flat=True),
    }
    return {
        type_name: {global_id(type_name, row_id) for row_id in row_ids}
        for type_name, row_ids in ids_by_type.items()
    }


async def snapshot() -> dict[str, list[str]]:
    """Every row of every table, as JSON text, to show that nothing at all was written."""
    rows = {}
    for model in Tortoise.apps["hoist"].values():
        values = await model.all().order_by("id").values()
        rows[model._meta.db_table] = [json.dumps(v, sort_keys=True, default=str) for v in values]
    return rows

"""Every list query sends as many SQL statements for 100 items as for one (STYLE.md rule 4).

Each test asks for a page of 1 and then of 100 (a list query without paging: with 1 and
then 100 rows present), selecting the item's relations too, and compares the counts: a
relation read per item instead of through a loader makes the second count grow by ~99.
pendingApprovals and promotionRequests have theirs in tests/promotions/test_queries.py,
notifications in tests/notifications/test_notification_queries.py; all use the helper in
tests/support/queries.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.accounts.access import SYSTEM
from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.catalog import service as catalog
from app.catalog.models import Application, Image
from app.db import unit_of_work
from app.deployments.models import Deployment, DeploymentStatus
from app.ids import global_id
from app.outbox.models import OutboxJob
from app.policies import service as policies
from tests.conftest import People
from tests.support.graphql import GraphQLClient
from tests.support.queries import assert_flat, count_queries

ENVIRONMENTS = [f"env-{i}" for i in range(100)]


async def shop_with_environments() -> None:
    """Application shop whose workflow `main` has a pipeline in each of 100 environments
    (the first follows CI, each other one the first), and application blog."""
    async with unit_of_work():
        for name in ENVIRONMENTS:
            await catalog.create_environment(SYSTEM, name, production=False)
        for name in ("shop", "blog"):
            await catalog.create_application(SYSTEM, name)
        await catalog.create_workflow(
            SYSTEM,
            "shop",
            "main",
            "shop-ci",
            [
                catalog.CdPipelineSpec(name, None if i == 0 else ENVIRONMENTS[0])
                for i, name in enumerate(ENVIRONMENTS)
            ],
        )


BUILDERS = [f"builder{i}@example.com" for i in range(10)]


async def builders(people: People) -> list[User]:
    """Ten builders of shop: images name them in turn, so a page of 100 has ten distinct
    builders, which a relation read per item (or in batches of one) would pay for."""
    return [(await people.user(email, (Role.BUILD_DEPLOY, "shop", "*")))[0] for email in BUILDERS]


async def images(count: int) -> list[Image]:
    """`count` images of shop in all, built by the builders in turn."""
    async with unit_of_work():
        for i in range(await Image.filter(application__name="shop").count(), count):
            await catalog.register_image(
                SYSTEM,
                "shop",
                "main",
                f"registry.example.com/shop:1.{i}",
                None,
                [],
                [],
                BUILDERS[i % len(BUILDERS)],
            )
    return await Image.filter(application__name="shop").order_by("id")


def edges(data: dict[str, object], field: str) -> int:
    return len(data[field]["edges"])  # type: ignore[index]


async def test_users(gql: GraphQLClient, people: People, admin: str) -> None:
    await shop_with_environments()

    async def grow(size: int) -> None:
        for i in range(await User.all().count(), size):
            await people.user(
                f"user{i}@example.com",
                (Role.VIEWER, "shop", "*"),
                (Role.BUILD_DEPLOY, "blog", ENVIRONMENTS[0]),
            )

    async def read(size: int) -> int:
        data = await gql(
            """query($first: Int) { users(first: $first) { totalCount
            edges { node { email roles { role application environment }
                           apiTokens { name revoked } } } } }""",
            {"first": size},
            token=admin,
        )
        return edges(data, "users")

    await assert_flat(read, grow)


async def grow_applications(size: int) -> None:
    """`size` applications beyond shop and blog, each with a two-pipeline workflow."""
    async with unit_of_work():
        for i in range(await Application.all().count() - 2, size):
            await catalog.create_application(SYSTEM, f"app-{i}")
            await catalog.create_workflow(
                SYSTEM,
                f"app-{i}",
                "main",
                "ci",
                [
                    catalog.CdPipelineSpec(ENVIRONMENTS[0]),
                    catalog.CdPipelineSpec(ENVIRONMENTS[1], ENVIRONMENTS[0]),
                ],
            )


async def test_applications_and_their_pipelines(gql: GraphQLClient, admin: str) -> None:
    await shop_with_environments()
    await policies_on_shop(2)

    async def read(size: int) -> int:
        data = await gql(
            """{ applications { name workflows { name ciPipeline
            cdPipelines { environment { name } parentEnvironment { name }
                          policy { name } } } } }""",
            token=admin,
        )
        return len(data["applications"]) - 2  # beyond shop and blog

    await assert_flat(read, grow_applications)


async def test_environments(gql: GraphQLClient, admin: str) -> None:
    async def grow(size: int) -> None:
        async with unit_of_work():
            for i in range(len(await catalog.environments()), size):
                await catalog.create_environment(SYSTEM, f"env-{i}", production=i % 2 == 0)

    async def read(size: int) -> int:
        return len((await gql("{ environments { name production } }", token=admin))["environments"])

    await assert_flat(read, grow)


async def policies_on_shop(count: int) -> None:
    """`count` policies in all, policy i governing shop in environment i."""
    async with unit_of_work():
        for i in range(len(await policies.list_policies(SYSTEM)), count):
            await policies.create_policy(SYSTEM, policies.PolicyFields(name=f"policy-{i}"))
            await policies.apply_policy(
                SYSTEM, f"policy-{i}", [policies.Pair("shop", ENVIRONMENTS[i])]
            )


async def test_promotion_policies(gql: GraphQLClient, admin: str) -> None:
    await shop_with_environments()

    async def read(size: int) -> int:
        data = await gql(
            """{ promotionPolicies { name approverCount
            bindings { appName envName policy { name } } } }""",
            token=admin,
        )
        return len(data["promotionPolicies"])

    await assert_flat(read, policies_on_shop)


async def test_policy_bindings(gql: GraphQLClient, admin: str) -> None:
    await shop_with_environments()

    async def read(size: int) -> int:
        data = await gql(
            "{ policyBindings { appName envName policy { name approverCount } } }", token=admin
        )
        return len(data["policyBindings"])

    await assert_flat(read, policies_on_shop)


async def test_deployable_images(gql: GraphQLClient, people: People, admin: str) -> None:
    await shop_with_environments()
    await builders(people)
    await images(100)

    async def read(size: int) -> int:
        data = await gql(
            """query($env: String!, $first: Int) {
            deployableImages(application: "shop", environment: $env, first: $first) {
              totalCount edges { node {
                image { tag builtBy { email } registeredBy { email } application { name }
                        workflow { name } }
                deployable reasons deploymentApprovals requiredDeploymentApprovals
                promotedFrom { requestId } } } } }""",
            {"env": ENVIRONMENTS[0], "first": size},
            token=admin,
        )
        return edges(data, "deployableImages")

    await assert_flat(read)


async def test_deployment_history(gql: GraphQLClient, people: People, admin: str) -> None:
    await shop_with_environments()
    deployers = await builders(people)
    rows = await images(100)
    environments = await catalog.environments()

    # Deployments written as rows: the history reads them, however they were made. Each
    # one listed is a rollback (with a git executor's commit) of an older one of its image,
    # which no page lists: every page loads what rollbackOf names.
    def deployment(i: int, image: Image, **extra: Any) -> Deployment:
        return Deployment(
            application_id=image.application_id,
            environment_id=environments[i % 10].id,
            image=image,
            deployed_by=deployers[i % 10],
            status=DeploymentStatus.SUCCEEDED,
            **extra,
        )

    await Deployment.bulk_create([deployment(i, image) for i, image in enumerate(rows)])
    replaced = await Deployment.all().order_by("id")
    await Deployment.bulk_create(
        [
            deployment(
                i,
                image,
                rollback_of_id=replaced[i].id,
                commit_sha="ab12" * 10,
                commit_repository="https://git.example.com/shop/deploy.git",
            )
            for i, image in enumerate(rows)
        ]
    )

    async def read(size: int) -> int:
        data = await gql(
            """query($first: Int) { deploymentHistory(application: "shop",
            first: $first) { totalCount edges { node { id status error
              image { tag builtBy { email } } environment { name } deployedBy { email }
              promotedFrom { requestId } commit { sha repository url }
              rollbackOf { id status image { tag } environment { name } } } } } }""",
            {"first": size},
            token=admin,
        )
        return edges(data, "deploymentHistory")

    await assert_flat(read)


async def test_audit_log(gql: GraphQLClient, people: People, admin: str) -> None:
    actors = [(await people.user(f"actor{i}@example.com"))[0] for i in range(10)]
    await AuditEvent.bulk_create(
        [
            AuditEvent(
                actor=actors[i % 10] if i % 7 else None,
                action="test.event",
                application="shop",
                data={"i": i},
            )
            for i in range(100)
        ]
    )

    async def read(size: int) -> int:
        data = await gql(
            """query($first: Int) { auditLog(action: "test.", first: $first) {
            totalCount edges { node { action data actor { email } } } } }""",
            {"first": size},
            token=admin,
        )
        return edges(data, "auditLog")

    await assert_flat(read)


async def test_outbox_jobs(gql: GraphQLClient, admin: str) -> None:
    await OutboxJob.bulk_create(
        [
            OutboxJob(
                task="test.poison",
                payload={"i": i},
                attempts=5,
                last_error="boom",
                dead_at=datetime.now(UTC),
            )
            for i in range(100)
        ]
    )

    async def read(size: int) -> int:
        data = await gql(
            """query($first: Int) { outboxJobs(first: $first) { totalCount
            edges { node { id task state attempts lastError deadAt } } } }""",
            {"first": size},
            token=admin,
        )
        return edges(data, "outboxJobs")

    await assert_flat(read)


async def test_promotion_targets(gql: GraphQLClient, admin: str) -> None:
    await shop_with_environments()

    async def read(size: int) -> int:
        data = await gql(
            """{ promotionTargets(application: "shop", workflow: "main") {
            environment { name production } policy { name approverCount } } }""",
            token=admin,
        )
        return len(data["promotionTargets"])

    await assert_flat(read, policies_on_shop)


async def test_promotable_images(gql: GraphQLClient, people: People, admin: str) -> None:
    await shop_with_environments()
    await builders(people)
    await images(100)

    async def read(size: int) -> int:
        data = await gql(
            """query($first: Int) { promotableImages(application: "shop",
            workflow: "main", source: {type: CI}, first: $first) { totalCount
              edges { node { tag builtBy { email } registeredBy { email }
                             application { name } workflow { name } } } } }""",
            {"first": size},
            token=admin,
        )
        return edges(data, "promotableImages")

    await assert_flat(read)


async def test_promotion_preview(gql: GraphQLClient, people: People, admin: str) -> None:
    await shop_with_environments()
    await builders(people)
    [image] = await images(1)

    async def read(size: int) -> int:
        data = await gql(
            """query($image: ID!, $targets: [String!]!) {
            promotionPreview(imageId: $image, source: {type: CI},
                             targetEnvironments: $targets) {
              environment outcome message requiredApprovals eligibleApprovers { email } } }""",
            {"image": global_id("Image", image.id), "targets": ENVIRONMENTS[:size]},
            token=admin,
        )
        return len(data["promotionPreview"])

    await assert_flat(read, policies_on_shop)


async def test_me_reads_only_the_token_and_its_user(gql: GraphQLClient, people: People) -> None:
    """The commonest call a dashboard makes: one statement (the token joined to its user);
    the caller's role bindings are read only by the fields that need them."""
    async with unit_of_work():
        await catalog.create_application(SYSTEM, "shop")
    token = await people.token("dev@example.com", (Role.VIEWER, "shop", "*"))
    with count_queries() as statements:
        assert await gql("{ me { id email } }", token=token)
    assert len(statements) == 1, statements
    with count_queries() as statements:
        data = await gql("{ me { roles { role } } }", token=token)
    assert data["me"]["roles"] == [{"role": "VIEWER"}]
    assert len(statements) == 3, statements  # the token, the caller's rights, the roles

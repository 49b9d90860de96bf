"""Benchmark: SQL statements per list request, for a page of 1 and a page of 100.

Run from the project root: ``.venv/bin/python bench/queries.py [--smoke]``. Builds a world of 100
images, promotion requests, deployments, notifications and audit events in a temporary
SQLite database, asks each list query for one row and for a hundred through the real
GraphQL endpoint (in process), and prints how many statements each sent. Equal counts
mean no N+1: every relation goes through a per-request DataLoader.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import httpx
from tortoise import Tortoise

from app import db
from app.accounts.access import SYSTEM, Access
from app.accounts.models import Role
from app.accounts.service import create_api_token, create_user, grant_role
from app.asgi import create_app
from app.catalog import service as catalog
from app.deployments.service import deploy_image
from app.policies import service as policies
from app.promotions.checks import Source
from app.promotions.models import SourceType
from app.promotions.service import promote_image

ROWS = 100
QUERIES = {
    "pendingApprovals": """query($n: Int) { pendingApprovals(first: $n, pendingWithMe: false)
        { totalCount edges { node { id image { tag builtBy { email } } source { environment }
        targetEnvironment { name } requestedBy { email } approvals { user { email } }
        canApprove policy { name } } } } }""",
    "promotionRequests": """query($n: Int) { promotionRequests(first: $n) { edges { node {
        id status image { tag } application { name } requestedBy { email } } } } }""",
    "promotableImages": """query($n: Int) { promotableImages(application: "shop",
        workflow: "main", source: {type: CI}, first: $n) { edges { node { id tag
        builtBy { email } workflow { name } application { name } } } } }""",
    "deploymentHistory": """query($n: Int) { deploymentHistory(application: "shop",
        first: $n) { edges { node { id status image { tag } environment { name }
        deployedBy { email } promotedFrom { requestId } } } } }""",
    "notifications": """query($n: Int) { notifications(first: $n) { edges { node { id
        recipient state request { id } } } } }""",
    "auditLog": """query($n: Int) { auditLog(first: $n) { edges { node { id action
        actor { email } } } } }""",
}


class Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def build(rows: int) -> None:
    """The catalog, a developer with BUILD_DEPLOY, and `rows` images promoted and deployed."""
    async with db.unit_of_work():
        await catalog.create_application(SYSTEM, "shop")
        for name in ("dev", "prod"):
            await catalog.create_environment(SYSTEM, name, name == "prod")
        await catalog.create_workflow(
            SYSTEM,
            "shop",
            "main",
            "ci",
            [catalog.CdPipelineSpec("dev"), catalog.CdPipelineSpec("prod", "dev")],
        )
        await policies.create_policy(SYSTEM, policies.PolicyFields("careful", approver_count=1))
        await policies.apply_policy(SYSTEM, "careful", [policies.Pair("shop", "prod")])
        user = await create_user(SYSTEM, "dev@example.com", "Dev")
        await grant_role(SYSTEM, user.email, Role.BUILD_DEPLOY, "shop", "*")
        await create_user(SYSTEM, "approver@example.com", "Approver")  # gets the emails
        await grant_role(SYSTEM, "approver@example.com", Role.ARTIFACT_PROMOTER, "shop", "prod")
    dev = await Access.of(user)
    for i in range(rows):
        async with db.unit_of_work():
            image = await catalog.register_image(
                dev, "shop", "main", f"registry.example.com/shop:1.{i}", None, [], [], None
            )
            await promote_image(dev, image.id, Source(SourceType.CI), ["prod"], "bench")
            await deploy_image(dev, "shop", "dev", image.id)


async def main(rows: int = ROWS) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hoist-queries-"))
    url = f"sqlite://{folder / 'bench.sqlite3'}"
    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        async with db.unit_of_work():
            admin = await create_user(SYSTEM, "admin@example.com", "Admin", True)
            _, token = await create_api_token(Access(admin), "bench", None, None)
        await build(rows)
        logger = logging.getLogger("tortoise.db_client")
        logger.setLevel(logging.DEBUG)
        transport = httpx.ASGITransport(app=create_app(manage_database=False))
        print(f"SQL statements per list request ({rows} rows of each kind):")
        print(f"  {'query':20} {'first: 1':>9} {'first: 100':>11}")
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, query in QUERIES.items():
                counts = []
                for first in (1, 100):
                    counter = Counter()
                    logger.addHandler(counter)
                    response = await http.post(
                        "/graphql",
                        json={"query": query, "variables": {"n": first}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    logger.removeHandler(counter)
                    body = response.json()
                    assert not body.get("errors"), body["errors"]
                    counts.append(counter.count)
                print(f"  {name:20} {counts[0]:>9} {counts[1]:>11}")
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="5 rows of each kind: checks that the script runs"
    )
    asyncio.run(main(5 if parser.parse_args().smoke else ROWS))

"""Benchmark: does one page of deployableImages cost the same whatever prod's history?

Run from the project root: ``.venv/bin/python bench/deployable.py [--smoke]``. In a
temporary SQLite database, times `deployableImages(first: 20)` through the real GraphQL
endpoint (in process) at a small and then a large history, in the same run, for the two
ways an image reaches prod: promoted there (application `shop`), and on the normal path,
having passed every stage of dev (application `wiki`). It prints the process CPU time per
call at each size and their ratio: near 1 means the page is bounded (issue 15 measured
7.6 ms at 20 promotions against 765 ms at 6,000 before pages were read by keyset).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from tortoise import Tortoise

from app import db
from app.accounts.access import SYSTEM, Access
from app.accounts.models import Role
from app.accounts.service import create_api_token, create_user, grant_role
from app.asgi import create_app
from app.catalog import service as catalog
from app.catalog.models import Stage, StageStatus
from app.policies import service as policies
from app.promotions.checks import Source
from app.promotions.models import PromotionRequest, PromotionStatus, SourceType
from app.promotions.service import promote_image

DEPLOYABLE = """query Deployable($app: String!) { deployableImages(application: $app,
  environment: "prod", first: 20) { edges { node { image { id tag } deployable reasons
  promotedFrom { requestId approvers { email } } } } pageInfo { hasNextPage } } }"""


async def promote(dev: Access, start: int, count: int) -> None:
    """`count` more images, each promoted from CI to prod (the worker's last step done here
    in bulk: the requests are set PROMOTED directly)."""
    for i in range(start, start + count):
        async with db.unit_of_work():
            image = await catalog.register_image(
                dev, "shop", "main", f"registry.example.com/shop:1.{i}", None, [], [], None
            )
            await promote_image(dev, image.id, Source(SourceType.CI), ["prod"], "bench")
    await PromotionRequest.filter(status=PromotionStatus.PROMOTING).update(
        status=PromotionStatus.PROMOTED
    )


async def pass_dev(dev: Access, start: int, count: int) -> None:
    """`count` more images of wiki, each having passed dev's one stage (DEPLOY), with a
    failed run before the success as real histories have."""
    for i in range(start, start + count):
        async with db.unit_of_work():
            image = await catalog.register_image(
                dev, "wiki", "main", f"registry.example.com/wiki:1.{i}", None, [], [], None
            )
            for status in (StageStatus.FAILED, StageStatus.SUCCEEDED):
                await catalog.record_stage_result(dev, image.id, "dev", Stage.DEPLOY, status)


async def cpu_per_call(http: httpx.AsyncClient, token: str, calls: int, app: str) -> float:
    """Process CPU seconds per deployableImages call (client and app share the process)."""
    headers = {"Authorization": f"Bearer {token}"}
    query = {"query": DEPLOYABLE, "variables": {"app": app}}
    started = time.process_time()
    for _ in range(calls):
        body = (await http.post("/graphql", json=query, headers=headers)).json()
        assert not body.get("errors"), body["errors"]
        assert body["data"]["deployableImages"]["edges"], "the page is empty: nothing measured"
    return (time.process_time() - started) / calls


async def main(small: int, large: int, calls: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hoist-deployable-"))
    url = f"sqlite://{folder / 'bench.sqlite3'}"
    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        async with db.unit_of_work():
            for name in ("dev", "prod"):
                await catalog.create_environment(SYSTEM, name, name == "prod")
            user = await create_user(SYSTEM, "dev@example.com", "Dev")
            for app in ("shop", "wiki"):
                await catalog.create_application(SYSTEM, app)
                await catalog.create_workflow(
                    SYSTEM,
                    app,
                    "main",
                    "ci",
                    [catalog.CdPipelineSpec("dev"), catalog.CdPipelineSpec("prod", "dev")],
                )
                await grant_role(SYSTEM, user.email, Role.BUILD_DEPLOY, app, "*")
            await policies.create_policy(SYSTEM, policies.PolicyFields("fast", approver_count=0))
            await policies.apply_policy(SYSTEM, "fast", [policies.Pair("shop", "prod")])
            _, token = await create_api_token(Access(user), "bench", None, None)
        dev = await Access.of(user)
        transport = httpx.ASGITransport(app=create_app(manage_database=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for app, grow, what in (
                ("shop", promote, "promotions to prod"),
                ("wiki", pass_dev, "images that passed dev"),
            ):
                await grow(dev, 0, small)
                await cpu_per_call(http, token, 1, app)  # warm: first-request set-up off it
                at_small = await cpu_per_call(http, token, calls, app)
                await grow(dev, small, large - small)
                at_large = await cpu_per_call(http, token, calls, app)
                print(f"deployableImages(first: 20) of {app}, process CPU per call:")
                print(f"  {small:>6} {what}: {at_small * 1000:8.1f} ms")
                print(f"  {large:>6} {what}: {at_large * 1000:8.1f} ms")
                print(f"  ratio: {at_large / at_small:.2f} (1 is flat)")
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="toy sizes, one call: checks that the script runs"
    )
    smoke = parser.parse_args().smoke
    asyncio.run(main(small=5, large=30, calls=1) if smoke else main(20, 2000, 20))

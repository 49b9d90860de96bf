"""Catalog set-up for tests, straight through the services, and row counts of every table."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from app.accounts.access import SYSTEM
from app.catalog import service
from app.catalog.models import Image
from app.catalog.service import CdPipelineSpec

# shop: dev -> staging (with a pre-deploy stage) -> prod; blog: dev only.
SHOP_PIPELINES = [
    CdPipelineSpec("dev"),
    CdPipelineSpec("staging", "dev", pre_stage=True),
    CdPipelineSpec("prod", "staging", deployment_approval_count=1),
]


async def make_catalog() -> None:
    """Applications shop and blog, environments dev/staging/prod, workflow `main` of each."""
    for name in ("shop", "blog"):
        await service.create_application(SYSTEM, name)
    for name in ("dev", "staging", "prod"):
        await service.create_environment(SYSTEM, name, production=name == "prod")
    await service.create_workflow(SYSTEM, "shop", "main", "shop-ci", SHOP_PIPELINES)
    await service.create_workflow(SYSTEM, "blog", "main", "blog-ci", [CdPipelineSpec("dev")])


async def make_image(application: str = "shop", built_by: str | None = None) -> Image:
    """An image of the application's `main` workflow, registered by the system."""
    return await service.register_image(
        SYSTEM,
        application,
        "main",
        f"registry.example.com/{application}:1.0.0",
        None,
        [],
        [],
        built_by,
    )


async def row_counts() -> dict[str, int]:
    """Rows in every table of Hoist, to show a refused mutation wrote nothing."""
    counts: dict[str, int] = {}
    for model in Tortoise.apps["hoist"].values():
        counts[model._meta.db_table] = await model.all().count()
    return counts


def denied(body: dict[str, Any], field: str | None = None) -> str:
    """The code of a whole-operation refusal: a top-level error and no data. A query's
    refusal nulls `data`; a mutation's (only authentication is refused at the top) nulls
    just its own nullable root `field`."""
    if field is None:
        assert body.get("data") is None, body
    else:
        assert body.get("data") == {field: None}, body
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


def refused(body: dict[str, Any], name: str) -> str:
    """The first code of a refused mutation `name`: no top-level error, its payload is
    there (the root is not nulled) with typed `errors`, and every other field is empty."""
    assert not body.get("errors"), body
    payload = (body.get("data") or {}).get(name)
    assert isinstance(payload, dict), body
    assert payload.get("errors"), body
    for key, value in payload.items():
        if key != "errors":
            # No object, no results, `deleted: false`.
            assert value is None or value == [] or value is False, (key, body)
    return str(payload["errors"][0]["code"])

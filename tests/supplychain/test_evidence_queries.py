"""Evidence costs the same number of statements for one image as for a hundred: the
Image.evidence field reads it through one loader, and the deploy checks read every image's
evidence for the filter conditions in one query (no statement per image)."""

from __future__ import annotations

from app import clock
from app.accounts.access import SYSTEM
from app.catalog import service as catalog
from app.catalog.models import Image
from app.db import unit_of_work
from app.supplychain.models import Evidence, EvidenceType
from tests.conftest import People
from tests.supplychain.kit import digest
from tests.support.graphql import GraphQLClient
from tests.support.queries import assert_flat

CONDITION = "signatures.exists(s, s.verified) && vulnerabilities.fixableCritical == 0"
DEPLOYABLE = """query($first: Int) {
  deployableImages(application: "shop", environment: "dev", first: $first) {
    edges { node { deployable reasons image { tag evidence {
      signatures { keyName verified } vulnerabilities { critical fixableCritical ids }
      provenance { builderId verified } sbom { packageCount packages { name } } } } } } } }"""


async def shop_with_evidence(count: int) -> None:
    """`count` images on a dev pipeline whose filter condition reads the evidence; each image
    carries a signature, two reports (only the newer counts), provenance and an SBOM, and
    every second one is signed by no registered key."""
    async with unit_of_work():
        await catalog.create_application(SYSTEM, "shop")
        await catalog.create_environment(SYSTEM, "dev", False)
        await catalog.create_workflow(
            SYSTEM,
            "shop",
            "main",
            "shop-ci",
            [catalog.CdPipelineSpec("dev", filter_pass_condition=CONDITION)],
        )
        for i in range(count):
            await catalog.register_image(
                SYSTEM,
                "shop",
                "main",
                f"registry.example.com/shop:1.{i}",
                digest(str(i)),
                [],
                [],
                None,
            )
    now = clock.now()
    rows = []
    for image in await Image.all():
        facts: list[tuple[EvidenceType, str, dict[str, object], dict[str, object]]] = [
            (EvidenceType.SIGNATURE, "cosign", {}, {"verified": image.id % 2 == 0}),
            (EvidenceType.VULNERABILITY_REPORT, "trivy", {"critical": 5, "fixableCritical": 5}, {}),
            (EvidenceType.VULNERABILITY_REPORT, "grype", {"critical": 1, "ids": ["CVE-1"]}, {}),
            (EvidenceType.PROVENANCE, "in-toto", {"builderId": "ci"}, {"verified": True}),
            (EvidenceType.SBOM, "spdx", {"packageCount": 1, "packages": [{"name": "a"}]}, {}),
        ]
        rows += [
            Evidence(
                image_id=image.id,
                kind=kind,
                format=fmt,
                digest=image.digest,
                summary=summary,
                key_name="ci",
                document_sha256="0" * 64,
                created_at=now,
                **extra,
            )
            for kind, fmt, summary, extra in facts
        ]
    await Evidence.bulk_create(rows)


async def test_deployable_images_with_their_evidence(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    await shop_with_evidence(100)

    async def read(size: int) -> int:
        data = await gql(DEPLOYABLE, {"first": size}, token=admin)
        nodes = [e["node"] for e in data["deployableImages"]["edges"]]
        for node in nodes:
            evidence = node["image"]["evidence"]
            # The newest report is the one shown and the one the condition reads.
            assert evidence["vulnerabilities"] == {
                "critical": 1,
                "fixableCritical": 0,
                "ids": ["CVE-1"],
            }
            assert node["deployable"] is evidence["signatures"][0]["verified"], node
        return len(nodes)

    await assert_flat(read)

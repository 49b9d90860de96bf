"""The CEL variables of images, their evidence included, for any number of images at once
(promotion checks, policy effects and the deploy checks all ask for a batch)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from app import cel, clock
from app.catalog.models import Image
from app.supplychain.models import Evidence, EvidenceType
from app.supplychain.repository import newest_evidence

# evidenceAge's keys, one per type.
AGE_KEYS = {
    EvidenceType.SIGNATURE: "signature",
    EvidenceType.VULNERABILITY_REPORT: "vulnerabilities",
    EvidenceType.PROVENANCE: "provenance",
    EvidenceType.SBOM: "sbom",
}


def evidence_values(rows: Sequence[Evidence]) -> cel.EvidenceValues:
    """One image's evidence rows (newest first) as the values its CEL variables take."""
    signatures: list[dict[str, Any]] = []
    newest: dict[EvidenceType, Evidence] = {}
    for row in rows:
        if row.kind is EvidenceType.SIGNATURE:
            signatures.append({"keyName": row.key_name or "", "verified": row.verified})
        newest.setdefault(row.kind, row)
    vulns = newest.get(EvidenceType.VULNERABILITY_REPORT)
    prov = newest.get(EvidenceType.PROVENANCE)
    sbom = newest.get(EvidenceType.SBOM)
    return cel.EvidenceValues(
        signatures=signatures,
        vulnerabilities=(
            {key: vulns.summary.get(key, 0) for key in cel.VULNERABILITY_COUNTS}
            | {"ids": list(vulns.summary.get("ids", []))}
            if vulns
            else None
        ),
        provenance=(
            {
                "builderId": prov.summary.get("builderId") or "",
                "sourceRepository": prov.summary.get("sourceRepository") or "",
                "sourceCommit": prov.summary.get("sourceCommit") or "",
                "verified": prov.verified,
            }
            if prov
            else None
        ),
        sbom={"packages": list(sbom.summary.get("packages", []))} if sbom else None,
        attached_at={AGE_KEYS[kind]: row.created_at for kind, row in newest.items()},
    )


async def images_variables(
    images: Sequence[Image], reads: Collection[str] = cel.KNOWN_VARIABLES
) -> list[dict[str, object]]:
    """Each image's CEL variables (SPEC §3 and issue 20), its evidence read in one query.

    ``reads``: the variables the conditions may read. When none of them is evidence the
    query is not made and the evidence variables are left out (a request's recorded
    evaluation then shows only what was read, not an empty signature list it never saw).
    """
    wanted = not cel.EVIDENCE_VARIABLES.isdisjoint(reads)
    rows: dict[int, list[Evidence]] = defaultdict(list)
    if wanted:
        for row in await newest_evidence([image.id for image in images]):
            rows[row.image_id].append(row)
    now = clock.now()
    every = [
        cel.image_variables(
            image.image,
            list(image.labels),
            list(image.git_commits),
            image.digest,
            evidence=evidence_values(rows.get(image.id, [])),
            now=now,
        )
        for image in images
    ]
    if wanted:
        return every
    return [{k: v for k, v in one.items() if k not in cel.EVIDENCE_VARIABLES} for one in every]

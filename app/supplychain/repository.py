"""The queries of the supply-chain domain: registered keys, and each image's newest
evidence of every type (one statement for any number of images)."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q, Subquery
from tortoise.functions import Max

from app.supplychain.models import Evidence, EvidenceType, SigningKey

# Signatures an image may carry: each is shown to conditions (a few signers is real use).
MAX_SIGNATURES = 20


async def signing_keys() -> list[SigningKey]:
    return await SigningKey.all().order_by("name")


async def newest_evidence(image_ids: Sequence[int]) -> list[Evidence]:
    """Every signature of these images and the newest report, provenance and SBOM of each,
    newest first, in one statement (conditions and the dashboard use no older ones)."""
    if not image_ids:
        return []
    ids = sorted(set(image_ids))
    newest = (
        Evidence.filter(image_id__in=ids)
        .exclude(kind=EvidenceType.SIGNATURE)
        .annotate(newest=Max("id"))
        .group_by("image_id", "kind")
        .values("newest")
    )
    return await Evidence.filter(
        Q(kind=EvidenceType.SIGNATURE) | Q(id__in=Subquery(newest)), image_id__in=ids
    ).order_by("-id")

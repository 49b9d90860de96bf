"""Queries of signed promotion records."""

from __future__ import annotations

from collections.abc import Sequence

from app.attestation.models import PromotionAttestation


async def attestations_by_request_ids(
    request_ids: Sequence[int],
) -> list[PromotionAttestation | None]:
    """The record of each request, in the order asked; None where it has none (yet)."""
    rows = await PromotionAttestation.filter(request_id__in=list(set(request_ids)))
    by_request = {row.request_id: row for row in rows}
    return [by_request.get(request_id) for request_id in request_ids]

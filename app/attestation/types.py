"""GraphQL type of a signed promotion record."""

from __future__ import annotations

import strawberry
from strawberry.dataloader import DataLoader

from app.attestation import repository
from app.attestation.models import PromotionAttestation as Row
from app.graphql.context import Info


def attestation_by_request(info: Info) -> DataLoader[int, Row | None]:
    """Records by request id: one query for every request of a page."""
    return info.context.loaders.get(
        "attestation_by_request",
        lambda: DataLoader(load_fn=repository.attestations_by_request_ids),
    )


@strawberry.type(
    description="The signed record of a promotion: an in-toto Statement v1 (predicate type "
    "https://hoist.dev/promotion/v1) in a DSSE envelope signed with Hoist's key, published at "
    "/.well-known/hoist-signing-key. README: Verifying a promotion record."
)
class PromotionAttestation:
    envelope: str = strawberry.field(
        description="The DSSE envelope as JSON: payloadType, payload (base64 of the "
        "statement), signatures [{keyid, sig}]."
    )
    key_id: str = strawberry.field(
        description="The signing key's id: hex SHA-256 of its DER SubjectPublicKeyInfo."
    )

    @classmethod
    def of(cls, row: Row) -> PromotionAttestation:
        return cls(envelope=row.envelope, key_id=row.key_id)

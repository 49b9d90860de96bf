"""GraphQL doors of the supply-chain evidence: signing keys and attachEvidence."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.accounts.schema import DeletePayload, deleted_payload
from app.catalog.types import Image, load_image
from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, parse_id, unset_to_none
from app.limits import EVIDENCE_BYTES, NAME, text_note
from app.supplychain import service
from app.supplychain.keys import MAX_PEM
from app.supplychain.signatures import MAX_SIGNATURE
from app.supplychain.types import EvidenceRecord, EvidenceType, SigningKey

_KEY_NAME = Annotated[
    str,
    strawberry.argument(
        description="Lowercase letters, digits and '-'; 2-50 characters. " + text_note(NAME)
    ),
]


@strawberry.type(description="What createSigningKey did.")
class SigningKeyPayload:
    signing_key: SigningKey | None = strawberry.field(
        default=None, description="The registered key; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why no key was registered.",
        ErrorCode.FORBIDDEN,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What attachEvidence did.")
class AttachEvidencePayload:
    evidence: EvidenceRecord | None = strawberry.field(
        default=None, description="The evidence as read; null when refused."
    )
    image: Image | None = strawberry.field(
        default=None, description="The image, with all its evidence now."
    )
    errors: list[UserError] = error_list(
        "Why nothing was attached: the field (document.<JSON path>, signature) or line.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The registered signing keys, by name (public keys).")
    async def signing_keys(self, info: Info) -> list[SigningKey]:
        await info.context.access()
        return [SigningKey.of(row) for row in await service.signing_keys()]


def _document_note() -> str:
    return (
        f"At most {EVIDENCE_BYTES} bytes (HOIST_MAX_EVIDENCE_BYTES' default). "
        "JSON: the simple-signing payload exactly as signed, a Trivy or Grype report, an "
        "in-toto statement (or its DSSE envelope), a CycloneDX or SPDX SBOM."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register a public key (PEM: ECDSA P-256, Ed25519 or RSA) that image "
        "signatures and DSSE-signed provenance are verified with (super-admins)."
    )
    async def create_signing_key(
        self,
        info: Info,
        name: _KEY_NAME,
        public_key: Annotated[
            str, strawberry.argument(description="The PEM public key. " + text_note(MAX_PEM))
        ],
    ) -> SigningKeyPayload | None:
        access = await info.context.access()

        async def run() -> SigningKeyPayload:
            key = await service.create_signing_key(access, name, public_key)
            return SigningKeyPayload(signing_key=SigningKey.of(key))

        return await mutate(run, lambda errors: SigningKeyPayload(errors=errors))

    @strawberry.mutation(
        description="Remove a signing key (super-admins); what only it verified is no "
        "longer verified."
    )
    async def delete_signing_key(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The key's name.")],
    ) -> DeletePayload | None:
        access = await info.context.access()

        async def run() -> DeletePayload:
            await service.delete_signing_key(access, name)
            return DeletePayload(deleted=True)

        return await mutate(run, deleted_payload)

    @strawberry.mutation(
        description="Attach a signature, vulnerability report, provenance or SBOM to an "
        "image (who may register the application's images may). It must name the image's "
        "digest; it is read, checked and summarised, or refused whole."
    )
    async def attach_evidence(
        self,
        info: Info,
        image: Annotated[strawberry.ID, strawberry.argument(description="The image's id.")],
        type: Annotated[EvidenceType, strawberry.argument(description="What it is.")],
        document: Annotated[str, strawberry.argument(description=_document_note())],
        signature: Annotated[
            str | None,
            strawberry.argument(
                description="SIGNATURE only: the base64 signature of the payload. "
                + text_note(MAX_SIGNATURE)
            ),
        ] = UNSET,
    ) -> AttachEvidencePayload | None:
        access = await info.context.access()

        async def run() -> AttachEvidencePayload:
            evidence = await service.attach_evidence(
                access,
                parse_id(image, "image", "Image"),
                type,
                document,
                unset_to_none(signature),
            )
            image_type = await load_image(info, evidence.image_id)
            return AttachEvidencePayload(evidence=EvidenceRecord.of(evidence), image=image_type)

        return await mutate(run, lambda errors: AttachEvidencePayload(errors=errors))

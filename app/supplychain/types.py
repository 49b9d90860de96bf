"""GraphQL types of the supply-chain evidence: registered keys, and an image's evidence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.loaders import rows_grouped
from app.supplychain import models, repository

EvidenceType = models.EvidenceType
strawberry.enum(EvidenceType, description="What a piece of evidence attached to an image is.")
describe_values(
    EvidenceType,
    {
        EvidenceType.SIGNATURE: "cosign's key-based signature: the simple-signing JSON "
        "payload as the document, its base64 signature as `signature`.",
        EvidenceType.VULNERABILITY_REPORT: "A Trivy or Grype JSON report.",
        EvidenceType.PROVENANCE: "An in-toto Statement with a SLSA provenance v1 predicate, "
        "bare or in a DSSE envelope.",
        EvidenceType.SBOM: "A CycloneDX JSON or SPDX JSON software bill of materials.",
    },
)
# Packages an SBOM shows here (the conditions' `sbom.packages` holds all that were kept).
SHOWN_PACKAGES = 100


@strawberry.type(description="A public key signatures and DSSE envelopes verify against.")
class SigningKey:
    name: str = strawberry.field(description="Its name (signatures' keyName).")
    algorithm: str = strawberry.field(description="ECDSA_P256, ED25519 or RSA.")
    fingerprint: str = strawberry.field(
        description="sha256: and the hex SHA-256 of the key's DER SubjectPublicKeyInfo."
    )
    public_key: str = strawberry.field(description="The key, as PEM.")
    created_at: datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def of(cls, row: models.SigningKey) -> SigningKey:
        return cls(
            name=row.name,
            algorithm=row.algorithm,
            fingerprint=row.fingerprint,
            public_key=row.public_key,
            created_at=row.created_at,
        )


@strawberry.type(description="One document attached to an image, as Hoist read it.")
class EvidenceRecord:
    type: EvidenceType = strawberry.field(description="What it is.")
    format: str = strawberry.field(
        description="The format read: cosign, trivy, grype, in-toto, cyclonedx or spdx."
    )
    digest: str = strawberry.field(description="The image digest it is bound to.")
    verified: bool = strawberry.field(
        description="A signature or DSSE envelope that a registered key verifies."
    )
    key_name: str | None = strawberry.field(description="The key that verified it.")
    document_sha256: str = strawberry.field(description="The SHA-256 of the document sent.")
    attached_at: datetime = strawberry.field(description="When it was attached.")

    @classmethod
    def of(cls, row: models.Evidence) -> EvidenceRecord:
        return cls(
            type=row.kind,
            format=row.format,
            digest=row.digest,
            verified=row.verified,
            key_name=row.key_name,
            document_sha256=row.document_sha256,
            attached_at=row.created_at,
        )


@strawberry.type(description="A signature of the image (the `signatures` variable).")
class SignatureEvidence:
    key_name: str | None = strawberry.field(
        description="The registered key it verifies with; null: none."
    )
    verified: bool = strawberry.field(description="True when a registered key verifies it.")
    docker_reference: str | None = strawberry.field(
        description="The repository the signed payload names."
    )
    attached_at: datetime = strawberry.field(description="When it was attached.")


@strawberry.type(description="The newest vulnerability report (the `vulnerabilities` variable).")
class VulnerabilitySummary:
    scanner: str = strawberry.field(description="The tool that wrote it (and its version).")
    critical: int = strawberry.field(description="Findings of CRITICAL severity.")
    high: int = strawberry.field(description="Findings of HIGH severity.")
    medium: int = strawberry.field(description="Findings of MEDIUM severity.")
    low: int = strawberry.field(description="Findings of LOW (or negligible) severity.")
    unknown: int = strawberry.field(description="Findings of no known severity.")
    fixable_critical: int = strawberry.field(description="CRITICAL findings with a fix.")
    fixable_high: int = strawberry.field(description="HIGH findings with a fix.")
    ids: list[str] = strawberry.field(
        description="The vulnerability ids, most severe first (at most 200)."
    )
    attached_at: datetime = strawberry.field(description="When it was attached.")


@strawberry.type(description="The newest provenance (the `provenance` variable).")
class ProvenanceEvidence:
    builder_id: str = strawberry.field(description="runDetails.builder.id.")
    build_type: str | None = strawberry.field(description="buildDefinition.buildType.")
    source_repository: str | None = strawberry.field(description="The repository built.")
    source_commit: str | None = strawberry.field(description="The commit built.")
    verified: bool = strawberry.field(
        description="Its DSSE envelope verifies with a registered key."
    )
    key_name: str | None = strawberry.field(description="That key.")
    attached_at: datetime = strawberry.field(description="When it was attached.")


@strawberry.type(description="A package an SBOM lists.")
class SbomPackage:
    name: str = strawberry.field(description="Its name.")
    version: str = strawberry.field(description="Its version (empty: not given).")
    licenses: list[str] = strawberry.field(description="Its licences (SPDX ids or names).")


@strawberry.type(description="The newest SBOM (the `sbom` variable).")
class SbomSummary:
    format: str = strawberry.field(description="CycloneDX or SPDX.")
    package_count: int = strawberry.field(description="How many packages it lists.")
    packages: list[SbomPackage] = strawberry.field(
        description=f"The first {SHOWN_PACKAGES} packages, as listed."
    )
    attached_at: datetime = strawberry.field(description="When it was attached.")


@strawberry.type(
    description="What is attached to an image: the values its evidence variables take."
)
class ImageEvidence:
    signatures: list[SignatureEvidence] = strawberry.field(
        description="Every signature, newest first."
    )
    vulnerabilities: VulnerabilitySummary | None = strawberry.field(
        description="The newest vulnerability report; null: never scanned."
    )
    provenance: ProvenanceEvidence | None = strawberry.field(
        description="The newest provenance; null: none attached."
    )
    sbom: SbomSummary | None = strawberry.field(description="The newest SBOM; null: none.")

    @classmethod
    def of(cls, rows: Sequence[models.Evidence]) -> ImageEvidence:
        newest: dict[models.EvidenceType, models.Evidence] = {}
        signatures = []
        for row in rows:  # newest first
            newest.setdefault(row.kind, row)
            if row.kind is EvidenceType.SIGNATURE:
                signatures.append(
                    SignatureEvidence(
                        key_name=row.key_name,
                        verified=row.verified,
                        docker_reference=row.summary.get("dockerReference"),
                        attached_at=row.created_at,
                    )
                )
        return cls(
            signatures=signatures,
            vulnerabilities=_vulnerabilities(newest.get(EvidenceType.VULNERABILITY_REPORT)),
            provenance=_provenance(newest.get(EvidenceType.PROVENANCE)),
            sbom=_sbom(newest.get(EvidenceType.SBOM)),
        )


def _int(summary: dict[str, Any], key: str) -> int:
    value = summary.get(key, 0)
    return value if isinstance(value, int) else 0


def _vulnerabilities(row: models.Evidence | None) -> VulnerabilitySummary | None:
    if row is None:
        return None
    s = row.summary
    return VulnerabilitySummary(
        scanner=str(s.get("scanner", row.format)),
        critical=_int(s, "critical"),
        high=_int(s, "high"),
        medium=_int(s, "medium"),
        low=_int(s, "low"),
        unknown=_int(s, "unknown"),
        fixable_critical=_int(s, "fixableCritical"),
        fixable_high=_int(s, "fixableHigh"),
        ids=[str(i) for i in s.get("ids", [])],
        attached_at=row.created_at,
    )


def _provenance(row: models.Evidence | None) -> ProvenanceEvidence | None:
    if row is None:
        return None
    s = row.summary
    return ProvenanceEvidence(
        builder_id=str(s.get("builderId", "")),
        build_type=s.get("buildType"),
        source_repository=s.get("sourceRepository"),
        source_commit=s.get("sourceCommit"),
        verified=row.verified,
        key_name=row.key_name,
        attached_at=row.created_at,
    )


def _sbom(row: models.Evidence | None) -> SbomSummary | None:
    if row is None:
        return None
    s = row.summary
    packages = [p for p in s.get("packages", []) if isinstance(p, dict)][:SHOWN_PACKAGES]
    return SbomSummary(
        format=str(s.get("format", row.format)),
        package_count=_int(s, "packageCount"),
        packages=[
            SbomPackage(
                name=str(p.get("name", "")),
                version=str(p.get("version", "")),
                licenses=[str(x) for x in p.get("licenses", [])],
            )
            for p in packages
        ],
        attached_at=row.created_at,
    )


def evidence_by_image(info: Info) -> DataLoader[int, list[models.Evidence]]:
    return info.context.loaders.get(
        "evidence_by_image", lambda: rows_grouped(repository.newest_evidence, "image_id")
    )


async def load_image_evidence(info: Info, image_id: int) -> ImageEvidence:
    """The port `Image.evidence` (catalog) answers through: one query for a page of images."""
    return ImageEvidence.of(await evidence_by_image(info).load(image_id))

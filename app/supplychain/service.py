"""Signing keys and evidence attached to images (issue 20): the rules of both."""

from __future__ import annotations

from app import clock, images, limits
from app.accounts.access import Access
from app.accounts.models import Role
from app.audit.service import record
from app.catalog.models import Image
from app.catalog.repository import get_visible_image
from app.dsse import PublicKey
from app.errors import DomainError, ErrorCode, conflict, not_found, validation
from app.settings import get_settings
from app.supplychain import keys as key_rules
from app.supplychain import repository
from app.supplychain.models import Evidence, EvidenceType, SigningKey
from app.supplychain.reading import read_off_loop, sha256
from app.supplychain.signatures import MAX_SIGNATURE
from app.validation import check_name

_KINDS_WITH_KEYS = (EvidenceType.SIGNATURE, EvidenceType.PROVENANCE)


# ------------------------------------------------------------------------ signing keys


async def create_signing_key(access: Access, name: str, public_key: str) -> SigningKey:
    """Register a public key signatures and DSSE envelopes may verify with (super-admins)."""
    access.require_super_admin()
    limits.refuse(
        limits.check_text(name, "name", limits.NAME),
        limits.check_text(public_key, "publicKey", key_rules.MAX_PEM),
        check_name(name, "name"),
    )
    parsed = key_rules.parse_public_key(public_key)
    if await SigningKey.exists(name=name):
        raise conflict(f"a signing key named {name!r} exists", "name")
    same = await SigningKey.get_or_none(fingerprint=parsed.fingerprint)
    if same is not None:
        raise conflict(f"this key is registered already, as {same.name!r}", "publicKey")
    key = await SigningKey.create(
        name=name,
        algorithm=parsed.algorithm,
        public_key=parsed.pem,
        fingerprint=parsed.fingerprint,
        created_by_id=access.user_id,
    )
    await record(
        access,
        "signing_key.created",
        name=name,
        algorithm=parsed.algorithm,
        fingerprint=parsed.fingerprint,
    )
    return key


async def delete_signing_key(access: Access, name: str) -> None:
    """Remove a key (super-admins): what only it verified no longer counts as verified."""
    access.require_super_admin()
    limits.refuse(limits.check_text(name, "name", limits.NAME))
    key = await SigningKey.get_or_none(name=name)
    if key is None:
        raise not_found(f"no signing key named {name!r}", "name")
    # A deleted key vouches for nothing: the evidence it verified stays, unverified.
    unverified = await Evidence.filter(signing_key_id=key.id).update(
        verified=False, signing_key_id=None
    )
    await key.delete()
    await record(
        access,
        "signing_key.deleted",
        name=name,
        fingerprint=key.fingerprint,
        evidence_unverified=unverified,
    )


async def signing_keys() -> list[SigningKey]:
    """Every registered key, by name (public keys: any signed-in caller may read them)."""
    return await repository.signing_keys()


async def _loaded_keys() -> list[tuple[int, str, PublicKey]]:
    return [
        (key.id, key.name, key_rules.parse_public_key(key.public_key).key)
        for key in await repository.signing_keys()
    ]


# ---------------------------------------------------------------------------- evidence


def image_digest(image: Image) -> str | None:
    """The digest evidence must name (app/images.py)."""
    return images.image_digest(image.image, image.digest)


def _check_sizes(document: str, signature: str | None) -> None:
    most = get_settings().max_evidence_bytes
    # Characters first, at the cost of len(): a UTF-8 byte count needs an encoding pass.
    if len(document) > most or len(document.encode("utf-8")) > most:
        raise validation(
            f"document may be at most {most} bytes (HOIST_MAX_EVIDENCE_BYTES)", "document"
        )
    if not document.strip():
        raise validation("document is empty", "document")
    limits.refuse(limits.check_text(signature, "signature", MAX_SIGNATURE))


async def attach_evidence(
    access: Access,
    image_id: int,
    kind: EvidenceType,
    document: str,
    signature: str | None = None,
) -> Evidence:
    """Attach one document to an image (who may register the application's images may):
    read, bound to the image's digest, summarised; refused whole when anything is wrong."""
    _check_sizes(document, signature)
    image = await get_visible_image(access, image_id, "image")
    access.require_role(Role.BUILD_DEPLOY, image.application.name)
    digest = image_digest(image)
    if digest is None:
        raise validation(
            "the image was registered without a sha256 digest: evidence is bound to one",
            "image",
        )
    if kind is EvidenceType.SIGNATURE and (
        await Evidence.filter(image_id=image.id, kind=kind).count() >= repository.MAX_SIGNATURES
    ):
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the image carries {repository.MAX_SIGNATURES} signatures already",
            "type",
        )
    loaded = await _loaded_keys() if kind in _KINDS_WITH_KEYS else []
    parsed = await read_off_loop(
        kind, document, signature, [(name, key) for _, name, key in loaded]
    )
    if digest not in parsed.digests:
        named = ", ".join(parsed.digests[:3]) or "no sha256 digest"
        raise validation(
            f"the {kind.value.lower().replace('_', ' ')} is for {named}, not this image's "
            f"digest {digest} (see {parsed.digest_field})",
            f"document.{parsed.digest_field}",
        )
    key_id = next((i for i, name, _ in loaded if name == parsed.key_name), None)
    evidence = await Evidence.create(
        image_id=image.id,
        kind=kind,
        format=parsed.format,
        digest=digest,
        summary=parsed.summary,
        verified=parsed.verified,
        signing_key_id=key_id,
        key_name=parsed.key_name,
        document_sha256=sha256(document),
        attached_by_id=access.user_id,
        created_at=clock.now(),
    )
    await record(
        access,
        "evidence.attached",
        application=image.application.name,
        image_id=image.id,
        evidence_id=evidence.id,
        type=kind.value,
        format=parsed.format,
        verified=parsed.verified,
        key=parsed.key_name,
        document_sha256=evidence.document_sha256,
    )
    return evidence

"""Reading an evidence document of a given type, off the event loop with a time budget."""

from __future__ import annotations

import asyncio
import hashlib

from app.errors import validation
from app.supplychain import provenance, sbom, signatures, vulnerabilities
from app.supplychain.documents import DocumentError, obj, parse_json
from app.supplychain.models import EvidenceType
from app.supplychain.parsed import Keys, Parsed

# Reading the largest document allowed (schema validation of an SBOM included) takes well
# under a second here; a document that takes longer is refused rather than waited on.
READ_SECONDS = 10.0


def read(kind: EvidenceType, document: str, signature: str | None, keys: Keys) -> Parsed:
    """The summary of `document` (pure, CPU-bound: call :func:`read_off_loop` on a server)."""
    if kind is EvidenceType.SIGNATURE:
        return signatures.read_signature(document, signature, keys)
    if signature is not None:
        raise DocumentError("only a SIGNATURE takes a separate signature", "signature")
    value = obj(parse_json(document), "")
    if kind is EvidenceType.VULNERABILITY_REPORT:
        return vulnerabilities.read_report(value)
    if kind is EvidenceType.PROVENANCE:
        return provenance.read_provenance(value, keys)
    return sbom.read_sbom(value, document)


async def read_off_loop(
    kind: EvidenceType, document: str, signature: str | None, keys: Keys
) -> Parsed:
    """:func:`read` on a worker thread, bounded by READ_SECONDS; a bad document is a
    VALIDATION error naming the field (`document.<json path>`, `signature`) or line."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(read, kind, document, signature, keys), READ_SECONDS
        )
    except DocumentError as error:
        if error.field == "signature":
            raise validation(str(error), "signature") from error
        raise error.domain_error() from error
    except TimeoutError as error:
        raise validation(
            f"the document took longer than {READ_SECONDS:g} s to read", "document"
        ) from error


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()

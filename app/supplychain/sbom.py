"""SBOMs: CycloneDX JSON (read with cyclonedx-python-lib, checked against its schema) or
SPDX JSON (read and validated with spdx-tools), summarised to packages."""

from __future__ import annotations

import functools
from typing import Any

from app.images import sha256_digest
from app.supplychain.documents import DocumentError, optional, text
from app.supplychain.parsed import Parsed

MAX_PACKAGES = 2000  # kept (and shown to conditions as sbom.packages); the rest are counted
_MAX_LICENSES = 10


def read_sbom(document: dict[str, Any], raw: str) -> Parsed:
    if document.get("bomFormat") == "CycloneDX":
        return _cyclonedx(document, raw)
    if isinstance(document.get("spdxVersion"), str):
        return _spdx(document)
    raise DocumentError(
        "not an SBOM: expected CycloneDX JSON (bomFormat) or SPDX JSON (spdxVersion)", ""
    )


def _summary(fmt: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": fmt,
        "packageCount": len(packages),
        "packages": packages[:MAX_PACKAGES],
    }


@functools.cache
def _validator(schema: Any) -> Any:
    """One validator per schema version: building one loads and compiles the JSON schema."""
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(schema)


def _cyclonedx(document: dict[str, Any], raw: str) -> Parsed:
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion

    version = text(document.get("specVersion"), 10) or ""
    schema = {
        "1.2": SchemaVersion.V1_2,
        "1.3": SchemaVersion.V1_3,
        "1.4": SchemaVersion.V1_4,
        "1.5": SchemaVersion.V1_5,
        "1.6": SchemaVersion.V1_6,
    }.get(version)
    if schema is None:
        raise DocumentError(
            "specVersion must be a CycloneDX JSON version, 1.2 to 1.6", "specVersion"
        )
    problem = _validator(schema).validate_str(raw)
    if problem is not None:
        error = problem.data
        path = ".".join(str(p) for p in getattr(error, "absolute_path", []))
        raise DocumentError(
            f"not valid CycloneDX {version}: {str(getattr(error, 'message', error))[:200]}", path
        )
    try:
        bom = Bom.from_json(document)  # type: ignore[attr-defined]
    except Exception as error:  # the library raises its own and plain errors alike
        raise DocumentError(f"not readable as CycloneDX: {str(error)[:200]}", "") from error
    packages = []
    for component in bom.components:
        licenses = []
        for entry in list(component.licenses)[:_MAX_LICENSES]:
            name = getattr(entry, "id", None) or getattr(entry, "name", None)
            name = name or getattr(entry, "value", None)
            if name:
                licenses.append(str(name)[:100])
        packages.append(
            {
                "name": str(component.name)[:200],
                "version": str(component.version or "")[:100],
                "licenses": licenses,
            }
        )
    component = optional(document.get("metadata") or {}, "component") or {}
    hashes = [
        "sha256:" + str(h.get("content", "")).lower()
        for h in optional(component, "hashes") or []
        if isinstance(h, dict) and h.get("alg") == "SHA-256"
    ]
    digests = _digests(optional(component, "version"), optional(component, "purl"), *hashes)
    return Parsed(
        "cyclonedx", digests, "metadata.component.version", _summary("CycloneDX", packages)
    )


def _spdx(document: dict[str, Any]) -> Parsed:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    try:
        parsed = JsonLikeDictParser().parse(document)  # type: ignore[no-untyped-call]
    except SPDXParsingError as error:
        messages = error.get_messages()  # type: ignore[no-untyped-call]
        raise DocumentError(f"not valid SPDX: {'; '.join(messages)[:200]}", "") from error
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        # The parser takes the JSON's shape on trust in places (an object where a list was
        # expected): still a document at fault, not Hoist.
        raise DocumentError(f"not readable as SPDX: {str(error)[:200]}", "") from error
    problems = validate_full_spdx_document(parsed)
    if problems:
        first = problems[0]
        raise DocumentError(
            f"not valid SPDX: {first.validation_message[:200]}",
            str(getattr(first.context, "spdx_id", "") or ""),
        )
    packages = []
    digests: list[str] = []
    for package in parsed.packages:
        licenses = [
            str(value)[:100]
            for value in (package.license_declared, package.license_concluded)
            if value is not None and str(value) not in ("NOASSERTION", "NONE")
        ]
        # syft writes the image as a package whose version is its digest, with an oci purl:
        # it names the digest, and is no package of the image.
        refs = [ref.locator for ref in package.external_references]
        if image := _digests(package.version, *refs):
            digests += image
            continue
        packages.append(
            {
                "name": str(package.name)[:200],
                "version": str(package.version or "")[:100],
                "licenses": list(dict.fromkeys(licenses))[:_MAX_LICENSES],
            }
        )
    return Parsed(
        "spdx", list(dict.fromkeys(digests)), "packages[].versionInfo", _summary("SPDX", packages)
    )


def _digests(*values: Any) -> list[str]:
    found = []
    for value in values:
        if not isinstance(value, str):
            continue
        candidate = value.replace("%3A", ":").replace("%3a", ":").split("?")[0]
        if digest := sha256_digest(candidate):
            found.append(digest)
    return found

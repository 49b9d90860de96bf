"""Provenance: an in-toto Statement v1 with a SLSA provenance v1 predicate, bare or in a
DSSE envelope (then verified against the registered keys)."""

from __future__ import annotations

import json
import re
from typing import Any

from app.dsse import EnvelopeError, is_envelope, verify_envelope
from app.supplychain.documents import DocumentError, get, obj, optional, text
from app.supplychain.parsed import Keys, Parsed

STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
_MAX_SUBJECTS = 1000
_HEX = re.compile(r"[0-9a-f]{7,64}")


def read_provenance(document: dict[str, Any], keys: Keys) -> Parsed:
    verified_by: str | None = None
    prefix = ""
    if is_envelope(document):
        try:
            envelope = verify_envelope(document, keys)
        except EnvelopeError as error:
            raise DocumentError(str(error), error.field) from error
        if envelope.payload_type != PAYLOAD_TYPE:
            raise DocumentError(f"payloadType must be {PAYLOAD_TYPE!r}", "payloadType")
        try:
            document = obj(json.loads(envelope.payload), "payload")
        except (ValueError, RecursionError) as error:
            raise DocumentError("payload is not a JSON in-toto statement", "payload") from error
        verified_by, prefix = envelope.key, "payload."
    return _statement(document, prefix, verified_by)


def _statement(statement: dict[str, Any], prefix: str, key: str | None) -> Parsed:
    def at(field: str) -> str:
        return prefix + field

    kind = statement.get("_type")
    if kind not in STATEMENT_TYPES:
        raise DocumentError(f"{at('_type')} must be {STATEMENT_TYPES[0]!r}", at("_type"))
    predicate_type = statement.get("predicateType")
    if predicate_type != PREDICATE_TYPE:
        raise DocumentError(
            f"{at('predicateType')} must be {PREDICATE_TYPE!r}", at("predicateType")
        )
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise DocumentError(f"{at('subject')} must be a non-empty list", at("subject"))
    digests: list[str] = []
    for subject in subjects[:_MAX_SUBJECTS]:
        sha = optional(optional(subject, "digest"), "sha256")
        if isinstance(sha, str) and sha.strip():
            digests.append("sha256:" + sha.strip().lower())
    predicate = get(statement, "predicate", prefix.rstrip("."), dict)
    build = optional(predicate, "buildDefinition") or {}
    run = optional(predicate, "runDetails") or {}
    builder_id = text(optional(optional(run, "builder"), "id"))
    if builder_id is None:
        raise DocumentError(
            f"{at('predicate.runDetails.builder.id')} is required (SLSA provenance v1)",
            at("predicate.runDetails.builder.id"),
        )
    repository, commit = _source(build)
    return Parsed(
        "in-toto",
        digests,
        at("subject[].digest.sha256"),
        {
            "builderId": builder_id,
            "buildType": text(optional(build, "buildType")),
            "sourceRepository": repository,
            "sourceCommit": commit,
        },
        verified=key is not None,
        key_name=key,
    )


def _source(build: dict[str, Any]) -> tuple[str | None, str | None]:
    """The source repository and commit: the first resolved dependency with a gitCommit
    digest (GitHub's and GitLab's builders write it so), else the external parameters'
    repository and ref as the common build types name them."""
    dependencies = optional(build, "resolvedDependencies")
    for dependency in dependencies[:100] if isinstance(dependencies, list) else []:
        commit = optional(optional(dependency, "digest"), "gitCommit") or optional(
            optional(dependency, "digest"), "sha1"
        )
        uri = text(optional(dependency, "uri"))
        if isinstance(commit, str) and uri:
            return _repository(uri), text(commit, 100)
    params = optional(build, "externalParameters") or {}
    workflow = optional(params, "workflow") or {}
    source = optional(params, "source")
    repository = text(optional(workflow, "repository")) or text(
        source if isinstance(source, str) else optional(source, "uri")
    )
    commit = text(optional(params, "commit") or optional(optional(source, "digest"), "sha1"), 100)
    return (_repository(repository) if repository else None), commit


def _repository(uri: str) -> str:
    """`git+https://github.com/org/repo@refs/heads/main` → `https://github.com/org/repo`."""
    uri = uri.removeprefix("git+")
    head, sep, tail = uri.rpartition("@")
    if sep and (tail.startswith("refs/") or _HEX.fullmatch(tail)):
        uri = head
    return uri[:500]

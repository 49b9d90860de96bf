"""Vulnerability reports: Trivy JSON (`trivy image -f json`) and Grype JSON (`grype -o
json`), summarised per severity with fixable counts and the vulnerability ids."""

from __future__ import annotations

from typing import Any

from app.images import sha256_digest
from app.supplychain.documents import DocumentError, get, obj, optional, text
from app.supplychain.parsed import Parsed

SEVERITIES = ("critical", "high", "medium", "low", "unknown")
# The ids kept (and shown to conditions as `vulnerabilities.ids`): the most severe first.
MAX_IDS = 200
# Findings read: a real report of a large image holds a few thousand.
MAX_FINDINGS = 50_000


class _Tally:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(SEVERITIES, 0)
        self.fixable = dict.fromkeys(SEVERITIES, 0)
        self.ids: dict[str, int] = {}  # id -> its rank (severity order) for sorting
        self.findings = 0

    def add(self, vuln_id: str | None, severity: str | None, fixable: bool) -> None:
        self.findings += 1
        if self.findings > MAX_FINDINGS:
            raise DocumentError(f"the report holds more than {MAX_FINDINGS} findings", "")
        level = (severity or "unknown").lower()
        if level == "negligible":  # Grype's word for what Trivy calls LOW or UNKNOWN
            level = "low"
        if level not in self.counts:
            level = "unknown"
        self.counts[level] += 1
        if fixable:
            self.fixable[level] += 1
        if vuln_id:
            rank = SEVERITIES.index(level)
            self.ids[vuln_id] = min(rank, self.ids.get(vuln_id, rank))

    def summary(self, scanner: str) -> dict[str, Any]:
        ordered = sorted(self.ids, key=lambda i: (self.ids[i], i))
        return {
            "scanner": scanner,
            **self.counts,
            "fixableCritical": self.fixable["critical"],
            "fixableHigh": self.fixable["high"],
            "ids": ordered[:MAX_IDS],
            "idsTruncated": len(ordered) > MAX_IDS,
        }


def read_report(document: dict[str, Any]) -> Parsed:
    """A Trivy or Grype report, told apart by their top-level keys."""
    if "Results" in document or "ArtifactName" in document:
        return _trivy(document)
    if "matches" in document:
        return _grype(document)
    raise DocumentError(
        "not a vulnerability report: expected Trivy JSON (Results, ArtifactName) or "
        "Grype JSON (matches, source)",
        "",
    )


def _digests(*references: Any) -> list[str]:
    found: list[str] = []
    for ref in references:
        if isinstance(ref, str) and (digest := sha256_digest(ref)) and digest not in found:
            found.append(digest)
    return found


def _trivy(report: dict[str, Any]) -> Parsed:
    metadata = optional(report, "Metadata") or {}
    repo_digests = optional(metadata, "RepoDigests") or []
    if not isinstance(repo_digests, list):
        raise DocumentError("Metadata.RepoDigests must be a list", "Metadata.RepoDigests")
    digests = _digests(*repo_digests, report.get("ArtifactName"), optional(metadata, "ImageID"))
    tally = _Tally()
    results = report.get("Results") or []
    if not isinstance(results, list):
        raise DocumentError("Results must be a list", "Results")
    for i, result in enumerate(results):
        result = obj(result, f"Results[{i}]")
        vulns = result.get("Vulnerabilities") or []
        if not isinstance(vulns, list):
            raise DocumentError(
                f"Results[{i}].Vulnerabilities must be a list", f"Results[{i}].Vulnerabilities"
            )
        for j, vuln in enumerate(vulns):
            vuln = obj(vuln, f"Results[{i}].Vulnerabilities[{j}]")
            tally.add(
                text(vuln.get("VulnerabilityID"), 100),
                text(vuln.get("Severity"), 20),
                bool(text(vuln.get("FixedVersion"))),
            )
    return Parsed(
        "trivy", digests, "Metadata.RepoDigests", tally.summary(_scanner(report, "trivy"))
    )


def _grype(report: dict[str, Any]) -> Parsed:
    target = optional(optional(report, "source"), "target") or {}
    repo_digests = optional(target, "repoDigests") or []
    if not isinstance(repo_digests, list):
        raise DocumentError("source.target.repoDigests must be a list", "source.target.repoDigests")
    digests = _digests(
        optional(target, "manifestDigest"), *repo_digests, optional(target, "imageID")
    )
    matches = get(report, "matches", "", list)
    tally = _Tally()
    for i, match in enumerate(matches):
        match = obj(match, f"matches[{i}]")
        vuln = get(match, "vulnerability", f"matches[{i}]", dict)
        fix = optional(vuln, "fix") or {}
        fixed = optional(fix, "state") == "fixed" or bool(optional(fix, "versions"))
        tally.add(text(vuln.get("id"), 100), text(vuln.get("severity"), 20), fixed)
    return Parsed(
        "grype",
        digests,
        "source.target.manifestDigest",
        tally.summary(_scanner(report, "grype")),
    )


def _scanner(report: dict[str, Any], tool: str) -> str:
    descriptor = optional(report, "descriptor")  # grype: {"name": "grype", "version": ...}
    # trivy (0.56 on): {"Trivy": {"Version": ...}}
    version = text(optional(descriptor, "version"), 40) or text(
        optional(optional(report, "Trivy"), "Version"), 40
    )
    return f"{tool} {version}" if version else tool

"""The evidence variables in CEL: their types are checked at save, absent evidence is null
(and compares with null either way), and evidenceAge measures from Hoist's clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from app import cel

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCANNED = cel.EvidenceValues(
    signatures=[{"keyName": "ci", "verified": True}, {"keyName": "", "verified": False}],
    vulnerabilities={
        "critical": 2,
        "high": 1,
        "medium": 0,
        "low": 0,
        "fixableCritical": 1,
        "fixableHigh": 0,
        "ids": ["CVE-2024-45491", "CVE-2024-6345"],
    },
    provenance={
        "builderId": "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main",
        "sourceRepository": "https://github.com/example/shop",
        "sourceCommit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "verified": True,
    },
    sbom={"packages": [{"name": "urllib3", "version": "2.2.3", "licenses": ["MIT"]}]},
    attached_at={"vulnerabilities": NOW - timedelta(hours=30), "signature": NOW},
)


def verdict(condition: str, evidence: cel.EvidenceValues) -> cel.Evaluation:
    assert cel.validate_condition(condition) is None, condition
    variables = cel.image_variables(
        "registry.example.com/shop:1.0", [], [], evidence=evidence, now=NOW
    )
    return cel.CompiledConditions(condition, None).evaluate(variables)


@pytest.mark.parametrize(
    ("condition", "scanned", "never"),
    [
        ("vulnerabilities == null", False, True),
        ("vulnerabilities != null", True, False),
        ("null == provenance", False, True),
        ("vulnerabilities != null && vulnerabilities.fixableCritical == 0", False, False),
        ("vulnerabilities == null || vulnerabilities.fixableCritical > 0", True, True),
        ('"CVE-2024-45491" in vulnerabilities.ids', True, None),
        ("signatures.exists(s, s.verified && s.keyName == 'ci')", True, False),
        ("size(signatures) == 2", True, False),
        ("provenance.verified && provenance.sourceCommit.startsWith('4b825dc')", True, None),
        ('sbom.packages.exists(p, p.name == "urllib3" && "MIT" in p.licenses)', True, None),
        ('evidenceAge.vulnerabilities > duration("24h")', True, None),
        ('evidenceAge.signature < duration("1s")', True, None),
        ("evidenceAge.sbom == null", True, True),
    ],
)
def test_the_variables_of_scanned_and_never_scanned_images(
    condition: str, scanned: bool, never: bool | None
) -> None:
    """`None`: the condition reads a field of a null object, an error naming null."""
    assert verdict(condition, SCANNED).eligible is scanned
    outcome = verdict(condition, cel.NO_EVIDENCE)
    if never is None:
        assert outcome.eligible is False
        assert outcome.reason == (
            "pass condition error: the value is null (no evidence of that type is attached)"
        )
    else:
        assert outcome.eligible is never, outcome.reason


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "vulnerabilities.fixablecritical == 0",
            "type error at line 1, column 1: no field 'fixablecritical' here (it has critical, "
            "high, medium, low, fixableCritical, fixableHigh, ids)",
        ),
        (
            'vulnerabilities.critical == "0"',
            "type error at line 1, column 1: '==' cannot be applied to int and string",
        ),
        (
            "signatures.exists(s, s.verified == 1)",
            "type error at line 1, column 22: '==' cannot be applied to bool and int",
        ),
        (
            "evidenceAge.vulnerabilities < 3600",
            "type error at line 1, column 1: '<' cannot be applied to duration and int",
        ),
        ("sbom.packages[0].licenses + 1 == []", None),
    ],
)
def test_the_evidence_variables_are_type_checked_at_save(
    condition: str, message: str | None
) -> None:
    problem = cel.validate_condition(condition)
    if message is None:
        assert problem is not None and "cannot be applied to list(string) and int" in problem
    else:
        assert problem == message


def test_a_requests_record_holds_the_ages_as_text_and_a_bounded_sbom() -> None:
    packages = [{"name": f"p{i}", "version": "1", "licenses": []} for i in range(2000)]
    evidence = dataclasses.replace(SCANNED, sbom={"packages": packages})
    variables = cel.image_variables("app:1", [], [], evidence=evidence, now=NOW)
    record = cel.recordable(variables)
    assert record["sbom"] == {"packages": packages[:100], "packageCount": 2000}
    assert variables["sbom"] == {"packages": packages}  # what conditions read is whole
    assert record["evidenceAge"] == {
        "signature": "0s",
        "vulnerabilities": "108000s",
        "provenance": None,
        "sbom": None,
    }


def test_only_the_variables_a_condition_names_are_converted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An SBOM of 2,000 packages costs ~50 ms to turn into CEL values: a condition on
    signatures must not pay it for every image."""
    converted: list[set[str]] = []
    real = cel.json_to_cel

    def recording(values: dict[str, object]) -> object:
        converted.append(set(values))
        return real(values)

    monkeypatch.setattr(cel, "json_to_cel", recording)
    conditions = cel.CompiledConditions(
        "signatures.exists(s, s.verified)", "vulnerabilities.critical > 5 || imageLabels == []"
    )
    variables = cel.image_variables("app:1", ["x"], [], evidence=SCANNED, now=NOW)
    assert conditions.evaluate(variables).eligible is True
    assert converted == [{"signatures", "vulnerabilities", "imageLabels"}]

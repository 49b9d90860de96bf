"""Issue 20's "done when": a policy over the evidence admits the good image and refuses the
unsigned, the wrongly signed and the vulnerable ones; reports, SBOMs and provenance become
CEL variables; absent evidence is null; filter conditions see the same variables."""

from __future__ import annotations

import json
from typing import Any

from app.deployments.models import Deployment
from app.ids import global_id
from app.supplychain.models import Evidence
from tests.conftest import People
from tests.deployments.conftest import deployable, make_world, promoted_image
from tests.promotions.world import World
from tests.supplychain.kit import (
    SAMPLE_DIGEST,
    Signer,
    attach,
    digest,
    image_with_digest,
    register_key,
    sample,
    sign_image,
    simple_signing,
)
from tests.support.graphql import GraphQLClient

POLICY = "signatures.exists(s, s.verified) && vulnerabilities.fixableCritical == 0"


PROMOTE = """mutation($i: ID!) { promoteImage(imageId: $i, source: {type: CI},
    targetEnvironments: ["dev"]) { results { outcome message
    failedClauses { condition expression value result error } } errors { message } } }"""


async def outcome(world: World, image: int) -> dict[str, Any]:
    data = await world.gql(PROMOTE, {"i": global_id("Image", image)}, token=world.tokens["dev"])
    assert data["promoteImage"]["errors"] == [], data
    [result] = data["promoteImage"]["results"]
    return dict(result)


def clause(expression: str, value: str) -> dict[str, object]:
    """A pass condition's operand that was false, shown with its values."""
    return {
        "condition": "pass",
        "expression": expression,
        "value": value,
        "result": False,
        "error": None,
    }


SIGNED = "signatures.exists(s, s.verified)"
NO_SIGNATURE = clause(SIGNED, "[].exists(s, s.verified)")
UNVERIFIED = clause(SIGNED, '[{"keyName": "", "verified": false}].exists(s, s.verified)')


async def test_the_policy_admits_the_good_image_and_refuses_the_others(world: World) -> None:
    ci, stranger = Signer(), Signer()
    await register_key(world, "ci", ci)
    await world.policy("evidence", "dev", pass_condition=POLICY)

    good = await image_with_digest(world, "good", SAMPLE_DIGEST)
    signed = await sign_image(world, good, SAMPLE_DIGEST, ci)
    assert signed["errors"] == [] and signed["evidence"]["verified"] is True
    assert signed["evidence"]["keyName"] == "ci"
    report = await attach(world, good, "VULNERABILITY_REPORT", sample("trivy.json"))
    assert report["errors"] == [], report
    assert report["image"]["evidence"]["vulnerabilities"] == {
        "scanner": "trivy 0.58.1",
        "critical": 1,
        "high": 1,
        "medium": 2,
        "low": 1,
        "unknown": 0,
        "fixableCritical": 0,
        "fixableHigh": 1,
        "ids": [
            "CVE-2024-45490",
            "CVE-2024-2511",
            "CVE-2023-50495",
            "CVE-2024-35195",
            "CVE-2011-3374",
        ],
    }

    unsigned_digest = digest("unsigned")
    unsigned = await image_with_digest(world, "unsigned", unsigned_digest)
    await attach(world, unsigned, "VULNERABILITY_REPORT", sample("trivy.json", unsigned_digest))

    foreign_digest = digest("foreign")
    foreign = await image_with_digest(world, "foreign", foreign_digest)
    by_stranger = await sign_image(world, foreign, foreign_digest, stranger)
    assert by_stranger["errors"] == [] and by_stranger["evidence"]["verified"] is False
    await attach(world, foreign, "VULNERABILITY_REPORT", sample("trivy.json", foreign_digest))

    tampered_digest = digest("tampered")
    tampered = await image_with_digest(world, "tampered", tampered_digest)
    payload = simple_signing(tampered_digest)
    altered = payload.replace("registry.example.com/shop", "registry.example.com/shoq")
    kept = await attach(world, tampered, "SIGNATURE", altered, ci.sign(payload.encode()))
    assert kept["evidence"]["verified"] is False and kept["evidence"]["keyName"] is None
    await attach(world, tampered, "VULNERABILITY_REPORT", sample("trivy.json", tampered_digest))

    vulnerable_digest = digest("vulnerable")
    vulnerable = await image_with_digest(world, "vulnerable", vulnerable_digest)
    await sign_image(world, vulnerable, vulnerable_digest, ci)
    grype = await attach(
        world, vulnerable, "VULNERABILITY_REPORT", sample("grype.json", vulnerable_digest)
    )
    assert grype["errors"] == [], grype
    assert grype["image"]["evidence"]["vulnerabilities"]["fixableCritical"] == 1
    assert grype["image"]["evidence"]["vulnerabilities"]["scanner"] == "grype 0.86.1"

    admitted = await outcome(world, good)
    assert (admitted["outcome"], admitted["failedClauses"]) == ("PROMOTING", [])
    # Each refusal names the clause that failed, with its value: the signature clause for
    # the unsigned, the stranger-signed and the tampered image; the scan for the vulnerable.
    expected = {
        unsigned: [NO_SIGNATURE],
        foreign: [UNVERIFIED],
        tampered: [UNVERIFIED],
        vulnerable: [clause("vulnerabilities.fixableCritical == 0", "1 == 0")],
    }
    for refused, clauses in expected.items():
        result = await outcome(world, refused)
        assert result["outcome"] == "BLOCKED_BY_POLICY", result
        assert result["message"].startswith(
            f"blocked by policy evidence: pass condition is false: {POLICY}"
        ), result
        assert result["failedClauses"] == clauses, result


async def test_a_never_scanned_image_has_null_vulnerabilities(world: World) -> None:
    await world.policy("scanned", "dev", pass_condition="vulnerabilities != null")
    await world.policy("unscanned", "staging", pass_condition="vulnerabilities == null")
    never = await image_with_digest(world, "never", digest("never"))
    scanned = await image_with_digest(world, "scanned", SAMPLE_DIGEST)
    await attach(world, scanned, "VULNERABILITY_REPORT", sample("trivy.json"))

    def outcomes(results: list[dict[str, str]]) -> dict[str, str]:
        return {r["environment"]: r["outcome"] for r in results}

    assert outcomes(await world.promote(world.tokens["dev"], never, ["dev", "staging"])) == {
        "dev": "BLOCKED_BY_POLICY",
        "staging": "PROMOTING",
    }
    assert outcomes(await world.promote(world.tokens["dev"], scanned, ["dev", "staging"])) == {
        "dev": "PROMOTING",
        "staging": "BLOCKED_BY_POLICY",
    }


async def test_dsse_signed_provenance_is_verified_with_a_registered_key(world: World) -> None:
    ci, stranger = Signer(), Signer()
    await register_key(world, "ci", ci)
    condition = (
        "provenance != null && provenance.verified && provenance.sourceRepository == "
        '"https://github.com/example/shop"'
    )
    await world.policy("built-here", "dev", pass_condition=condition)
    statement = json.loads(sample("provenance.json"))

    ours = await image_with_digest(world, "ours", SAMPLE_DIGEST)
    attached = await attach(world, ours, "PROVENANCE", ci.envelope(statement))
    assert attached["errors"] == [], attached
    assert attached["image"]["evidence"]["provenance"] == {
        "builderId": "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main",
        "buildType": "https://actions.github.io/buildtypes/workflow/v1",
        "sourceRepository": "https://github.com/example/shop",
        "sourceCommit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "verified": True,
        "keyName": "ci",
    }

    other_digest = digest("other")
    other = await image_with_digest(world, "other", other_digest)
    statement["subject"][0]["digest"]["sha256"] = other_digest.removeprefix("sha256:")
    unverified = await attach(world, other, "PROVENANCE", stranger.envelope(statement))
    assert unverified["evidence"]["verified"] is False

    bare_digest = digest("bare")
    bare = await image_with_digest(world, "bare", bare_digest)
    statement["subject"][0]["digest"]["sha256"] = bare_digest.removeprefix("sha256:")
    plain = await attach(world, bare, "PROVENANCE", json.dumps(statement))
    assert plain["errors"] == [] and plain["evidence"]["verified"] is False

    assert (await outcome(world, ours))["outcome"] == "PROMOTING"
    assert (await outcome(world, other))["outcome"] == "BLOCKED_BY_POLICY"
    assert (await outcome(world, bare))["outcome"] == "BLOCKED_BY_POLICY"


async def test_cyclonedx_and_spdx_sboms_become_packages(world: World) -> None:
    condition = (
        'sbom != null && sbom.packages.exists(p, p.name == "urllib3" && "MIT" in p.licenses)'
    )
    await world.policy("licensed", "dev", pass_condition=condition)
    expected = [
        {"name": "libssl3", "version": "3.0.15-1~deb12u1", "licenses": ["Apache-2.0"]},
        {"name": "urllib3", "version": "2.2.3", "licenses": ["MIT"]},
    ]
    for tag, name, fmt in (("cdx", "cyclonedx.json", "CycloneDX"), ("spdx", "spdx.json", "SPDX")):
        image_digest = digest(tag)
        image = await image_with_digest(world, tag, image_digest)
        result = await attach(world, image, "SBOM", sample(name, image_digest))
        assert result["errors"] == [], result
        sbom = result["image"]["evidence"]["sbom"]
        assert (sbom["format"], sbom["packageCount"]) == (fmt, 3)
        by_name = {p["name"]: p for p in sbom["packages"]}
        assert [by_name["libssl3"], by_name["urllib3"]] == expected
        assert (await outcome(world, image))["outcome"] == "PROMOTING"
    without = await image_with_digest(world, "none", digest("none"))
    assert (await outcome(world, without))["outcome"] == "BLOCKED_BY_POLICY"


async def test_evidence_for_another_digest_is_refused_and_nothing_is_stored(
    world: World,
) -> None:
    ci = Signer()
    await register_key(world, "ci", ci)
    image = await image_with_digest(world, "mine", digest("mine"))
    cases = [
        ("VULNERABILITY_REPORT", sample("trivy.json"), None, "document.Metadata.RepoDigests"),
        (
            "VULNERABILITY_REPORT",
            sample("grype.json"),
            None,
            "document.source.target.manifestDigest",
        ),
        ("SBOM", sample("cyclonedx.json"), None, "document.metadata.component.version"),
        ("PROVENANCE", sample("provenance.json"), None, "document.subject[].digest.sha256"),
    ]
    theirs = simple_signing(SAMPLE_DIGEST)
    cases.append(
        (
            "SIGNATURE",
            theirs,
            ci.sign(theirs.encode()),
            "document.critical.image.docker-manifest-digest",
        )
    )
    for kind, document, signature, field in cases:
        result = await attach(world, image, kind, document, signature)
        [error] = result["errors"]
        assert (error["code"], error["field"]) == ("VALIDATION", field), (kind, error)
        assert digest("mine") in error["message"] and "not this image's digest" in error["message"]
    assert await Evidence.filter(image_id=image).count() == 0
    # An image registered without a digest takes no evidence at all.
    undigested = await world.image("plain")
    [error] = (await attach(world, undigested, "SBOM", sample("spdx.json")))["errors"]
    assert error["field"] == "image"


async def test_malformed_and_oversized_documents_name_the_line_or_field(world: World) -> None:
    image = await image_with_digest(world, "bad", SAMPLE_DIGEST)
    broken = '{\n  "SchemaVersion": 2,\n  "Results": [,]\n}'
    [error] = (await attach(world, image, "VULNERABILITY_REPORT", broken))["errors"]
    assert error["field"] == "document"
    assert "not valid JSON" in error["message"] and "line 3, column 15" in error["message"]

    statement = json.loads(sample("provenance.json"))
    del statement["predicate"]["runDetails"]["builder"]
    [error] = (await attach(world, image, "PROVENANCE", json.dumps(statement)))["errors"]
    assert error["field"] == "document.predicate.runDetails.builder.id"

    report = json.loads(sample("trivy.json"))
    report["Results"][0]["Vulnerabilities"] = "many"
    [error] = (await attach(world, image, "VULNERABILITY_REPORT", json.dumps(report)))["errors"]
    assert error["field"] == "document.Results[0].Vulnerabilities"

    bom = json.loads(sample("cyclonedx.json"))
    bom["components"][0]["type"] = "spaceship"
    [error] = (await attach(world, image, "SBOM", json.dumps(bom)))["errors"]
    assert error["field"] == "document.components.0.type" and "CycloneDX" in error["message"]

    payload = simple_signing(SAMPLE_DIGEST)
    [error] = (await attach(world, image, "SIGNATURE", payload, "not base64!"))["errors"]
    assert error["field"] == "signature"

    huge = json.dumps({"matches": [], "padding": "x" * (512 * 1024)})
    [error] = (await attach(world, image, "VULNERABILITY_REPORT", huge))["errors"]
    assert error["field"] == "document" and "at most 524288 bytes" in error["message"]
    assert await Evidence.filter(image_id=image).count() == 0


async def test_filter_conditions_see_the_evidence(
    gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await make_world(
        gql, people, admin, filter_pass_condition="signatures.exists(s, s.verified)"
    )
    ci = Signer()
    await register_key(world, "ci", ci)
    unsigned, _ = await promoted_image(world)
    await Deployment.all().delete()
    entry = (await deployable(world))[str(unsigned)]
    assert entry["reasons"] == [
        "blocked by the filter condition of prod: pass condition is false: "
        "signatures.exists(s, s.verified)"
    ]
    signed = await image_with_digest(world, "signed", SAMPLE_DIGEST)
    await sign_image(world, signed, SAMPLE_DIGEST, ci)
    [result] = await world.promote(world.tokens["dev"], signed, ["prod"])
    assert result["outcome"] == "PROMOTING"
    from tests.promotions.world import drain

    await drain()
    assert (await deployable(world))[str(signed)]["reasons"] == []

"""`hoist create signingKey`, `hoist attach evidence`, `hoist get evidence` and `hoist
delete signingKey`, as CI and a super-admin run them against a live server (issue 20)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.runner import as_json, failed, hoist, succeeded
from tests.supplychain.kit import GRYPE_DIGEST, SAMPLE_DIGEST, Signer, sample, simple_signing
from tests.support.live_server import LiveServer

WORKFLOW = """\
apiVersion: v1
kind: workflow
spec:
  application: evidence-app
  name: main
  ciPipeline: evidence-ci
  cdPipelines:
    - environment: evidence-dev
"""


def test_ci_attaches_evidence_and_a_deleted_key_verifies_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    run = lambda *args: hoist(live_server, tmp_path, *args)  # noqa: E731
    succeeded(run("create", "application", "--name=evidence-app"))
    succeeded(run("create", "environment", "--name=evidence-dev"))
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    succeeded(run("apply", "-f", str(tmp_path / "workflow.yaml")))
    image = as_json(
        run(
            "register",
            "image",
            "--application=evidence-app",
            "--workflow=main",
            "--image=registry.example.com/shop:1.0",
            f"--digest={SAMPLE_DIGEST}",
            "-o",
            "json",
        )
    )["id"]

    signer = Signer()
    (tmp_path / "cosign.pub").write_text(signer.public_pem)
    assert succeeded(run("create", "signingKey", "--name=ci", "--file=cosign.pub")).startswith(
        "registered ECDSA_P256 key ci (sha256:"
    )
    assert [k["name"] for k in as_json(run("get", "signingKeys", "-o", "json"))] == ["ci"]

    # cosign's --output-payload and --output-signature files, as CI has them.
    payload = simple_signing(SAMPLE_DIGEST)
    (tmp_path / "payload.json").write_bytes(payload.encode())
    (tmp_path / "payload.sig").write_text(signer.sign(payload.encode()) + "\n")
    (tmp_path / "trivy.json").write_text(sample("trivy.json"))
    (tmp_path / "grype.json").write_text(sample("grype.json"))
    attach = ("attach", "evidence", f"--image={image}")
    assert (
        succeeded(
            run(*attach, "--type=signature", "--file=payload.json", "--signature=payload.sig")
        )
        == f"attached cosign signature to image {image}, verified with key ci\n"
    )
    succeeded(run(*attach, "--type=vulnerability-report", "--file=trivy.json"))
    failed(
        run(*attach, "--type=vulnerability-report", "--file=grype.json"),
        1,
        f"is for {GRYPE_DIGEST}",
        "field document.source.target.manifestDigest",
    )
    failed(run(*attach, "--type=sbom", "--file=trivy.json", "--signature=payload.sig"), 2)

    shown = succeeded(run("get", "evidence", f"--image={image}"))
    assert shown.splitlines() == [
        "signature: verified by ci",
        "vulnerabilities (trivy 0.58.1): 1 critical (0 fixable), 1 high (1 fixable), "
        "2 medium, 1 low",
        "provenance: none",
        "sbom: none",
    ]
    succeeded(run("delete", "signingKey", "--name=ci"))
    assert succeeded(run("get", "evidence", f"--image={image}")).startswith(
        "signature: NOT verified\n"
    )

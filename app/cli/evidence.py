"""Supply-chain evidence: `hoist create|delete|get signingKey(s)` (super-admins register the
public keys signatures verify with) and, for CI scripts, `hoist attach evidence` and
`hoist get evidence`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.api import (
    USER_ERRORS,
    Api,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    fail,
    read_file,
    rows_or_none,
    show,
)
from app.cli.verbs import attach, create, delete, get

KEY_FIELDS = "name algorithm fingerprint createdAt"
EVIDENCE_FIELDS = """signatures { keyName verified dockerReference attachedAt }
  vulnerabilities { scanner critical high medium low unknown fixableCritical fixableHigh ids
    attachedAt }
  provenance { builderId buildType sourceRepository sourceCommit verified keyName attachedAt }
  sbom { format packageCount attachedAt }"""


class Kind(StrEnum):
    signature = "signature"
    vulnerability_report = "vulnerability-report"
    provenance = "provenance"
    sbom = "sbom"


@create.command("signingKey")
def create_signing_key(
    name: Annotated[str, typer.Option("--name", help="2-50 of a-z, 0-9, '-'.")],
    file: Annotated[Path, typer.Option("--file", help="The PEM public key (cosign.pub).")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Register a public key signatures and DSSE envelopes verify with (super-admins)."""
    created = Api(url, token).mutate(
        f"""mutation CreateSigningKey($name: String!, $key: String!) {{
              createSigningKey(name: $name, publicKey: $key) {{
                signingKey {{ {KEY_FIELDS} }} {USER_ERRORS} }} }}""",
        {"name": name, "key": read_file(file, "key file")},
        "createSigningKey",
    )["signingKey"]
    emit(
        output,
        created,
        lambda: (
            f"registered {created['algorithm']} key {created['name']} ({created['fingerprint']})"
        ),
    )


@delete.command("signingKey")
def delete_signing_key(
    name: Annotated[str, typer.Option("--name", help="The key's name.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Remove a signing key (super-admins); what only it verified is no longer verified."""
    Api(url, token).mutate(
        f"""mutation DeleteSigningKey($name: String!) {{
              deleteSigningKey(name: $name) {{ deleted {USER_ERRORS} }} }}""",
        {"name": name},
        "deleteSigningKey",
    )
    emit(output, {"deleted": True, "name": name}, lambda: f"deleted signing key {name}")


@get.command("signingKeys")
def get_signing_keys(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List the registered signing keys."""
    keys = Api(url, token).call(f"query SigningKeys {{ signingKeys {{ {KEY_FIELDS} }} }}")[
        "signingKeys"
    ]
    emit(
        output,
        keys,
        lambda: rows_or_none(
            ["NAME", "ALGORITHM", "FINGERPRINT"],
            [[k["name"], k["algorithm"], k["fingerprint"]] for k in keys],
            "no signing keys",
        ),
    )


@attach.command("evidence")
def attach_evidence(
    image_id: Annotated[str, typer.Option("--image", help="The image's id.")],
    kind: Annotated[Kind, typer.Option("--type", case_sensitive=False, help="What it is.")],
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            help="The document: cosign's payload, a Trivy or Grype JSON report, an in-toto "
            "statement or DSSE envelope, a CycloneDX or SPDX JSON SBOM.",
        ),
    ],
    signature: Annotated[
        Path | None,
        typer.Option(
            "--signature", help="signature only: the file of the payload's base64 signature."
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Attach evidence to an image (BUILD_DEPLOY); it must name the image's digest."""
    if (signature is None) == (kind is Kind.signature):
        fail("--signature goes with --type signature, and only with it", 2)
    variables: dict[str, Any] = {
        "image": image_id,
        "type": kind.value.upper().replace("-", "_"),
        "document": exact_text(file),
    }
    if signature is not None:
        variables["signature"] = read_file(signature, "signature file").strip()
    attached = Api(url, token).mutate(
        f"""mutation AttachEvidence($image: ID!, $type: EvidenceType!, $document: String!,
              $signature: String) {{
              attachEvidence(image: $image, type: $type, document: $document,
                signature: $signature) {{
                evidence {{ type format digest verified keyName documentSha256 attachedAt }}
                {USER_ERRORS} }} }}""",
        variables,
        "attachEvidence",
    )["evidence"]

    def text() -> str:
        check = (
            f", verified with key {attached['keyName']}"
            if attached["verified"]
            else ", not verified by any registered key"
            if kind in (Kind.signature, Kind.provenance)
            else ""
        )
        return f"attached {attached['format']} {kind.value} to image {image_id}{check}"

    emit(output, attached, text)


@get.command("evidence")
def get_evidence(
    image_id: Annotated[str, typer.Option("--image", help="The image's id.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show an image's evidence: signatures, newest report, provenance and SBOM."""
    image = Api(url, token).call(
        f"""query Evidence($id: ID!) {{ image(id: $id) {{ evidence {{ {EVIDENCE_FIELDS} }} }} }}""",
        {"id": image_id},
    )["image"]
    if image is None:
        fail(f"no image {image_id!r} (or you may not see it)", 1)
    evidence = image["evidence"]
    emit(output, evidence, lambda: evidence_text(evidence))


def exact_text(path: Path) -> str:
    """The file's text byte for byte (no newline translation): a signature is over it."""
    read_file(path, "evidence file")  # its messages for a missing or unreadable file
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read evidence file {str(path)!r}: {exc}", 2)


def evidence_text(evidence: dict[str, Any]) -> str:
    lines = []
    for s in evidence["signatures"]:
        lines.append(
            f"signature: {'verified by ' + s['keyName'] if s['verified'] else 'NOT verified'}"
        )
    if not evidence["signatures"]:
        lines.append("signature: none")
    v = evidence["vulnerabilities"]
    lines.append(
        "vulnerabilities: never scanned"
        if v is None
        else f"vulnerabilities ({v['scanner']}): {v['critical']} critical "
        f"({v['fixableCritical']} fixable), {v['high']} high ({v['fixableHigh']} fixable), "
        f"{v['medium']} medium, {v['low']} low"
    )
    p = evidence["provenance"]
    lines.append(
        "provenance: none"
        if p is None
        else f"provenance: built by {p['builderId']} from {show(p['sourceRepository'])}@"
        f"{show(p['sourceCommit'])} ({'verified' if p['verified'] else 'not verified'})"
    )
    b = evidence["sbom"]
    lines.append(
        "sbom: none" if b is None else f"sbom: {b['format']}, {b['packageCount']} packages"
    )
    return "\n".join(lines)

"""The dashboard shows an image's evidence (issue 20 item 6): signature status,
vulnerability counts and provenance, in the promote dialog's Select Image and in Deploy."""

from __future__ import annotations

import json

from playwright.sync_api import Locator, Page, expect

from tests.supplychain.kit import Signer, digest, sample, simple_signing
from tests.ui.conftest import Shoot, SignIn
from tests.ui.scenario import Shop

ATTACH = """mutation($image: ID!, $type: EvidenceType!, $document: String!, $signature: String) {
  attachEvidence(image: $image, type: $type, document: $document, signature: $signature) {
    evidence { verified } errors { code message field } } }"""


def card(page: Page | Locator, tag: str) -> Locator:
    return page.locator(f'.image-card[data-tag="{tag}"]')


def register_with_evidence(shop: Shop) -> None:
    """2.0.0: signed by CI's key, scanned clean of fixable criticals, DSSE provenance.
    2.0.1: unsigned, and Grype found a fixable critical."""
    ci = Signer()
    shop.api(
        'mutation($k: String!) { createSigningKey(name: "ci", publicKey: $k) '
        "{ errors { message } } }",
        shop.admin,
        k=ci.public_pem,
    )
    for tag in ("2.0.0", "2.0.1"):
        image = shop.api(
            "mutation($input: RegisterImageInput!) { registerImage(input: $input) "
            "{ image { id } errors { message } } }",
            shop.tokens["dana"],
            input={
                "application": "shop",
                "workflow": "main",
                "image": f"registry.example.com/shop:{tag}",
                "digest": digest(tag),
            },
        )["registerImage"]["image"]
        shop.images[tag] = image["id"]

    def attach(tag: str, kind: str, document: str, signature: str | None = None) -> None:
        shop.api(
            ATTACH,
            shop.tokens["dana"],
            image=shop.images[tag],
            type=kind,
            document=document,
            signature=signature,
        )

    good = digest("2.0.0")
    payload = simple_signing(good)
    attach("2.0.0", "SIGNATURE", payload, ci.sign(payload.encode()))
    attach("2.0.0", "VULNERABILITY_REPORT", sample("trivy.json", good))
    statement = json.loads(sample("provenance.json", good))
    attach("2.0.0", "PROVENANCE", ci.envelope(statement))
    attach("2.0.1", "VULNERABILITY_REPORT", sample("grype.json", digest("2.0.1")))


def check_evidence(where: Page | Locator) -> None:
    good, bad = card(where, "2.0.0"), card(where, "2.0.1")
    expect(good.locator(".evidence-signature")).to_have_text("signed by ci")
    expect(good.locator(".evidence-vulnerabilities")).to_have_text(
        "1 critical (0 fixable) · 1 high (1 fixable) · 2 medium · 1 low"
    )
    expect(good.locator(".evidence-provenance")).to_have_text(
        "built from https://github.com/example/shop@4b825dc6 provenance verified (ci)"
    )
    expect(bad.locator(".evidence-signature")).to_have_text("unsigned")
    expect(bad.locator(".evidence-vulnerabilities .badge.blocked")).to_have_text(
        "1 critical (1 fixable) · 1 high (1 fixable) · 1 medium · 1 low"
    )
    expect(bad.locator(".evidence-provenance")).to_have_text("no provenance")
    # An image nobody scanned says so, rather than showing zero findings.
    expect(card(where, "1.4.0").locator(".evidence-vulnerabilities")).to_have_text("never scanned")


def test_select_image_and_deploy_show_the_evidence(
    shop: Shop, sign_in: SignIn, shoot: Shoot
) -> None:
    register_with_evidence(shop)
    dana = sign_in(shop.tokens["dana"])

    dana.get_by_role("link", name="shop").click()
    dana.locator('[data-workflow="main"]').get_by_role("button", name="Promote").click()
    check_evidence(dana.get_by_role("dialog"))
    shoot(dana, "13-evidence-select-image")

    dana.goto(f"{shop.url}/ui/#/apps/shop/envs/dev/deploy")
    check_evidence(dana)

"""YAML syntax errors in a manifest carry a hint for the mistakes people make by hand
(issue 12 item 11): the line and column alone did not say what to fix."""

from __future__ import annotations

import pytest

from app.errors import DomainError, ErrorCode
from app.policies import manifest

# SPEC §3's example manifest.
SEED = """\
apiVersion: v1
kind: artifactPromotionPolicy
spec:
  payload:
    applicationEnvironments:
      - appName: app1
        envName: env-demo
    applyToPolicyName: example-policy
"""


def refusal(text: str) -> str:
    with pytest.raises(DomainError) as caught:
        manifest.read(text)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_MANIFEST, "manifest")
    assert "\n" not in caught.value.message  # one line, as every error
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        # The seed's own slip: envName indented deeper than appName.
        (
            SEED.replace("        envName", "          envName"),
            "hint: check the indentation of line 7 and the line above (line 6): keys of one "
            "mapping must start in the same column",
        ),
        # A key indented less than its siblings.
        (
            SEED.replace("    applyToPolicyName", "   applyToPolicyName"),
            "hint: check the indentation of line 8 and the line above",
        ),
        (
            SEED.replace("  payload:", "\tpayload:"),
            "hint: YAML indents with spaces only: replace the tab on line 4 with spaces",
        ),
        (
            SEED.replace("envName: env-demo", "envName:env-demo"),
            "hint: put a space after the ':' on line 7 (key: value)",
        ),
        (
            SEED.replace("kind: artifactPromotionPolicy", "kind:artifactPromotionPolicy"),
            "hint: put a space after the ':' on line 2 (key: value)",
        ),
        (
            SEED.replace("envName: env-demo", 'envName: "env-demo'),
            "hint: the quote opened on line 7 is not closed",
        ),
        (
            SEED.replace("envName: env-demo", "envName: 'env-demo"),
            "hint: the quote opened on line 7 is not closed",
        ),
        (
            SEED.replace("envName: env-demo", 'envName: "C:\\dev"'),
            "hint: inside double quotes a backslash starts an escape",
        ),
        (SEED.replace("envName: env-demo", "envName: @prod"), "hint: put the value in quotes"),
        (
            SEED.replace("kind: artifactPromotionPolicy", "kind: artifact: PromotionPolicy"),
            "quote a value that contains ': '",
        ),
    ],
)
def test_common_yaml_mistakes_get_a_hint(text: str, hint: str) -> None:
    message = refusal(text)
    assert message.startswith("YAML syntax error at line ")
    assert hint in message, message


def test_the_seed_manifest_itself_reads() -> None:
    assert manifest.read(SEED) == manifest.PolicyManifest("example-policy", [("app1", "env-demo")])


def test_no_hint_is_invented_when_none_fits() -> None:
    message = refusal(SEED + "---\nkind: x\n")
    assert "expected a single document" in message and "hint" not in message

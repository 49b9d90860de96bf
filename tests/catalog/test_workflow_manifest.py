"""The workflow manifest (`kind: workflow`) as a pure reader: createWorkflow's input, with
the line of every field; every refusal names the field and its line."""

from __future__ import annotations

import pytest

from app.catalog import manifest
from app.errors import DomainError, ErrorCode

GOOD = """\
apiVersion: v1
kind: workflow
spec:
  application: shop
  name: main
  ciPipeline: shop-ci
  cdPipelines:
    - environment: staging
      trigger: AUTOMATIC
      postStage: true
    - environment: prod
      parentEnvironment: staging
      deploymentApprovalCount: 1
      filterPassCondition: 'containerImageTag != ""'
      filterFailCondition: ~
"""


def test_the_spec_is_create_workflows_input() -> None:
    read = manifest.read(GOOD)
    assert read.input == {
        "application": "shop",
        "name": "main",
        "ciPipeline": "shop-ci",
        "cdPipelines": [
            {"environment": "staging", "trigger": "AUTOMATIC", "postStage": True},
            # A null value is the same as leaving the field out: the server's default.
            {
                "environment": "prod",
                "parentEnvironment": "staging",
                "deploymentApprovalCount": 1,
                "filterPassCondition": 'containerImageTag != ""',
            },
        ],
    }
    # The server's field names, mapped back to lines (enclosing field when not exact).
    assert [
        read.line(f)
        for f in (
            "application",
            "name",
            "cdPipelines[0].trigger",
            "cdPipelines[1].environment",
            "cdPipelines[1].deploymentApprovalCount",
            "cdPipelines[1].preStage",
            "cdPipelines[5].environment",
            "input",
            None,
        )
    ] == [4, 5, 9, 11, 13, 11, 8, None, None]


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        (
            GOOD.replace("kind: workflow", "kind: artifactPromotionPolicy"),
            "kind",
            "kind must be workflow (got 'artifactPromotionPolicy') (line 2)",
        ),
        (GOOD.replace("  name: main\n", ""), "spec.name", "missing field spec.name (line 4)"),
        (
            GOOD.replace("  name: main", "  name: main\n  name: other"),
            "spec.name",
            "spec.name is given more than once (line 6)",
        ),
        (
            GOOD.replace("  ciPipeline", "  owner: me\n  ciPipeline"),
            "spec.owner",
            "unknown field 'owner' in spec; known fields: application, name, ciPipeline, "
            "cdPipelines (line 6)",
        ),
        (
            GOOD.replace("parentEnvironment", "parent"),
            "spec.cdPipelines[1].parent",
            "unknown field 'parent' in spec.cdPipelines[1]",
        ),
        (
            GOOD.replace("postStage: true", "postStage: yes please"),
            "spec.cdPipelines[0].postStage",
            "must be true or false (line 10)",
        ),
        (
            GOOD.replace("deploymentApprovalCount: 1", "deploymentApprovalCount: '1'"),
            "spec.cdPipelines[1].deploymentApprovalCount",
            "must be a whole number (line 13)",
        ),
        (
            GOOD.replace("deploymentApprovalCount: 1", "deploymentApprovalCount: " + "9" * 5000),
            "spec.cdPipelines[1].deploymentApprovalCount",
            "must be a whole number",
        ),
        (
            GOOD.replace("trigger: AUTOMATIC", "trigger: automatic"),
            "spec.cdPipelines[0].trigger",
            "must be AUTOMATIC or MANUAL (line 9)",
        ),
        (
            GOOD.split("  cdPipelines:")[0] + "  cdPipelines: []\n",
            "spec.cdPipelines",
            "must be a non-empty list (line 7)",
        ),
        (
            GOOD.split("    - environment: prod")[0] + "    - prod\n",
            "spec.cdPipelines[1]",
            "spec.cdPipelines[1] must be a mapping (line 11)",
        ),
        (
            GOOD.replace("  application: shop", "  application: 12"),
            "spec.application",
            "spec.application must be a non-empty string (line 4)",
        ),
        (
            GOOD.replace("      trigger", "        trigger"),
            "manifest",
            "check the indentation of line 9",
        ),
    ],
)
def test_refusals_name_the_field_and_line(text: str, field: str, says: str) -> None:
    with pytest.raises(DomainError) as caught:
        manifest.read(text)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_MANIFEST, field)
    assert says in caught.value.message, caught.value.message


def test_the_pipeline_list_is_bounded_like_the_api_input() -> None:
    many = (
        GOOD.split("  cdPipelines:")[0]
        + "  cdPipelines:\n"
        + "".join(f"    - environment: env-{i}\n" for i in range(manifest.MAX_PIPELINES + 1))
    )
    with pytest.raises(DomainError) as caught:
        manifest.read(many)
    assert "at most 100 pipelines" in caught.value.message
    assert len(manifest.read(many.rsplit("    - ", 1)[0]).input["cdPipelines"]) == 100

"""createWorkflow: the CD pipeline tree, every bad field reported at once, nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest

from app.accounts.access import SYSTEM
from app.catalog import service
from app.catalog.models import CdPipeline, Workflow
from tests.support.catalog import row_counts
from tests.support.graphql import GraphQLClient

CREATE = """
mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) {
    workflow {
      name ciPipeline
      cdPipelines {
        environment { name } parentEnvironment { name } preStage postStage trigger
        deploymentApprovalCount filterPassCondition filterFailCondition
      }
    }
    errors { code message field }
  }
}"""


@pytest.fixture
async def envs(db: str) -> None:
    await service.create_application(SYSTEM, "shop")
    for name in ("dev", "qa", "staging", "prod"):
        await service.create_environment(SYSTEM, name, name == "prod")


def pipeline(environment: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"environment": environment, "parentEnvironment": parent, **extra}


def workflow(*pipelines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "application": "shop",
            "name": "main",
            "ciPipeline": "shop-ci",
            "cdPipelines": list(pipelines),
            **extra,
        }
    }


async def create(gql: GraphQLClient, admin: str, variables: dict[str, Any]) -> dict[str, Any]:
    return (await gql(CREATE, variables, token=admin))["createWorkflow"]


def errors_of(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_pipelines_come_back_parents_first(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    payload = await create(
        gql,
        admin,
        workflow(
            pipeline(
                "prod",
                "staging",
                deploymentApprovalCount=2,
                filterPassCondition='containerImageTag.startsWith("1.")',
            ),
            pipeline("staging", "dev", preStage=True, postStage=True),
            pipeline("qa", "dev", trigger="AUTOMATIC"),
            pipeline("dev"),
        ),
    )
    assert payload["errors"] == []
    pipelines = payload["workflow"]["cdPipelines"]
    order = [p["environment"]["name"] for p in pipelines]
    parents = {
        p["environment"]["name"]: (p["parentEnvironment"] or {}).get("name") for p in pipelines
    }
    assert parents == {"dev": None, "staging": "dev", "qa": "dev", "prod": "staging"}
    for env, parent in parents.items():
        if parent is not None:
            assert order.index(parent) < order.index(env), order
    by_env = {p["environment"]["name"]: p for p in pipelines}
    assert by_env["prod"] == {
        "environment": {"name": "prod"},
        "parentEnvironment": {"name": "staging"},
        "preStage": False,
        "postStage": False,
        "trigger": "MANUAL",
        "deploymentApprovalCount": 2,
        "filterPassCondition": 'containerImageTag.startsWith("1.")',
        "filterFailCondition": None,
    }
    assert by_env["staging"]["preStage"] and by_env["staging"]["postStage"]
    assert by_env["qa"]["trigger"] == "AUTOMATIC"

    # The same tree, read back through the application in a new request.
    read = await gql(
        '{ application(name: "shop") { workflows { name ciPipeline cdPipelines {'
        " environment { name } parentEnvironment { name } } } } }",
        token=admin,
    )
    [wf] = read["application"]["workflows"]
    assert (wf["name"], wf["ciPipeline"]) == ("main", "shop-ci")
    assert [p["environment"]["name"] for p in wf["cdPipelines"]] == order


async def test_a_workflow_of_another_application_may_use_the_same_environments(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    await service.create_application(SYSTEM, "blog")
    assert (await create(gql, admin, workflow(pipeline("dev"))))["errors"] == []
    other = workflow(pipeline("dev"))
    other["input"]["application"] = "blog"
    assert (await create(gql, admin, other))["errors"] == []
    assert await CdPipeline.all().count() == 2


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (workflow(pipeline("dev"), application="nope"), [("NOT_FOUND", "application")]),
        (workflow(pipeline("dev"), name="Main"), [("VALIDATION", "name")]),
        (workflow(pipeline("dev"), ciPipeline=" "), [("VALIDATION", "ciPipeline")]),
        (
            workflow(pipeline("dev"), pipeline("nope", "dev")),
            [("NOT_FOUND", "cdPipelines[1].environment")],
        ),
        (
            workflow(pipeline("dev"), pipeline("dev")),
            [("VALIDATION", "cdPipelines[1].environment")],
        ),
        (
            workflow(pipeline("dev"), pipeline("staging", "prod")),
            [("VALIDATION", "cdPipelines[1].parentEnvironment")],
        ),
        (workflow(pipeline("dev", "dev")), [("VALIDATION", "cdPipelines[0].parentEnvironment")]),
        (
            workflow(pipeline("dev", "staging"), pipeline("staging", "dev")),
            [("VALIDATION", "cdPipelines[0].parentEnvironment")],
        ),
        (
            workflow(pipeline("dev", deploymentApprovalCount=7)),
            [("VALIDATION", "cdPipelines[0].deploymentApprovalCount")],
        ),
        (
            workflow(pipeline("dev", deploymentApprovalCount=-1)),
            [("VALIDATION", "cdPipelines[0].deploymentApprovalCount")],
        ),
        (
            workflow(pipeline("dev", filterPassCondition="containerImageTag ==")),
            [("INVALID_CONDITION", "cdPipelines[0].filterPassCondition")],
        ),
        (
            workflow(pipeline("dev", filterFailCondition="noSuchVariable == 1")),
            [("INVALID_CONDITION", "cdPipelines[0].filterFailCondition")],
        ),
    ],
    ids=[
        "unknown-app",
        "bad-name",
        "blank-ci",
        "unknown-env",
        "env-twice",
        "parent-elsewhere",
        "own-parent",
        "cycle",
        "approvals-7",
        "approvals-minus-1",
        "bad-cel",
        "unknown-var",
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    gql: GraphQLClient,
    admin: str,
    envs: None,
    variables: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    before = await row_counts()
    payload = await create(gql, admin, variables)
    assert payload["workflow"] is None
    assert errors_of(payload) == expected
    assert all(e["message"] for e in payload["errors"])
    assert await row_counts() == before


async def test_a_longer_cycle_is_refused(gql: GraphQLClient, admin: str, envs: None) -> None:
    payload = await create(
        gql,
        admin,
        workflow(
            pipeline("dev"),
            pipeline("qa", "prod"),
            pipeline("staging", "qa"),
            pipeline("prod", "staging"),
        ),
    )
    assert payload["workflow"] is None
    assert {code for code, _ in errors_of(payload)} == {"VALIDATION"}
    assert any("cycle" in e["message"] for e in payload["errors"])
    assert await Workflow.all().count() == 0


async def test_every_error_is_reported_together(gql: GraphQLClient, admin: str, envs: None) -> None:
    before = await row_counts()
    payload = await create(
        gql,
        admin,
        workflow(
            pipeline("dev", deploymentApprovalCount=9),
            pipeline("nope"),
            pipeline("qa", "missing", filterPassCondition="((("),
            name="x",
        ),
    )
    assert sorted(errors_of(payload)) == [
        ("INVALID_CONDITION", "cdPipelines[2].filterPassCondition"),
        ("NOT_FOUND", "cdPipelines[1].environment"),
        ("VALIDATION", "cdPipelines[0].deploymentApprovalCount"),
        ("VALIDATION", "cdPipelines[2].parentEnvironment"),
        ("VALIDATION", "name"),
    ]
    assert await row_counts() == before


async def test_duplicates_conflict(gql: GraphQLClient, admin: str, envs: None) -> None:
    assert (await create(gql, admin, workflow(pipeline("dev"), pipeline("qa", "dev"))))[
        "errors"
    ] == []
    before = await row_counts()

    same_name = await create(gql, admin, workflow(pipeline("staging")))
    assert errors_of(same_name) == [("CONFLICT", "name")]

    # An application has at most one CD pipeline per environment, across its workflows.
    taken = await create(
        gql, admin, workflow(pipeline("staging"), pipeline("qa", "staging"), name="hotfix")
    )
    assert errors_of(taken) == [("CONFLICT", "cdPipelines[1].environment")]
    assert await row_counts() == before

    fine = await create(
        gql, admin, workflow(pipeline("staging"), pipeline("prod", "staging"), name="hotfix")
    )
    assert fine["errors"] == []


async def test_blank_conditions_are_stored_as_none(
    gql: GraphQLClient, admin: str, envs: None
) -> None:
    payload = await create(
        gql, admin, workflow(pipeline("dev", filterPassCondition="  ", filterFailCondition=""))
    )
    assert payload["errors"] == []
    [dev] = payload["workflow"]["cdPipelines"]
    assert (dev["filterPassCondition"], dev["filterFailCondition"]) == (None, None)

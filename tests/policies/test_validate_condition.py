"""validateCondition: the dry run editors call while a condition is typed."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from tests.conftest import People
from tests.policies.helpers import CREATE, row_counts
from tests.support.graphql import GraphQLClient

VALIDATE = "query($e: String!) { validateCondition(expression: $e) }"


@pytest.mark.parametrize(
    "expression", ['containerImageTag.startsWith("v")', '"rc" in imageLabels', "", "  "]
)
async def test_a_condition_that_may_be_saved_is_null(
    gql: GraphQLClient, admin: str, expression: str
) -> None:
    assert (await gql(VALIDATE, {"e": expression}, token=admin)) == {"validateCondition": None}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('containerImageTag == "v1" &&\n  )', "line 2, column 3"),
        ('imageTag == "latest"', "unknown variable 'imageTag'"),
        ("containerImageTag", "boolean"),
    ],
)
async def test_the_message_is_the_one_saving_would_give(
    gql: GraphQLClient, admin: str, expression: str, expected: str
) -> None:
    before = await row_counts()
    message = (await gql(VALIDATE, {"e": expression}, token=admin))["validateCondition"]
    assert expected in message
    # The same message (with the field named) is what saving answers, and nothing is written.
    saved = await gql(
        CREATE, {"input": {"name": "example-policy", "passCondition": expression}}, token=admin
    )
    [error] = saved["createPromotionPolicy"]["errors"]
    assert error["code"] == "INVALID_CONDITION"
    assert error["message"] == f"passCondition: {message}"
    assert await row_counts() == before


async def test_any_signed_in_user_may_ask_but_not_anonymous(
    gql: GraphQLClient, people: People
) -> None:
    viewer = await people.token("viewer@example.com", (Role.VIEWER, "*", "*"))
    assert (await gql(VALIDATE, {"e": "true"}, token=viewer)) == {"validateCondition": None}
    assert await gql.error_code(VALIDATE, {"e": "true"}) == "UNAUTHENTICATED"

"""Bad input never crashes the API (SPEC §8): generated documents get clear GraphQL answers.

Documents are built from the schema itself (tests/fuzz/strategies.py), so a field added
tomorrow is fuzzed too. Sent through the real ASGI app as a super-admin, as a user of
one application, and without a token. Every answer must have GraphQL's JSON shape (HTTP
200, or 400 with `errors` for a request refused as a whole), nothing may be logged as a
crash, and no message may be the masked internal error or show Python's insides.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import People
from tests.fuzz.budget import examples
from tests.fuzz.strategies import Document, operations, soups
from tests.security.schema_walk import MASKED, Answer, post, problems
from tests.security.world import TwoApps, build_two_apps
from tests.support.graphql import GraphQLClient

FUZZ = settings(
    max_examples=examples(200),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def world(people: People, admin: str) -> TwoApps:
    return await build_two_apps(people, admin)


callers = st.sampled_from(["admin", "alice", "alice", None])


async def check(
    gql: GraphQLClient,
    world: TwoApps,
    caller: str | None,
    document: Document,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = world.admin if caller == "admin" else world.tokens.get(caller or "")
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        answer = await post(gql.http, token, document.query, document.variables)
    found = problems(answer, document.inputs())
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not found and not crashes, (
        f"{found} {crashes}\nas {caller}: {document.query}\nvariables: {document.variables!r}"
        f"\nanswer: {answer.text[:1000]}"
    )


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (Answer(200, {"data": None, "errors": [{"message": MASKED}]}, ""), "masked internal error"),
        (
            Answer(200, {"data": {"x": {"errors": [{"message": "KeyError: 'a'"}]}}}, ""),
            "internal detail 'KeyError'",
        ),
        (
            Answer(200, {"data": None, "errors": [{"message": 'File "app/x.py", line 3'}]}, ""),
            "internal detail 'File \"'",
        ),
        (
            Answer(200, {"data": {"validateCondition": "celpy.evaluation failed"}}, ""),
            "internal detail 'celpy'",
        ),
        (Answer(500, {"errors": [{"message": "boom"}]}, ""), "HTTP 500"),
        (Answer(400, None, "No GraphQL query found"), "not a GraphQL JSON answer"),
        (Answer(400, {"data": {"me": None}}, ""), "HTTP 400 without request errors"),
    ],
)
def test_the_judge_of_answers_can_fail(answer: Answer, problem: str) -> None:
    assert any(p.startswith(problem) for p in problems(answer)), problems(answer)
    assert problems(Answer(200, {"data": {"me": None}}, "")) == []


@FUZZ
@given(document=operations("query"), caller=callers)
async def test_generated_queries_get_clear_answers(
    gql: GraphQLClient,
    world: TwoApps,
    caplog: pytest.LogCaptureFixture,
    document: Document,
    caller: str | None,
) -> None:
    await check(gql, world, caller, document, caplog)


@FUZZ
@given(document=operations("mutation"), caller=callers)
async def test_generated_mutations_get_clear_answers(
    gql: GraphQLClient,
    world: TwoApps,
    caplog: pytest.LogCaptureFixture,
    document: Document,
    caller: str | None,
) -> None:
    await check(gql, world, caller, document, caplog)


@settings(FUZZ, max_examples=examples(60))
@given(text=soups(), caller=callers)
async def test_random_documents_get_clear_answers(
    gql: GraphQLClient,
    world: TwoApps,
    caplog: pytest.LogCaptureFixture,
    text: str,
    caller: str | None,
) -> None:
    await check(gql, world, caller, Document(text), caplog)


def cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


APPLY = "mutation($m: String!) { applyPolicyManifest(manifest: $m) { errors { code field } } }"
MANIFEST = (
    "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
    "    applicationEnvironments:\n      - appName: {app}\n        envName: prod\n"
    "    applyToPolicyName: shop-policy\n"
)

# Each of these was a masked internal error (a crash) before the fix named beside it.
FOUND = [
    # A lone surrogate reaches the database driver, which can't encode it (app/graphql/view).
    ("query($n: String!) { application(name: $n) { id } }", {"n": "\ud800"}, 400, "surrogate"),
    # graphql-core's \u{0} escape decodes to NUL, which Postgres refuses (app/graphql/view).
    ('{ application(name: "\\u{0}") { id } }', {}, 400, "NUL"),
    # Nothing at all to run: Strawberry answered in plain text (app/graphql/view).
    ("", {}, 400, "No GraphQL query"),
    # A forged cursor overflows the id column's integer (app/graphql/pagination).
    (
        "query($c: String) { auditLog(after: $c) { totalCount } }",
        {"c": cursor("id:99999999999999999999999")},
        200,
        "VALIDATION after",
    ),
    (
        "query($c: String) { promotionRequests(after: $c) { totalCount } }",
        {"c": cursor("id:3000000000")},
        200,
        "VALIDATION after",
    ),
    # A request id past the id column's range reached the driver (promotions.service).
    (
        'mutation { cancelPromotionRequest(requestId: "99999999999999999999") '
        "{ errors { code field } } }",
        {},
        200,
        "NOT_FOUND requestId",
    ),
    # first: 0 was read as "the default", 20 (app/graphql/pagination).
    (
        '{ deploymentHistory(application: "shop", first: 0) { totalCount } }',
        {},
        200,
        "VALIDATION first",
    ),
    # Year 9999 at UTC-14 is after the last datetime Python has (accounts.service).
    (
        'mutation { createApiToken(name: "x", expiresAt: "9999-12-31T23:59:59-14:00") '
        "{ errors { code field } } }",
        {},
        200,
        "VALIDATION expiresAt",
    ),
    # Tortoise checks filter values against the column's length (app/graphql/errors).
    (
        "query($p: String) { policyBindings(policy: $p) { appName } }",
        {"p": "p" * 51},
        200,
        "VALIDATION name",
    ),
    (
        "mutation($e: String!) { grantRole(email: $e, role: VIEWER) { errors { code field } } }",
        {"e": "a" * 250 + "@example.com"},
        200,
        "VALIDATION email",
    ),
    # YAML escapes decode to NUL and lone surrogates (app/policies/manifest).
    (
        APPLY,
        {"m": MANIFEST.format(app='"shop\\0"')},
        200,
        "INVALID_MANIFEST spec.payload.applicationEnvironments[0].appName",
    ),
    (
        APPLY,
        {"m": MANIFEST.format(app='"\\udc00"')},
        200,
        "INVALID_MANIFEST spec.payload.applicationEnvironments[0].appName",
    ),
]


def code_and_field(answer: Answer) -> str:
    """`CODE field` of the first error, top-level or in a payload."""
    if answer.errors and answer.errors[0].get("extensions"):
        extensions = answer.errors[0]["extensions"]
        return f"{extensions['code']} {extensions['field']}"
    [payload] = answer.data.values()
    error = payload["errors"][0]
    return f"{error['code']} {error['field']}"


@pytest.mark.parametrize(("query", "variables", "status", "says"), FOUND)
async def test_inputs_that_crashed_get_clear_answers(
    gql: GraphQLClient,
    admin: str,
    query: str,
    variables: dict[str, Any],
    status: int,
    says: str,
) -> None:
    answer = await post(gql.http, admin, query, variables)
    assert problems(answer, repr(variables)) == [], answer.text
    assert answer.status == status, answer.text
    if status == 400:
        assert answer.data is None and says in answer.errors[0]["message"], answer.text
    else:
        assert code_and_field(answer) == says, answer.text

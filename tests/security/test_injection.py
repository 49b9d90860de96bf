"""SQL injection probes and LIKE wildcards in every string argument do nothing (SPEC §8).

Every String and ID argument of every Query and Mutation field — nested input fields and
list items too, found by walking the schema — gets the classic payloads in turn, as a
super-admin, with the other arguments valid. Queries must answer exactly as for a name
that matches nothing (so `%`, `_` or `*` never widen a filter) and write nothing.
Mutations must answer clearly, keep every table and row, write nothing when they refuse,
and store the payload verbatim, as data, when they accept it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from graphql import GraphQLNonNull, get_named_type
from tortoise import Tortoise, connections

from app.ids import global_id
from tests.conftest import People
from tests.security.schema_walk import (
    Answer,
    Enum,
    document_within_cost,
    input_fields,
    is_list,
    mutation_fields,
    post,
    problems,
    query_fields,
)
from tests.security.world import TwoApps, build_two_apps, snapshot
from tests.supplychain.kit import Signer
from tests.support.graphql import GraphQLClient

PAYLOADS = ["' OR '1'='1", '"; DROP TABLE users; --', "\\'", "%", "_", "*", "%.", "_%"]
NOTHING = "no-such-thing"
CI = {"type": Enum("CI")}
_fresh = itertools.count()


def fresh(prefix: str) -> str:
    return f"{prefix}-{next(_fresh)}"


Args = Callable[[TwoApps], dict[str, Any]]

# Valid arguments of each field, aimed at shop's real rows, so a filter that a payload
# widened would show more than nothing. Lambdas: some need fresh names on every call.
QUERIES: dict[str, Args] = {
    "me": lambda w: {},
    "users": lambda w: {},
    "outboxJobs": lambda w: {},
    "applications": lambda w: {},
    "application": lambda w: {"name": "shop"},
    "environments": lambda w: {},
    "signingKeys": lambda w: {},
    "image": lambda w: {"id": global_id("Image", w.a_image)},
    "node": lambda w: {"id": global_id("Image", w.a_image)},
    "nodes": lambda w: {
        "ids": [global_id("Image", w.a_image), global_id("PromotionRequest", w.a_request)]
    },
    "promotionPolicies": lambda w: {},
    "promotionPolicy": lambda w: {"name": "shop-policy"},
    "policyBindings": lambda w: {
        "application": "shop",
        "environment": "prod",
        "policy": "shop-policy",
    },
    "validateCondition": lambda w: {"expression": "true"},
    "promotableImages": lambda w: {"application": "shop", "workflow": "main", "source": CI},
    "promotionTargets": lambda w: {"application": "shop", "workflow": "main"},
    "promotionPreview": lambda w: {
        "imageId": global_id("Image", w.a_image),
        "targetEnvironments": ["prod"],
        "source": {"type": Enum("ENVIRONMENT"), "environment": "staging"},
    },
    "pendingApprovals": lambda w: {
        "application": "shop",
        "workflow": "main",
        "targetEnvironment": "prod",
        "pendingWithMe": False,
    },
    "promotionRequests": lambda w: {"application": "shop"},
    "promotionRequest": lambda w: {"id": global_id("PromotionRequest", w.a_request)},
    "deployableImages": lambda w: {"application": "shop", "environment": "dev"},
    "deploymentHistory": lambda w: {"application": "blog", "environment": "prod"},
    "deliveryInsights": lambda w: {
        "application": "shop",
        "environment": "prod",
        "from": "2026-01-01T00:00:00Z",
        "to": "2026-03-01T00:00:00Z",
    },
    "notifications": lambda w: {},
    "auditLog": lambda w: {
        "application": "shop",
        "actor": "admin@example.com",
        "action": "promotion.",
    },
    "webhookEventTypes": lambda w: {},
    "webhookEndpoints": lambda w: {},
    "webhookDeliveries": lambda w: {"endpoint": "shop-hook"},
    "promotionWindows": lambda w: {},
    "promotionWindow": lambda w: {"name": "shop-freeze"},
    "windowBindings": lambda w: {"application": "shop", "environment": "prod", "window": "x"},
}
# Arguments that are not names to look up: their answers differ by content, not by match.
NOT_LOOKUPS = {("validateCondition", "expression")}

MUTATIONS: dict[str, Args] = {
    "createUser": lambda w: {"input": {"email": f"{fresh('u')}@example.com", "name": "n"}},
    "grantRole": lambda w: {
        "email": "alice@example.com",
        "role": Enum("VIEWER"),
        "application": "blog",
        "environment": "dev",
    },
    "revokeRole": lambda w: {
        "email": "alice@example.com",
        "role": Enum("VIEWER"),
        "application": "shop",
        "environment": "*",
    },
    "createApiToken": lambda w: {"name": "t", "email": "alice@example.com"},
    "revokeApiToken": lambda w: {"id": global_id("ApiToken", w.b_token)},
    "createApplication": lambda w: {"name": fresh("app")},
    "createEnvironment": lambda w: {"name": fresh("env")},
    "createWorkflow": lambda w: {
        "input": {
            "application": "shop",
            "name": fresh("wf"),
            "ciPipeline": "ci",
            "cdPipelines": [
                {
                    "environment": "dev",
                    "filterPassCondition": "true",
                    "filterFailCondition": "false",
                },
                {"environment": "prod", "parentEnvironment": "dev"},
            ],
        }
    },
    "registerImage": lambda w: {
        "input": {
            "application": "shop",
            "workflow": "main",
            "image": "registry.example.com/shop:9",
            "digest": "sha256:9",
            "labels": ["l"],
            "builtBy": "alice@example.com",
            "gitCommits": [
                {"repo": "r", "branch": "b", "commitHash": "h", "commitMessage": "m", "author": "a"}
            ],
        }
    },
    "recordStageResult": lambda w: {
        "input": {
            "imageId": global_id("Image", w.a_image),
            "environment": "dev",
            "stage": Enum("DEPLOY"),
            "status": Enum("SUCCEEDED"),
        }
    },
    "createPromotionPolicy": lambda w: {
        "input": {
            "name": fresh("pol"),
            "description": "d",
            "passCondition": "true",
            "failCondition": "false",
        }
    },
    "updatePromotionPolicy": lambda w: {
        "name": "shared-policy",
        "input": {
            "name": "shared-policy",
            "description": "d",
            "passCondition": "true",
            "failCondition": "false",
        },
    },
    "deletePromotionPolicy": lambda w: {"name": "blog-policy"},
    "applyPromotionPolicy": lambda w: {
        "policy": "shared-policy",
        "applicationEnvironments": [{"appName": "shop", "envName": "staging"}],
    },
    "applyPolicyManifest": lambda w: {"manifest": "apiVersion: v1\n"},
    "promoteImage": lambda w: {
        "imageId": global_id("Image", w.a_image),
        "targetEnvironments": ["prod"],
        "comment": "c",
        "source": {"type": Enum("ENVIRONMENT"), "environment": "staging"},
    },
    "approvePromotionRequests": lambda w: {
        "requestIds": [global_id("PromotionRequest", w.a_request)],
        "comment": "c",
    },
    "rejectPromotionRequests": lambda w: {
        "requestIds": [global_id("PromotionRequest", w.a_request)],
        "reason": "r",
    },
    "cancelPromotionRequest": lambda w: {"requestId": global_id("PromotionRequest", w.a_request)},
    "approveDeployment": lambda w: {
        "application": "shop",
        "environment": "dev",
        "imageId": global_id("Image", w.a_image),
    },
    "deployImage": lambda w: {
        "application": "shop",
        "environment": "dev",
        "imageId": global_id("Image", w.a_image),
    },
    "setGitTarget": lambda w: {
        "application": "shop",
        "environment": "dev",
        "gitTarget": {
            "repository": "https://git.example.com/shop/deploy.git",
            "branch": "main",
            "path": "dev/kustomization.yaml",
            "edit": Enum("KUSTOMIZE"),
            "image": "shop",
            "credential": "gitops",
        },
    },
    "rollbackDeployment": lambda w: {
        "application": "shop",
        "environment": "dev",
        "toImage": global_id("Image", w.a_image),
    },
    "retryOutboxJob": lambda w: {"id": global_id("OutboxJob", 1)},
    "resendNotifications": lambda w: {"ids": [global_id("Notification", 1)]},
    # A global address written as one: accepted without a DNS lookup, never called here.
    "createWebhookEndpoint": lambda w: {
        "input": {
            "name": fresh("hook"),
            "url": "http://93.184.215.14/hook",
            "eventTypes": ["dev.hoist.promotion.promoted"],
            "applications": ["shop"],
            "secret": "0123456789abcdef",
        }
    },
    "updateWebhookEndpoint": lambda w: {
        "name": "shop-hook",
        "input": {"url": "http://93.184.215.14/other", "applications": ["shop"]},
    },
    "deleteWebhookEndpoint": lambda w: {"name": "no-such-hook"},
    "redeliverWebhooks": lambda w: {"ids": [global_id("WebhookDelivery", 1)]},
    "createPromotionWindow": lambda w: {
        "input": {
            "name": fresh("win"),
            "kind": Enum("DENY"),
            "timeZone": "Europe/Berlin",
            "description": "d",
            "rrule": "FREQ=WEEKLY;BYDAY=FR",
            "duration": "8h",
            "startsAt": "2026-01-02T16:00",
            "dateRanges": [{"start": "2026-12-24", "end": "2027-01-02"}],
        }
    },
    "updatePromotionWindow": lambda w: {
        "name": "no-such-window",
        "input": {"description": "d", "timeZone": "UTC"},
    },
    "deletePromotionWindow": lambda w: {"name": "no-such-window"},
    "applyPromotionWindow": lambda w: {
        "window": "no-such-window",
        "applicationEnvironments": [{"appName": "shop", "envName": "prod"}],
    },
    "applyWindowManifest": lambda w: {"manifest": "apiVersion: v1\n"},
    "createSigningKey": lambda w: {"name": fresh("key"), "publicKey": Signer().public_pem},
    "deleteSigningKey": lambda w: {"name": "no-such-key"},
    "attachEvidence": lambda w: {
        "image": global_id("Image", w.a_image),
        "type": Enum("SBOM"),
        "document": "{}",
        "signature": "c2ln",
    },
}
# Mutations that delete or revoke by what the arguments name (never by a payload).
DELETES = {
    "revokeRole",
    "revokeApiToken",
    "deletePromotionPolicy",
    "applyPromotionPolicy",
    "deleteWebhookEndpoint",
    "deletePromotionWindow",
    "applyPromotionWindow",
    "deleteSigningKey",
}


def string_paths(fields: dict[str, Any], name: str) -> Iterator[tuple[str, ...]]:
    """Every String or ID argument of a field, as a path into its arguments."""
    for arg_name, arg in fields[name].args.items():
        for path, leaf in input_fields(arg.type):
            if leaf.name in ("String", "ID"):
                yield (arg_name, *path.split(".")) if path else (arg_name,)


def with_value(
    fields: dict[str, Any], name: str, args: dict[str, Any], path: tuple[str, ...], value: str
) -> dict[str, Any]:
    """`args` with `value` at `path`: in every item of a list on the way, and as a
    one-item list where the argument is a list."""
    result = json.loads(json.dumps(args))
    _restore_enums(result, args)
    arg_type = fields[name].args[path[0]].type
    if len(path) == 1:
        result[path[0]] = [value] if is_list(arg_type) else value
        return result
    container = result.setdefault(path[0], [{}] if is_list(arg_type) else {})
    for item in container if isinstance(container, list) else [container]:
        item[path[1]] = [value] if _leaf_is_list(arg_type, path[1:]) else value
    return result


def _leaf_is_list(type_: Any, path: tuple[str, ...]) -> bool:
    named = get_named_type(type_)
    for step in path[:-1]:
        named = get_named_type(named.fields[step].type)
    return is_list(named.fields[path[-1]].type)


def _restore_enums(copy: Any, original: Any) -> None:
    """json round-trips lose the Enum marker; put it back."""
    if isinstance(original, dict):
        for key, value in original.items():
            if isinstance(value, Enum):
                copy[key] = value
            else:
                _restore_enums(copy[key], value)
    elif isinstance(original, list):
        for i, value in enumerate(original):
            if isinstance(value, Enum):
                copy[i] = value
            else:
                _restore_enums(copy[i], value)


@pytest.mark.parametrize(
    ("fields", "table"), [(query_fields, QUERIES), (mutation_fields, MUTATIONS)]
)
def test_every_field_has_valid_arguments_to_probe(
    fields: Callable[[], dict[str, Any]], table: dict[str, Args]
) -> None:
    assert set(table) == set(fields()), "give new fields valid arguments in this file"
    world = TwoApps(admin="")
    for name, field in fields().items():
        required = {n for n, a in field.args.items() if isinstance(a.type, GraphQLNonNull)}
        assert required <= set(table[name](world)), name


def normalised(answer: Answer, value: str) -> Any:
    """The answer with echoes of `value` (as typed, lowercased, or quoted) made alike."""
    echoes = [
        re.compile(rf"(?<![\w.-]){re.escape(echo)}(?![\w.-])")
        for echo in sorted(
            {repr(value), repr(value.lower()), value, value.lower(), json.dumps(value)[1:-1]},
            key=len,
            reverse=True,
        )
    ]

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if k != "locations"}
        if isinstance(node, list):
            return [clean(v) for v in node]
        if isinstance(node, str):
            for echo in echoes:
                node = echo.sub("<value>", node)
        return node

    return clean(answer.body)


async def ask(gql: GraphQLClient, token: str, kind: str, name: str, args: dict[str, Any]) -> Answer:
    root = (query_fields() if kind == "query" else mutation_fields())[name]
    # Queries show what matched; of a mutation, its errors and outcomes are enough.
    depth = 4 if kind == "query" else 2
    document = document_within_cost(kind, name, args, root, depth)
    answer = await post(gql.http, token, document)
    assert problems(answer, json.dumps(args)) == [], (document, answer.text)
    return answer


@pytest.fixture
async def world(people: People, admin: str) -> TwoApps:
    return await build_two_apps(people, admin)


async def test_payloads_in_query_arguments_match_nothing(
    gql: GraphQLClient, world: TwoApps
) -> None:
    fields = query_fields()
    before = await snapshot()
    probed = 0
    for name, valid in QUERIES.items():
        for path in string_paths(fields, name):
            base = valid(world)
            nothing = await ask(
                gql, world.admin, "query", name, with_value(fields, name, base, path, NOTHING)
            )
            for payload in PAYLOADS:
                args = with_value(fields, name, base, path, payload)
                answer = await ask(gql, world.admin, "query", name, args)
                probed += 1
                if (name, path[0]) in NOT_LOOKUPS:
                    continue
                assert normalised(answer, payload) == normalised(nothing, NOTHING), (
                    f"{name} {'.'.join(path)}={payload!r} answers otherwise than a name "
                    f"that matches nothing:\n{answer.text[:500]}\n{nothing.text[:500]}"
                )
    assert probed > 100
    assert await snapshot() == before


async def test_wildcards_in_filters_are_literal(gql: GraphQLClient, world: TwoApps) -> None:
    """The control for the test above: these filters do match with real names."""
    for query, real, wild in [
        ("{{ auditLog(action: {!r}) {{ totalCount }} }}", "promotion.", "%."),
        ("{{ auditLog(action: {!r}) {{ totalCount }} }}", "role.granted", "role.grante_"),
        ("{{ auditLog(application: {!r}) {{ totalCount }} }}", "shop", "s%"),
        ("{{ promotionRequests(application: {!r}) {{ totalCount }} }}", "blog", "%"),
        ("{{ policyBindings(policy: {!r}) {{ appName }} }}", "shared-policy", "shared%"),
    ]:

        def run(value: str, query: str = query) -> str:
            return query.format(value).replace("'", '"')

        matched = (await post(gql.http, world.admin, run(real))).body["data"]
        widened = (await post(gql.http, world.admin, run(wild))).body["data"]
        assert matched != widened, (query, matched)
        assert next(iter(widened.values())) in ([], {"totalCount": 0}), (query, widened)


async def test_the_action_prefix_answers_alike_on_every_backend(
    gql: GraphQLClient, world: TwoApps
) -> None:
    """SQLite's LIKE ignored case where Postgres' did not: `PROMOTION.` matched only there."""
    counts = []
    for action in ("promotion.", "PROMOTION.", "Promotion.Requested", "promotion.requested"):
        data = (
            await post(
                gql.http, world.admin, f'{{ auditLog(action: "{action}") {{ totalCount }} }}'
            )
        ).body["data"]
        counts.append(data["auditLog"]["totalCount"])
    assert counts[0] == counts[1] > counts[2] == counts[3] > 0, counts


async def table_stats() -> dict[str, tuple[int, int]]:
    """(rows, highest id) of every table, in one statement."""
    tables = [m._meta.db_table for m in Tortoise.apps["hoist"].values()]
    sql = " UNION ALL ".join(
        f"SELECT '{t}' AS t, COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM \"{t}\""
        for t in tables
    )
    rows = await connections.get("default").execute_query_dict(sql)
    return {r["t"]: (int(r["n"]), int(r["top"])) for r in rows}


SUCCESSES = {"PROMOTING", "AWAITING_APPROVAL", "APPROVED", "REJECTED"}


def refused(answer: Answer) -> bool:
    if answer.errors:
        return True
    [payload] = answer.data.values()
    if "results" in payload:
        return all(r["outcome"] not in SUCCESSES for r in payload["results"])
    return bool(payload["errors"])


async def new_rows(before: dict[str, tuple[int, int]]) -> str:
    """Every row written since `before`, as JSON text."""
    written = []
    for model in Tortoise.apps["hoist"].values():
        top = before[model._meta.db_table][1]
        written += await model.filter(id__gt=top).values()
    return json.dumps(written, default=str)


async def test_payloads_in_mutation_arguments_are_only_data(
    gql: GraphQLClient, world: TwoApps
) -> None:
    fields = mutation_fields()
    stored = 0
    after = await table_stats()
    for name, valid in MUTATIONS.items():
        for path in string_paths(fields, name):
            for payload in PAYLOADS[:6]:
                args = with_value(fields, name, valid(world), path, payload)
                where = f"{name} {'.'.join(path)}={payload!r}"
                before = after
                answer = await ask(gql, world.admin, "mutation", name, args)
                after = await table_stats()
                assert after.keys() == before.keys(), f"{where}: a table went missing"
                if name not in DELETES:
                    shrunk = [t for t in after if after[t][0] < before[t][0]]
                    assert not shrunk, f"{where} deleted rows of {shrunk}"
                if refused(answer):
                    assert after == before, f"{where} was refused but wrote: {answer.text}"
                elif after != before:
                    text = await new_rows(before)
                    assert re.search(re.escape(json.dumps(payload)[1:-1]), text), (
                        f"{where} was accepted but the payload was not stored as given"
                    )
                    stored += 1
    assert stored >= 10, "too few payloads were accepted to show they are stored as data"

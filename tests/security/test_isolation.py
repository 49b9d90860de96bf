"""A user of one application reads and changes nothing of another, through any field (SPEC §2).

alice holds every role on `shop` and none on `blog` (tests/security/world.py). Every Query
field is called as alice with arguments naming blog's objects (its name, workflow, image,
requests, policy, users), selecting everything the field's type reaches. The answer must
hold nothing of blog — no text with "blog" in it and no id of a blog row under its type —
and must be the same answer as for objects that don't exist, so it does not even tell
that they do. As a super-admin, the same call does show blog's data: the check can fail.

Every Mutation field is tried as alice on blog's objects: it is refused (FORBIDDEN or
NOT_FOUND, whole or per item), answers as for a missing object, and writes nothing.

The probes are listed per field and the lists are checked against the schema, so a new
field or argument without a probe fails here until someone decides what it may show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.ids import decode, global_id
from tests.conftest import People
from tests.security.schema_walk import (
    Answer,
    Enum,
    document_within_cost,
    mutation_fields,
    post,
    problems,
    query_fields,
)
from tests.security.world import MARKER, TwoApps, build_two_apps, snapshot
from tests.support.graphql import GraphQLClient

GHOST_ROW = 999_999


class B(str):
    """An argument value naming one of blog's objects; `ghost` names nothing instead."""

    ghost: str

    def __new__(cls, value: object, ghost: str) -> B:
        made = super().__new__(cls, str(value))
        made.ghost = ghost
        return made


def gid(type_name: str, row: int) -> B:
    """Blog's row `row` of `type_name` by its global id; the ghost, a row of that type
    that does not exist (in the same format, so only existence differs)."""
    return B(global_id(type_name, row), global_id(type_name, GHOST_ROW))


def blog_nodes(w: TwoApps) -> list[B]:
    """One of blog's objects of every type (the image only, before the world is built)."""
    found = [gid("Image", w.b_image)]
    for type_name, ids in sorted(w.b_ids.items()):
        if type_name != "Image":
            found.append(B(min(ids), global_id(type_name, GHOST_ROW)))
    return found


APP = B("blog", "ghost-app")
WORKFLOW = B("blog-flow", "ghost-flow")
POLICY = B("blog-policy", "ghost-policy")
BOB = B("bob@blog.example", "nobody@example.com")
CI = {"type": Enum("CI")}
MANIFEST = (
    "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
    "    applicationEnvironments: [{{appName: {app}, envName: prod}}]\n"
    "    applyToPolicyName: shop-policy\n"
)


WINDOW = (
    "apiVersion: v1\nkind: promotionWindow\nspec:\n  window:\n    name: blog-freeze\n"
    "    kind: DENY\n    timeZone: UTC\n"
    "    dateRanges: [{{start: 2026-12-24, end: 2027-01-02}}]\n"
    "  payload:\n    applyToWindowName: blog-freeze\n"
    "    applicationEnvironments: [{{appName: {app}, envName: prod}}]\n"
)


def ghostly(value: Any) -> Any:
    """`value` with every reference to blog replaced by one to nothing."""
    if isinstance(value, B):
        return value.ghost
    if isinstance(value, list):
        return [ghostly(v) for v in value]
    if isinstance(value, dict):
        return {k: ghostly(v) for k, v in value.items()}
    return value


def references(value: Any) -> Iterator[B]:
    if isinstance(value, B):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from references(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from references(v)


@dataclass
class Probe:
    args: dict[str, Any]
    admin_sees_blog: bool = True  # the control: a super-admin's answer shows blog's data
    refusals: frozenset[str] = field(default_factory=lambda: frozenset({"FORBIDDEN", "NOT_FOUND"}))


def query_probes(w: TwoApps) -> dict[str, list[Probe]]:
    image = gid("Image", w.b_image)
    request, promoted = (
        gid("PromotionRequest", w.b_request),
        gid("PromotionRequest", w.b_promoted_request),
    )
    nodes = blog_nodes(w)
    return {
        "me": [Probe({}, admin_sees_blog=False)],
        # Super-admins only; a super-admin's list holds blog's people too.
        "users": [Probe({})],
        "applications": [Probe({})],
        "application": [Probe({"name": APP})],
        "environments": [Probe({}, admin_sees_blog=False)],
        "image": [Probe({"id": image})],
        # Every type's visibility rule: each of blog's objects by its id, then all at once.
        "node": [Probe({"id": node}) for node in nodes],
        "nodes": [Probe({"ids": nodes})],
        "promotionPolicies": [Probe({})],
        "promotionPolicy": [Probe({"name": POLICY})],
        "policyBindings": [
            Probe({}),
            Probe({"application": APP}),
            Probe({"policy": POLICY}),
            Probe({"environment": "dev"}),
        ],
        "validateCondition": [Probe({"expression": "containerImage == 1"}, admin_sees_blog=False)],
        "promotableImages": [
            Probe({"application": APP, "workflow": WORKFLOW, "source": CI}),
            Probe(
                {
                    "application": APP,
                    "workflow": WORKFLOW,
                    "source": {"type": Enum("ENVIRONMENT"), "environment": "dev"},
                }
            ),
        ],
        "promotionTargets": [Probe({"application": APP, "workflow": WORKFLOW})],
        "promotionPreview": [
            Probe(
                {
                    "imageId": gid("Image", w.b_fresh_image),
                    "source": CI,
                    "targetEnvironments": ["prod", "dev"],
                }
            )
        ],
        "pendingApprovals": [
            Probe({}),
            Probe({"pendingWithMe": False}),
            Probe({"application": APP, "pendingWithMe": False}),
            Probe({"workflow": WORKFLOW, "pendingWithMe": False}),
            Probe({"targetEnvironment": "prod", "pendingWithMe": False}),
        ],
        "promotionRequests": [
            Probe({}),
            Probe({"application": APP}),
            Probe({"status": [Enum("AWAITING_APPROVAL"), Enum("PROMOTED")]}),
        ],
        "promotionRequest": [Probe({"id": request}), Probe({"id": promoted})],
        "deployableImages": [
            Probe({"application": APP, "environment": "prod"}),
            Probe({"application": APP, "environment": "dev"}),
        ],
        "deploymentHistory": [
            Probe({"application": APP}),
            Probe({"application": APP, "environment": "prod"}),
        ],
        "deliveryInsights": [
            Probe(
                {
                    "application": APP,
                    "environment": "prod",
                    "from": "2026-01-01T00:00:00Z",
                    "to": "2027-01-01T00:00:00Z",
                }
            )
        ],
        "notifications": [Probe({}), Probe({"state": Enum("PENDING")}, admin_sees_blog=False)],
        "auditLog": [
            Probe({}),
            Probe({"application": APP}),
            Probe({"actor": BOB}),
            Probe({"action": "promotion."}),
        ],
        # Super-admins only; jobs hold ids and task names, nothing of an application.
        "outboxJobs": [Probe({"state": Enum("DEAD")}, admin_sees_blog=False)],
        # Super-admins only; the two applications' world has no webhook or window.
        "webhookEventTypes": [Probe({}, admin_sees_blog=False)],
        "webhookEndpoints": [Probe({}, admin_sees_blog=False)],
        "webhookDeliveries": [
            Probe({"endpoint": "blog-hook", "state": Enum("FAILED")}, admin_sees_blog=False)
        ],
        # Public keys, not of any application.
        "signingKeys": [Probe({}, admin_sees_blog=False)],
        "promotionWindows": [Probe({}, admin_sees_blog=False)],
        "promotionWindow": [Probe({"name": "blog-freeze"}, admin_sees_blog=False)],
        "windowBindings": [
            Probe(
                {"application": APP, "environment": "prod", "window": "blog-freeze"},
                admin_sees_blog=False,
            )
        ],
    }


def mutation_probes(w: TwoApps) -> dict[str, list[Probe]]:
    image, request = gid("Image", w.b_image), gid("PromotionRequest", w.b_request)
    viewer = Enum("VIEWER")
    return {
        "createUser": [
            Probe({"input": {"email": "eve@blog.example", "name": "eve", "superAdmin": True}})
        ],
        "grantRole": [
            Probe(
                {
                    "email": "alice@example.com",
                    "role": viewer,
                    "application": APP,
                    "environment": "*",
                }
            )
        ],
        "revokeRole": [
            Probe(
                {"email": BOB, "role": Enum("BUILD_DEPLOY"), "application": APP, "environment": "*"}
            )
        ],
        "createApiToken": [
            Probe({"name": "stolen", "email": BOB, "expiresAt": "2099-01-01T00:00:00Z"})
        ],
        "revokeApiToken": [Probe({"id": gid("ApiToken", w.b_token)})],
        "createApplication": [Probe({"name": "blog-two"})],
        "createEnvironment": [Probe({"name": "blog-env", "production": True})],
        "createWorkflow": [
            Probe(
                {
                    "input": {
                        "application": APP,
                        "name": "w2",
                        "ciPipeline": "c",
                        "cdPipelines": [{"environment": "dev"}],
                    }
                }
            )
        ],
        "registerImage": [
            Probe(
                {
                    "input": {
                        "application": APP,
                        "workflow": WORKFLOW,
                        "image": "registry.example.com/x:9",
                        "digest": "sha256:1",
                        "labels": ["x"],
                        "gitCommits": [{"repo": "r"}],
                        "builtBy": BOB,
                    }
                }
            ),
            Probe(
                {
                    "input": {
                        "application": "shop",
                        "workflow": WORKFLOW,
                        "image": "registry.example.com/x:9",
                    }
                }
            ),
        ],
        "recordStageResult": [
            Probe(
                {
                    "input": {
                        "imageId": image,
                        "environment": "dev",
                        "stage": Enum("DEPLOY"),
                        "status": Enum("FAILED"),
                    }
                }
            )
        ],
        "createPromotionPolicy": [Probe({"input": {"name": "blog-steal"}})],
        "updatePromotionPolicy": [
            Probe({"name": POLICY, "input": {"approverCount": 0}}),
            Probe({"name": POLICY, "input": {"approverCount": 0}, "ifVersion": 1}),
        ],
        "deletePromotionPolicy": [Probe({"name": POLICY})],
        "applyPromotionPolicy": [
            Probe(
                {
                    "policy": "shop-policy",
                    "applicationEnvironments": [{"appName": APP, "envName": "prod"}],
                }
            )
        ],
        "applyPolicyManifest": [
            Probe({"manifest": B(MANIFEST.format(app="blog"), MANIFEST.format(app="ghost-app"))})
        ],
        "promoteImage": [
            Probe(
                {
                    "imageId": image,
                    "source": CI,
                    "targetEnvironments": ["prod"],
                    "comment": "mine now",
                }
            ),
            Probe(
                {
                    "imageId": image,
                    "source": CI,
                    "targetEnvironments": ["prod"],
                    "breakGlass": {"reason": "mine now, through the freeze"},
                }
            ),
        ],
        "approvePromotionRequests": [Probe({"requestIds": [request], "comment": "ok"})],
        "rejectPromotionRequests": [Probe({"requestIds": [request], "reason": "no"})],
        "cancelPromotionRequest": [Probe({"requestId": request})],
        "approveDeployment": [
            Probe({"application": APP, "environment": "prod", "imageId": image}),
            Probe({"application": "shop", "environment": "prod", "imageId": image}),
        ],
        "deployImage": [
            Probe({"application": APP, "environment": "prod", "imageId": image}),
            Probe({"application": "shop", "environment": "prod", "imageId": image}),
        ],
        # Super-admins only: refused whole, whatever the pair.
        "setGitTarget": [
            Probe(
                {
                    "application": APP,
                    "environment": "prod",
                    "gitTarget": {
                        "repository": "/srv/git/deploy.git",
                        "branch": "main",
                        "path": "values.yaml",
                        "edit": Enum("HELM_VALUES"),
                        "key": "image.tag",
                    },
                }
            )
        ],
        "rollbackDeployment": [
            Probe({"application": APP, "environment": "prod", "toImage": image}),
            Probe({"application": "shop", "environment": "prod", "toImage": image}),
        ],
        # Super-admins only: refused whole, whatever the ids name.
        "retryOutboxJob": [Probe({"id": global_id("OutboxJob", 1)})],
        "resendNotifications": [Probe({"ids": [global_id("Notification", 1)]})],
        # Super-admins only: webhooks and promotion windows are refused whole.
        "createWebhookEndpoint": [
            Probe(
                {
                    "input": {
                        "name": "blog-hook",
                        "url": "http://93.184.215.14/hook",
                        "applications": [APP],
                    }
                }
            )
        ],
        "updateWebhookEndpoint": [
            Probe({"name": "blog-hook", "input": {"applications": [APP], "active": True}})
        ],
        "deleteWebhookEndpoint": [Probe({"name": "blog-hook"})],
        "redeliverWebhooks": [Probe({"ids": [global_id("WebhookDelivery", 1)]})],
        "createPromotionWindow": [
            Probe(
                {
                    "input": {
                        "name": "blog-freeze",
                        "kind": Enum("DENY"),
                        "timeZone": "UTC",
                        "dateRanges": [{"start": "2026-12-24", "end": "2027-01-02"}],
                    }
                }
            )
        ],
        "updatePromotionWindow": [Probe({"name": "blog-freeze", "input": {"description": "x"}})],
        "deletePromotionWindow": [Probe({"name": "blog-freeze"})],
        "applyPromotionWindow": [
            Probe(
                {
                    "window": "blog-freeze",
                    "applicationEnvironments": [{"appName": APP, "envName": "prod"}],
                    "remove": False,
                }
            )
        ],
        "applyWindowManifest": [
            Probe({"manifest": B(WINDOW.format(app="blog"), WINDOW.format(app="ghost-app"))})
        ],
        # Super-admins only: refused whole.
        "createSigningKey": [
            Probe({"name": "blog-key", "publicKey": "-----BEGIN PUBLIC KEY-----"})
        ],
        "deleteSigningKey": [Probe({"name": "blog-key"})],
        # Blog's image is not found for alice, as an image that does not exist.
        "attachEvidence": [
            Probe({"image": image, "type": Enum("SBOM"), "document": "{}", "signature": "c2ln"})
        ],
    }


PAGING = {"first", "after"}  # the same for every list; probed by the fuzz tests


@pytest.mark.parametrize(
    ("fields", "probes"), [(query_fields, query_probes), (mutation_fields, mutation_probes)]
)
def test_every_field_and_argument_has_a_probe(
    fields: Callable[[], dict[str, Any]], probes: Callable[[TwoApps], dict[str, list[Probe]]]
) -> None:
    listed = probes(TwoApps(admin="", b_image=1, b_request=2, b_promoted_request=3, b_token=4))
    assert set(listed) == set(fields()), "add probes for new fields to this file"
    for name, schema_field in fields().items():
        probed = {arg for probe in listed[name] for arg in probe.args}
        assert set(schema_field.args) - PAGING <= probed, f"{name}: probe every argument"


# ------------------------------------------------------------------- judging answers


def blog_leaks(
    node: Any, b_ids: dict[str, set[str]], skip: frozenset[str] = frozenset()
) -> list[str]:
    """Where blog's data shows in an answer's data: its marker in text, or one of its
    row ids under the GraphQL type of that row. Keys in `skip` hold echoes of the input."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            typename = value.get("__typename")
            if typename in b_ids and str(value.get("id")) in b_ids[typename]:
                found.append(f"{path}: {typename} {value.get('id')}")
            if (
                value.get("requestId") is not None
                and typename == "PromotedFrom"
                and str(value["requestId"]) in b_ids["PromotionRequest"]
            ):
                found.append(f"{path}: PromotedFrom.requestId {value['requestId']}")
            for key, item in value.items():
                if key not in skip:
                    walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, str) and MARKER in value.lower():
            found.append(f"{path}: {value[:80]!r}")

    walk(node, "data")
    return found


def normalised(answer: Answer, args: dict[str, Any]) -> Any:
    """The answer with echoes of the arguments (blog's or the ghost's) made alike, and
    without error locations (argument lengths shift them)."""
    swaps = []
    for ref in references(args):
        for value in (str(ref), ref.ghost):
            swaps += [repr(value), value]
            # Some messages name the row id inside a global id ("no image with id 4"):
            # an echo of the argument too, for blog's row and the ghost's alike.
            if (decoded := decode(value)) is not None:
                swaps.append(str(decoded[1]))
    swaps.sort(key=len, reverse=True)

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k != "locations"}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            for swap in swaps:
                value = re.sub(rf"(?<![\w.-]){re.escape(swap)}(?![\w.-])", "<ref>", value)
        return value

    return clean(answer.body)


def codes(answer: Answer) -> set[str]:
    """Every refusal in an answer: top-level error codes, payload error codes, outcomes."""
    found = {str((e.get("extensions") or {}).get("code")) for e in answer.errors}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "code" in value:
                found.add(str(value["code"]))
            if "outcome" in value:
                found.add(str(value["outcome"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answer.data)
    return found


@pytest.fixture
async def world(people: People, admin: str) -> TwoApps:
    return await build_two_apps(people, admin)


async def ask(
    gql: GraphQLClient, token: str, kind: str, name: str, args: dict[str, Any], root: Any
) -> Answer:
    document = document_within_cost(kind, name, args, root, 7)
    answer = await post(gql.http, token, document)
    assert problems(answer, json.dumps(args)) == [], (document, answer.text)
    return answer


async def test_no_query_shows_another_applications_data(gql: GraphQLClient, world: TwoApps) -> None:
    alice = world.tokens["alice"]
    roots = query_fields()
    before = await snapshot()
    for name, probes in query_probes(world).items():
        for probe in probes:
            where = f"{name}({probe.args})"
            answer = await ask(gql, alice, "query", name, probe.args, roots[name])
            assert blog_leaks(answer.data, world.b_ids) == [], where
            assert codes(answer) <= probe.refusals, (where, answer.text)
            ghost = await ask(gql, alice, "query", name, ghostly(probe.args), roots[name])
            assert normalised(answer, probe.args) == normalised(ghost, probe.args), (
                f"{where} answers otherwise than for objects that don't exist:\n"
                f"{answer.text[:600]}\n{ghost.text[:600]}"
            )
            # The control: the very same call shows blog's data to a super-admin.
            seen = await ask(gql, world.admin, "query", name, probe.args, roots[name])
            assert bool(blog_leaks(seen.data, world.b_ids)) == probe.admin_sees_blog, (
                where,
                seen.text[:600],
            )
    assert await snapshot() == before


async def test_a_user_of_both_applications_shows_only_the_shared_one(
    gql: GraphQLClient, world: TwoApps
) -> None:
    """`both` holds roles on shop and blog; alice sees them as an approver of shop's
    request, never their role on blog."""
    request = global_id("PromotionRequest", world.a_request)
    data = (
        await post(
            gql.http,
            world.tokens["alice"],
            f"""{{ promotionRequest(id:
        "{request}") {{ image {{ builtBy {{ email roles {{ application }} }} }}
        }} }}""",
        )
    ).body["data"]
    assert data["promotionRequest"]["image"]["builtBy"] == {
        "email": "both@example.com",
        "roles": [{"application": "shop"}],
    }


async def test_no_mutation_touches_another_applications_data(
    gql: GraphQLClient, world: TwoApps
) -> None:
    alice = world.tokens["alice"]
    roots = mutation_fields()
    for name, probes in mutation_probes(world).items():
        for probe in probes:
            where = f"{name}({probe.args})"
            before = await snapshot()
            answer = await ask(gql, alice, "mutation", name, probe.args, roots[name])
            assert await snapshot() == before, f"{where} wrote something"
            found = codes(answer)
            assert found and found <= probe.refusals, (where, answer.text)
            assert blog_leaks(answer.data, world.b_ids, skip=frozenset({"message"})) == [], (
                where,
                answer.text,
            )
            ghost = await ask(gql, alice, "mutation", name, ghostly(probe.args), roots[name])
            assert await snapshot() == before, f"{where} (ghost) wrote something"
            assert normalised(answer, probe.args) == normalised(ghost, probe.args), (
                f"{where} answers otherwise than for objects that don't exist:\n"
                f"{answer.text[:600]}\n{ghost.text[:600]}"
            )

"""Every free-text field and every input list is bounded (issue 11 item 6, SPEC §8).

The tables below are checked against the schema itself: a new list argument, or a new
String argument that is neither in TEXTS nor a LOOKUP, fails `test_every_*` until it has a
limit (in app/limits.py, written in its description) and a case here showing the value at
the limit accepted and one over refused with VALIDATION naming the field, nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    get_named_type,
)

from app import limits
from app.accounts.access import SYSTEM
from app.catalog import service as catalog
from app.db import unit_of_work
from app.graphql.schema import schema
from app.ids import global_id
from app.supplychain.keys import MAX_PEM
from app.supplychain.signatures import MAX_SIGNATURE
from app.windows import service as windows
from app.windows.calendar import WindowKind
from tests.conftest import People
from tests.policies.helpers import row_counts
from tests.promotions.world import CI, PROMOTE, World, build_world
from tests.supplychain.kit import (
    ATTACH,
    CREATE_KEY,
    SAMPLE_DIGEST,
    Signer,
    image_with_digest,
    sample,
    simple_signing,
)
from tests.support.graphql import GraphQLClient

GRAPHQL = schema._schema

# Every list argument or list input field, and its maximum number of items.
LISTS: dict[str, int] = {
    "Mutation.promoteImage(targetEnvironments:)": limits.MAX_ITEMS,
    "Query.promotionPreview(targetEnvironments:)": limits.MAX_ITEMS,
    "Mutation.approvePromotionRequests(requestIds:)": limits.MAX_ITEMS,
    "Mutation.rejectPromotionRequests(requestIds:)": limits.MAX_ITEMS,
    "Mutation.applyPromotionPolicy(applicationEnvironments:)": limits.MAX_ITEMS,
    "Query.promotionRequests(status:)": limits.MAX_ITEMS,
    "CreateWorkflowInput.cdPipelines": limits.MAX_ITEMS,
    "RegisterImageInput.labels": limits.MAX_ITEMS,
    "RegisterImageInput.gitCommits": limits.MAX_ITEMS,
    "Mutation.resendNotifications(ids:)": 100,
    "Query.nodes(ids:)": limits.MAX_ITEMS,
    "Mutation.applyPromotionWindow(applicationEnvironments:)": limits.MAX_ITEMS,
    "PromotionWindowInput.dateRanges": limits.MAX_ITEMS,
    "PromotionWindowPatch.dateRanges": limits.MAX_ITEMS,
    "WebhookEndpointInput.eventTypes": limits.MAX_ITEMS,
    "WebhookEndpointInput.applications": limits.MAX_ITEMS,
    "WebhookEndpointPatch.eventTypes": limits.MAX_ITEMS,
    "WebhookEndpointPatch.applications": limits.MAX_ITEMS,
    "Mutation.redeliverWebhooks(ids:)": limits.MAX_ITEMS,
}
# Lists whose limit is the domain's own, stated in the mutation's description and tested
# with the domain (a case here would need 100 failed emails).
ELSEWHERE = {"Mutation.resendNotifications(ids:)", "Mutation.redeliverWebhooks(ids:)"}

# Every free-text String a client sends to be stored or evaluated, and its maximum length.
TEXTS: dict[str, int] = {
    "Mutation.promoteImage(comment:)": limits.COMMENT,
    "Mutation.approvePromotionRequests(comment:)": limits.COMMENT,
    "Mutation.rejectPromotionRequests(reason:)": limits.REASON,
    "Mutation.createApplication(name:)": limits.NAME,
    "Mutation.createEnvironment(name:)": limits.NAME,
    "Mutation.createApiToken(name:)": limits.TOKEN_NAME,
    "CreateUserInput.email": limits.EMAIL,
    "CreateUserInput.name": limits.USER_NAME,
    "CreateWorkflowInput.name": limits.NAME,
    "CreateWorkflowInput.ciPipeline": limits.CI_PIPELINE,
    "CdPipelineInput.filterPassCondition": limits.CONDITION,
    "CdPipelineInput.filterFailCondition": limits.CONDITION,
    "GitTargetInput.repository": limits.GIT_REPO,
    "GitTargetInput.branch": limits.GIT_BRANCH,
    "GitTargetInput.path": limits.GIT_PATH,
    "GitTargetInput.image": limits.IMAGE,
    "GitTargetInput.key": limits.GIT_KEY,
    "GitTargetInput.container": limits.NAME,
    "GitTargetInput.credential": limits.NAME,
    "RegisterImageInput.image": limits.IMAGE,
    "RegisterImageInput.digest": limits.DIGEST,
    "GitCommitInput.repo": limits.GIT_REPO,
    "GitCommitInput.branch": limits.GIT_BRANCH,
    "GitCommitInput.commitHash": limits.GIT_COMMIT_HASH,
    "GitCommitInput.commitMessage": limits.GIT_COMMIT_MESSAGE,
    "GitCommitInput.author": limits.GIT_AUTHOR,
    "PromotionPolicyInput.name": limits.NAME,
    "PromotionPolicyInput.description": limits.DESCRIPTION,
    "PromotionPolicyInput.passCondition": limits.CONDITION,
    "PromotionPolicyInput.failCondition": limits.CONDITION,
    "PromotionPolicyPatch.name": limits.NAME,
    "PromotionPolicyPatch.description": limits.DESCRIPTION,
    "PromotionPolicyPatch.passCondition": limits.CONDITION,
    "PromotionPolicyPatch.failCondition": limits.CONDITION,
    "PromotionPolicyInput.requestTimeout": limits.DURATION,
    "PromotionPolicyInput.approvalMaxAge": limits.DURATION,
    "PromotionPolicyInput.remindAfter": limits.DURATION,
    "PromotionPolicyPatch.requestTimeout": limits.DURATION,
    "PromotionPolicyPatch.approvalMaxAge": limits.DURATION,
    "PromotionPolicyPatch.remindAfter": limits.DURATION,
    "Query.validateCondition(expression:)": limits.CONDITION,
    "BreakGlassInput.reason": limits.REASON,
    "PromotionWindowInput.name": limits.NAME,
    "PromotionWindowInput.description": limits.DESCRIPTION,
    "PromotionWindowInput.rrule": limits.RRULE,
    "PromotionWindowInput.duration": limits.DURATION,
    "PromotionWindowInput.startsAt": limits.LOCAL_TIME,
    "PromotionWindowPatch.name": limits.NAME,
    "PromotionWindowPatch.description": limits.DESCRIPTION,
    "PromotionWindowPatch.rrule": limits.RRULE,
    "PromotionWindowPatch.duration": limits.DURATION,
    "PromotionWindowPatch.startsAt": limits.LOCAL_TIME,
    "WindowDateRangeInput.start": limits.LOCAL_TIME,
    "WindowDateRangeInput.end": limits.LOCAL_TIME,
    "WebhookEndpointInput.name": limits.NAME,
    "WebhookEndpointInput.url": limits.URL,
    "WebhookEndpointInput.secret": limits.WEBHOOK_SECRET,
    "WebhookEndpointPatch.url": limits.URL,
    "Mutation.createSigningKey(name:)": limits.NAME,
    "Mutation.createSigningKey(publicKey:)": MAX_PEM,
    "Mutation.attachEvidence(signature:)": MAX_SIGNATURE,
}

# Strings that name something that exists (an application, an environment, a user's email,
# a policy, a cursor...): never stored, only looked up, so a long one finds nothing (or is
# refused by the column's own length) and costs no more than a short one.
LOOKUPS: set[str] = {
    "Query.application(name:)",
    "Query.promotionPolicy(name:)",
    "Query.policyBindings(application:)",
    "Query.policyBindings(environment:)",
    "Query.policyBindings(policy:)",
    "Query.promotableImages(application:)",
    "Query.promotableImages(workflow:)",
    "Query.promotionTargets(application:)",
    "Query.promotionTargets(workflow:)",
    "Query.pendingApprovals(application:)",
    "Query.pendingApprovals(targetEnvironment:)",
    "Query.pendingApprovals(workflow:)",
    "Query.promotionRequests(application:)",
    "Query.deployableImages(application:)",
    "Query.deployableImages(environment:)",
    "Query.deploymentHistory(application:)",
    "Query.deploymentHistory(environment:)",
    "Query.deliveryInsights(application:)",
    "Query.deliveryInsights(environment:)",
    "Query.auditLog(application:)",
    "Query.auditLog(actor:)",
    "Query.auditLog(action:)",
    "Mutation.grantRole(email:)",
    "Mutation.grantRole(application:)",
    "Mutation.grantRole(environment:)",
    "Mutation.revokeRole(email:)",
    "Mutation.revokeRole(application:)",
    "Mutation.revokeRole(environment:)",
    "Mutation.createApiToken(email:)",
    "Mutation.updatePromotionPolicy(name:)",
    "Mutation.deletePromotionPolicy(name:)",
    "Mutation.applyPromotionPolicy(policy:)",
    "Mutation.approveDeployment(application:)",
    "Mutation.approveDeployment(environment:)",
    "Mutation.deployImage(application:)",
    "Mutation.deployImage(environment:)",
    "Mutation.setGitTarget(application:)",
    "Mutation.setGitTarget(environment:)",
    "Mutation.rollbackDeployment(application:)",
    "Mutation.rollbackDeployment(environment:)",
    "ImageSourceInput.environment",
    "CreateWorkflowInput.application",
    "CdPipelineInput.environment",
    "CdPipelineInput.parentEnvironment",
    "RegisterImageInput.application",
    "RegisterImageInput.workflow",
    "RegisterImageInput.builtBy",
    "StageResultInput.environment",
    "AppEnvInput.appName",
    "AppEnvInput.envName",
    "Query.promotionWindow(name:)",
    "Query.windowBindings(application:)",
    "Query.windowBindings(environment:)",
    "Query.windowBindings(window:)",
    "Mutation.updatePromotionWindow(name:)",
    "Mutation.deletePromotionWindow(name:)",
    "Mutation.applyPromotionWindow(window:)",
    # An IANA zone's name, looked up in tzdata before it is stored (and bounded first).
    "PromotionWindowInput.timeZone",
    "PromotionWindowPatch.timeZone",
    "Query.webhookDeliveries(endpoint:)",
    "Mutation.updateWebhookEndpoint(name:)",
    "Mutation.deleteWebhookEndpoint(name:)",
    "Mutation.deleteSigningKey(name:)",
}
# `after` cursors of every connection are lookups too (decoded, then compared to ids).
CURSOR = "(after:)"
# Texts bounded in UTF-8 bytes (read by PyYAML, whose speed is per byte).
BYTES = {
    "Mutation.applyPolicyManifest(manifest:)": limits.MANIFEST_BYTES,
    "Mutation.applyWindowManifest(manifest:)": limits.MANIFEST_BYTES,
    "Mutation.attachEvidence(document:)": limits.EVIDENCE_BYTES,
}


def _inputs() -> dict[str, GraphQLArgument | GraphQLInputField]:
    """Every argument of a root field and every input object field, by coordinate."""
    found: dict[str, GraphQLArgument | GraphQLInputField] = {}
    for root in (GRAPHQL.query_type, GRAPHQL.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                found[f"{root.name}.{name}({arg_name}:)"] = arg
    for type_name, type_ in GRAPHQL.type_map.items():
        if isinstance(type_, GraphQLInputObjectType) and not type_name.startswith("__"):
            for name, input_field in type_.fields.items():
                found[f"{type_name}.{name}"] = input_field
    return found


def _description(coordinate: str, item: GraphQLArgument | GraphQLInputField) -> str:
    """The item's description, and for an argument its field's too (where the limit of an
    argument that the field's sentence already explains may be)."""
    texts = [item.description or ""]
    root, _, rest = coordinate.partition(".")
    if rest.endswith(":)") and root in ("Query", "Mutation"):
        parent = GRAPHQL.get_type(root)
        texts.append(parent.fields[rest.partition("(")[0]].description or "")  # type: ignore[union-attr]
    return " ".join(texts)


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _is_list(item: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(_nullable(item.type), GraphQLList)


def _is_string(item: GraphQLArgument | GraphQLInputField) -> bool:
    return not _is_list(item) and get_named_type(item.type).name == "String"


def test_every_list_argument_is_bounded_and_says_so() -> None:
    lists = {c: item for c, item in _inputs().items() if _is_list(item)}
    assert set(lists) - set(LISTS) == set(), "a list argument without a limit"
    assert set(LISTS) - set(lists) == set(), "a limit for a list the schema no longer has"
    for coordinate, max_items in LISTS.items():
        described = _description(coordinate, lists[coordinate])
        assert f"At most {max_items} items" in described or (
            coordinate in ELSEWHERE and f"-{max_items} " in described
        ), coordinate


def test_every_string_argument_is_bounded_or_a_lookup() -> None:
    strings = {c: item for c, item in _inputs().items() if _is_string(item)}
    unclassified = {
        c
        for c in strings
        if c not in TEXTS and c not in LOOKUPS and c not in BYTES and not c.endswith(CURSOR)
    }
    assert unclassified == set(), "a String argument with no limit: add it to TEXTS or LOOKUPS"
    assert set(TEXTS) - set(strings) == set() and LOOKUPS - set(strings) == set()
    for coordinate, max_len in TEXTS.items():
        assert f"At most {max_len} characters" in (
            strings[coordinate].description or ""
        ) or f"-{max_len} characters" in (strings[coordinate].description or ""), coordinate
    for coordinate, max_bytes in BYTES.items():
        assert f"At most {max_bytes} bytes" in (strings[coordinate].description or "")


# --- Behaviour: at the limit accepted, one over refused, nothing written --------------------

PREVIEW = """query($image: ID!, $targets: [String!]!) {
  promotionPreview(imageId: $image, source: {type: CI}, targetEnvironments: $targets) {
    environment outcome } }"""
DECIDE = """mutation($ids: [ID!]!, $comment: String, $reason: String!, $approve: Boolean!) {
  approvePromotionRequests(requestIds: $ids, comment: $comment) @include(if: $approve) {
    results { outcome } errors { code field message } }
  rejectPromotionRequests(requestIds: $ids, reason: $reason) @skip(if: $approve) {
    results { outcome } errors { code field message } } }"""
REQUESTS = """query($status: [PromotionStatus!]) {
  promotionRequests(status: $status) { edges { node { id } } } }"""
REGISTER = """mutation($input: RegisterImageInput!) {
  registerImage(input: $input) { image { id } errors { code field message } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id } errors { code field message } } }"""
CREATE_TOKEN = """mutation($name: String!) {
  createApiToken(name: $name) { token errors { code field message } } }"""
CREATE_APPLICATION = """mutation($name: String!) {
  createApplication(name: $name) { application { id } errors { code field message } } }"""
CREATE_ENVIRONMENT = """mutation($name: String!) {
  createEnvironment(name: $name) { environment { id } errors { code field message } } }"""
CREATE_WORKFLOW = """mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { workflow { id } errors { code field message } } }"""
CREATE_POLICY = """mutation($input: PromotionPolicyInput!) {
  createPromotionPolicy(input: $input) { policy { id } errors { code field message } } }"""
UPDATE_POLICY = """mutation($input: PromotionPolicyPatch!) {
  updatePromotionPolicy(name: "existing", input: $input) {
    policy { version } errors { code field message } } }"""
APPLY = """mutation($pairs: [AppEnvInput!]!) {
  applyPromotionPolicy(policy: "existing", applicationEnvironments: $pairs) {
    bindings { envName } errors { code field message } } }"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CREATE_HOOK = """mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { id } errors { code field message } } }"""
UPDATE_HOOK = """mutation($input: WebhookEndpointPatch!) {
  updateWebhookEndpoint(name: "existing-hook", input: $input) {
    endpoint { id } errors { code field message } } }"""
# A global address written as one: accepted without a DNS lookup (nothing is sent to it).
PUBLIC_HOOK = "http://93.184.215.14/"
VALIDATE = "query($e: String!) { validateCondition(expression: $e) }"
CREATE_WINDOW = """mutation($input: PromotionWindowInput!) {
  createPromotionWindow(input: $input) { window { name } errors { code field message } } }"""
UPDATE_WINDOW = """mutation($input: PromotionWindowPatch!) {
  updatePromotionWindow(name: "existing-window", input: $input) {
    window { name } errors { code field message } } }"""
APPLY_WINDOW = """mutation($pairs: [AppEnvInput!]!) {
  applyPromotionWindow(window: "existing-window", applicationEnvironments: $pairs) {
    bindings { envName } errors { code field message } } }"""
APPLY_WINDOW_MANIFEST = """mutation($m: String!) {
  applyWindowManifest(manifest: $m) { bindings { envName } errors { code field message } } }"""
APPLY_MANIFEST = """mutation($m: String!) {
  applyPolicyManifest(manifest: $m) { bindings { envName } errors { code field message } } }"""


def manifest(pairs: int = 1, size: int | None = None) -> str:
    """A policy manifest applying `existing` to shop/prod `pairs` times, padded with a
    comment to `size` UTF-8 bytes."""
    text = (
        "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
        "    applyToPolicyName: existing\n    applicationEnvironments:\n"
        + "      - appName: shop\n        envName: prod\n"
        * pairs
    )
    if size is not None:
        text += "#" + "x" * (size - len(text.encode()) - 2) + "\n"
        assert len(text.encode()) == size
    return text


def window_manifest(pairs: int = 1, size: int | None = None) -> str:
    """A window manifest applying `existing-window` to shop/prod `pairs` times, padded with
    a comment to `size` UTF-8 bytes."""
    text = (
        "apiVersion: v1\nkind: promotionWindow\nspec:\n  payload:\n"
        "    applyToWindowName: existing-window\n    applicationEnvironments:\n"
        + "      - appName: shop\n        envName: prod\n"
        * pairs
    )
    if size is not None:
        text += "#" + "x" * (size - len(text.encode()) - 2) + "\n"
        assert len(text.encode()) == size
    return text


def _window(query: str, field: str, make: Callable[[int], Any]) -> Send:
    """A window input with `field` made for the size; the other fields a valid window's."""

    def variables(s: Setting, n: int) -> dict[str, Any]:
        values: dict[str, Any] = {field: make(n)}
        if query is CREATE_WINDOW:
            base = {
                "name": f"window-{n}",
                "kind": "DENY",
                "timeZone": "Europe/Paris",
                "rrule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16",
                "duration": "64h",
            }
            values = {**base, **values}
        if field == "rrule":
            values["duration"] = "1h"
        if field == "duration":
            values["rrule"] = "FREQ=WEEKLY;BYDAY=FR"
        return {"input": values}

    return _gql(query, "admin", variables)


def _rrule(n: int) -> str:
    """A valid RRULE exactly `n` characters long (BYHOUR=0...01)."""
    head = "FREQ=DAILY;BYHOUR="
    return head + "0" * (n - len(head) - 1) + "1"


def _local(n: int) -> str:
    """A local date-time exactly `n` characters long (leading blanks are stripped)."""
    return " " * (n - 26) + "2026-01-01T00:00:00.000000"


def refusals(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, field) of every top-level error and every payload's `errors` entry."""
    found = [
        (e.get("extensions", {}).get("code"), e.get("extensions", {}).get("field"))
        for e in body.get("errors") or []
    ]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "errors" and isinstance(inner, list):
                    found.extend((e["code"], e["field"]) for e in inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(body.get("data"))
    return found


def condition(length: int) -> str:
    """A CEL condition that may be saved, exactly `length` characters long."""
    text = "'" + "a" * (length - 8) + "' != ''"
    assert len(text) == length
    return text


@dataclass
class Setting:
    """What a case needs from the world: an image and a request awaiting approval."""

    world: World
    image: str  # global ids, as the cases send them
    request: str


Send = Callable[[Setting, int], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    coordinate: str
    limit: int
    field: str  # the field the refusal names
    send: Send  # sends a value of the given size, answers the response body
    prepare: Callable[[Setting], Awaitable[None]] | None = None  # before the accepted one
    code: str = "VALIDATION"  # the refusal's code


def _promote(token: str, targets: list[str], comment: str | None = None) -> Send:
    async def send(s: Setting, _: int) -> dict[str, Any]:
        return await s.world.gql.raw(
            PROMOTE,
            {"image": s.image, "source": CI, "targets": targets, "comment": comment},
            token=s.world.tokens[token],
        )

    return send


def _gql(query: str, token: str, variables: Callable[[Setting, int], dict[str, Any]]) -> Send:
    async def send(s: Setting, n: int) -> dict[str, Any]:
        return await s.world.gql.raw(
            query,
            variables(s, n),
            token=s.world.admin if token == "admin" else s.world.tokens[token],
        )

    return send


def _decide(
    approve: bool,
    ids: Callable[[Setting, int], list[str]],
    text: Callable[[int], str] = lambda _: "looks fine",
) -> Send:
    return _gql(
        DECIDE,
        "approver",
        lambda s, n: {"ids": ids(s, n), "comment": text(n), "reason": text(n), "approve": approve},
    )


def _image(**extra: Callable[[int], Any]) -> Send:
    def variables(s: Setting, n: int) -> dict[str, Any]:
        values = {
            "application": "shop",
            "workflow": "main",
            "image": f"registry.example.com/shop:{n}",
        }
        values.update({key: make(n) for key, make in extra.items()})
        return {"input": values}

    return _gql(REGISTER, "builder", variables)


def _commit(field: str) -> Send:
    return _image(
        gitCommits=lambda n: (
            [{"repo": "r", field: "x" * n}] if field != "repo" else [{"repo": "x" * n}]
        )
    )


def _workflow(**pipeline: Callable[[int], Any]) -> Send:
    def variables(s: Setting, n: int) -> dict[str, Any]:
        spec = {"environment": "e0", **{key: make(n) for key, make in pipeline.items()}}
        return {
            "input": {
                "application": "shop",
                "name": f"wf-{n}",
                "ciPipeline": "ci",
                "cdPipelines": [spec],
            }
        }

    return _gql(CREATE_WORKFLOW, "admin", variables)


def _policy(query: str, field: str, make: Callable[[int], str]) -> Send:
    def variables(s: Setting, n: int) -> dict[str, Any]:
        values = {field: make(n)}
        if query is CREATE_POLICY and field != "name":
            values["name"] = f"policy-{n}"
        return {"input": values}

    return _gql(query, "admin", variables)


async def _environments(count: int) -> None:
    """Environments e0, e1... (e0 exists already)."""
    async with unit_of_work():
        for i in range(1, count):
            await catalog.create_environment(SYSTEM, f"e{i}", False)


def _hook(query: str, make: Callable[[int], dict[str, Any]]) -> Send:
    def variables(s: Setting, n: int) -> dict[str, Any]:
        values = make(n)
        if query is CREATE_HOOK:
            values = {"name": f"hook-{n}", "url": PUBLIC_HOOK, **values}
        return {"input": values}

    return _gql(query, "admin", variables)


async def _existing_hook(s: Setting) -> None:
    data = await s.world.gql(
        CREATE_HOOK, {"input": {"name": "existing-hook", "url": PUBLIC_HOOK}}, token=s.world.admin
    )
    assert data["createWebhookEndpoint"]["errors"] == [], data


def _hook_url(n: int) -> str:
    return PUBLIC_HOOK + "a" * (n - len(PUBLIC_HOOK))


TYPE = "dev.hoist.promotion.promoted"


def _letters(n: int) -> str:
    return "a" * n


def _duration(n: int) -> str:
    """One day written in `n` characters, n >= 32: every part zero-padded as far as its
    digits go (32 characters), then the days' part padded further."""
    text = "000001d000000h0000000m000000000s"
    assert len(text) == limits.DURATION
    return "0" * (n - len(text)) + text


SET_GIT_TARGET = """mutation($target: GitTargetInput!) {
  setGitTarget(application: "shop", environment: "prod", gitTarget: $target) {
    cdPipeline { id } errors { code field message } } }"""
GIT_REPOSITORY = "https://git.example.com/"


def _git_target(field: str, make: Callable[[int], str]) -> Send:
    def variables(s: Setting, n: int) -> dict[str, Any]:
        target = {
            "repository": GIT_REPOSITORY + "deploy.git",
            "branch": "main",
            "path": "prod/values.yaml",
            "edit": "HELM_VALUES",
            "key": "image.tag",
            field: make(n),
        }
        return {"target": target}

    return _gql(SET_GIT_TARGET, "admin", variables)


CASES = [
    *(
        Case(f"GitTargetInput.{name}", max_len, f"gitTarget.{name}", _git_target(name, make))
        for name, max_len, make in (
            ("repository", limits.GIT_REPO, lambda n: GIT_REPOSITORY + "a" * (n - 24)),
            ("branch", limits.GIT_BRANCH, _letters),
            ("path", limits.GIT_PATH, _letters),
            ("image", limits.IMAGE, _letters),
            ("key", limits.GIT_KEY, _letters),
            ("container", limits.NAME, _letters),
            ("credential", limits.NAME, _letters),
        )
    ),
    # Free text.
    Case(
        "Mutation.promoteImage(comment:)",
        limits.COMMENT,
        "comment",
        lambda s, n: _promote("dev", ["prod"], "c" * n)(s, n),
    ),
    Case(
        "Mutation.approvePromotionRequests(comment:)",
        limits.COMMENT,
        "comment",
        _decide(True, lambda s, _: [s.request], lambda n: "c" * n),
    ),
    Case(
        "Mutation.rejectPromotionRequests(reason:)",
        limits.REASON,
        "reason",
        _decide(False, lambda s, _: [s.request], lambda n: "r" * n),
    ),
    Case(
        "RegisterImageInput.image",
        limits.IMAGE,
        "image",
        _gql(
            REGISTER,
            "builder",
            lambda s, n: {
                "input": {
                    "application": "shop",
                    "workflow": "main",
                    "image": "a" * (n - 4) + ":1.0",
                }
            },
        ),
    ),
    Case(
        "RegisterImageInput.digest",
        limits.DIGEST,
        "digest",
        _image(digest=lambda n: "sha256:" + "a" * (n - 7)),
    ),
    Case(
        "RegisterImageInput.labels", limits.LABEL, "labels[0]", _image(labels=lambda n: ["l" * n])
    ),
    *(
        Case(f"GitCommitInput.{name}", max_len, f"gitCommits[0].{name}", _commit(name))
        for name, max_len in (
            ("repo", limits.GIT_REPO),
            ("branch", limits.GIT_BRANCH),
            ("commitHash", limits.GIT_COMMIT_HASH),
            ("commitMessage", limits.GIT_COMMIT_MESSAGE),
            ("author", limits.GIT_AUTHOR),
        )
    ),
    Case(
        "CreateUserInput.email",
        limits.EMAIL,
        "email",
        _gql(
            CREATE_USER,
            "admin",
            lambda s, n: {"input": {"email": "e" * (n - 12) + "@example.com", "name": "someone"}},
        ),
    ),
    Case(
        "CreateUserInput.name",
        limits.USER_NAME,
        "name",
        _gql(
            CREATE_USER,
            "admin",
            lambda s, n: {"input": {"email": f"n{n}@example.com", "name": "n" * n}},
        ),
    ),
    Case(
        "Mutation.createApiToken(name:)",
        limits.TOKEN_NAME,
        "name",
        _gql(CREATE_TOKEN, "dev", lambda s, n: {"name": "t" * n}),
    ),
    Case(
        "Mutation.createApplication(name:)",
        limits.NAME,
        "name",
        _gql(CREATE_APPLICATION, "admin", lambda s, n: {"name": _letters(n)}),
    ),
    Case(
        "Mutation.createEnvironment(name:)",
        limits.NAME,
        "name",
        _gql(CREATE_ENVIRONMENT, "admin", lambda s, n: {"name": _letters(n)}),
    ),
    Case(
        "CreateWorkflowInput.name",
        limits.NAME,
        "name",
        _gql(
            CREATE_WORKFLOW,
            "admin",
            lambda s, n: {
                "input": {
                    "application": "shop",
                    "name": _letters(n),
                    "ciPipeline": "ci",
                    "cdPipelines": [{"environment": "e0"}],
                }
            },
        ),
    ),
    Case(
        "CreateWorkflowInput.ciPipeline",
        limits.CI_PIPELINE,
        "ciPipeline",
        _gql(
            CREATE_WORKFLOW,
            "admin",
            lambda s, n: {
                "input": {
                    "application": "shop",
                    "name": f"wf-{n}",
                    "ciPipeline": "c" * n,
                    "cdPipelines": [{"environment": "e0"}],
                }
            },
        ),
    ),
    Case(
        "CdPipelineInput.filterPassCondition",
        limits.CONDITION,
        "cdPipelines[0].filterPassCondition",
        _workflow(filterPassCondition=condition),
    ),
    Case(
        "CdPipelineInput.filterFailCondition",
        limits.CONDITION,
        "cdPipelines[0].filterFailCondition",
        _workflow(filterFailCondition=condition),
    ),
    Case(
        "PromotionPolicyInput.name", limits.NAME, "name", _policy(CREATE_POLICY, "name", _letters)
    ),
    Case(
        "PromotionPolicyInput.description",
        limits.DESCRIPTION,
        "description",
        _policy(CREATE_POLICY, "description", lambda n: "d" * n),
    ),
    Case(
        "PromotionPolicyInput.passCondition",
        limits.CONDITION,
        "passCondition",
        _policy(CREATE_POLICY, "passCondition", condition),
    ),
    Case(
        "PromotionPolicyInput.failCondition",
        limits.CONDITION,
        "failCondition",
        _policy(CREATE_POLICY, "failCondition", condition),
    ),
    Case(
        "PromotionPolicyPatch.name", limits.NAME, "name", _policy(UPDATE_POLICY, "name", _letters)
    ),
    Case(
        "PromotionPolicyPatch.description",
        limits.DESCRIPTION,
        "description",
        _policy(UPDATE_POLICY, "description", lambda n: "d" * n),
    ),
    Case(
        "PromotionPolicyPatch.passCondition",
        limits.CONDITION,
        "passCondition",
        _policy(UPDATE_POLICY, "passCondition", condition),
    ),
    Case(
        "PromotionPolicyPatch.failCondition",
        limits.CONDITION,
        "failCondition",
        _policy(UPDATE_POLICY, "failCondition", condition),
    ),
    Case(
        "PromotionPolicyInput.requestTimeout",
        limits.DURATION,
        "requestTimeout",
        _policy(CREATE_POLICY, "requestTimeout", _duration),
    ),
    Case(
        "PromotionPolicyInput.approvalMaxAge",
        limits.DURATION,
        "approvalMaxAge",
        _policy(CREATE_POLICY, "approvalMaxAge", _duration),
    ),
    Case(
        "PromotionPolicyInput.remindAfter",
        limits.DURATION,
        "remindAfter",
        _policy(CREATE_POLICY, "remindAfter", _duration),
    ),
    Case(
        "PromotionPolicyPatch.requestTimeout",
        limits.DURATION,
        "requestTimeout",
        _policy(UPDATE_POLICY, "requestTimeout", _duration),
    ),
    Case(
        "PromotionPolicyPatch.approvalMaxAge",
        limits.DURATION,
        "approvalMaxAge",
        _policy(UPDATE_POLICY, "approvalMaxAge", _duration),
    ),
    Case(
        "PromotionPolicyPatch.remindAfter",
        limits.DURATION,
        "remindAfter",
        _policy(UPDATE_POLICY, "remindAfter", _duration),
    ),
    # Lists, and the length of their items where an item is a name or an id.
    Case(
        "Mutation.promoteImage(targetEnvironments:)",
        limits.MAX_ITEMS,
        "targetEnvironments",
        lambda s, n: _promote("dev", ["prod"] * n)(s, n),
    ),
    Case(
        "Mutation.promoteImage(targetEnvironments:)[i]",
        limits.NAME,
        "targetEnvironments[1]",
        lambda s, n: _promote("dev", ["prod", "e" * n])(s, n),
    ),
    Case(
        "Query.promotionPreview(targetEnvironments:)",
        limits.MAX_ITEMS,
        "targetEnvironments",
        _gql(PREVIEW, "dev", lambda s, n: {"image": s.image, "targets": ["prod"] * n}),
    ),
    Case(
        "Query.promotionPreview(targetEnvironments:)[i]",
        limits.NAME,
        "targetEnvironments[0]",
        _gql(PREVIEW, "dev", lambda s, n: {"image": s.image, "targets": ["e" * n]}),
    ),
    Case(
        "Mutation.approvePromotionRequests(requestIds:)",
        limits.MAX_ITEMS,
        "requestIds",
        _decide(True, lambda s, n: [s.request] + [global_id("PromotionRequest", 999)] * (n - 1)),
    ),
    Case(
        "Mutation.approvePromotionRequests(requestIds:)[i]",
        limits.ID,
        "requestIds[0]",
        _decide(True, lambda s, n: ["9" * n]),
    ),
    Case(
        "Mutation.rejectPromotionRequests(requestIds:)",
        limits.MAX_ITEMS,
        "requestIds",
        _decide(False, lambda s, n: [s.request] + [global_id("PromotionRequest", 999)] * (n - 1)),
    ),
    Case(
        "Mutation.rejectPromotionRequests(requestIds:)[i]",
        limits.ID,
        "requestIds[0]",
        _decide(False, lambda s, n: ["9" * n]),
    ),
    Case(
        "Query.nodes(ids:)",
        limits.MAX_ITEMS,
        "ids",
        _gql(NODES, "viewer", lambda s, n: {"ids": [s.image] * n}),
    ),
    Case(
        "Query.nodes(ids:)[i]",
        limits.ID,
        "ids[0]",
        _gql(NODES, "viewer", lambda s, n: {"ids": ["9" * n]}),
    ),
    Case(
        "Mutation.applyPromotionPolicy(applicationEnvironments:)",
        limits.MAX_ITEMS,
        "applicationEnvironments",
        _gql(APPLY, "admin", lambda s, n: {"pairs": [{"appName": "shop", "envName": "prod"}] * n}),
    ),
    Case(
        "Query.promotionRequests(status:)",
        limits.MAX_ITEMS,
        "status",
        _gql(REQUESTS, "viewer", lambda s, n: {"status": ["AWAITING_APPROVAL"] * n}),
    ),
    Case(
        "Mutation.applyPolicyManifest(manifest:)",
        limits.MANIFEST_BYTES,
        "manifest",
        _gql(APPLY_MANIFEST, "admin", lambda s, n: {"m": manifest(size=n)}),
        code="INVALID_MANIFEST",
    ),
    Case(
        "Mutation.applyPolicyManifest(manifest:) applicationEnvironments",
        limits.MAX_ITEMS,
        "spec.payload.applicationEnvironments",
        _gql(APPLY_MANIFEST, "admin", lambda s, n: {"m": manifest(pairs=n)}),
    ),
    Case(
        "CreateWorkflowInput.cdPipelines",
        limits.MAX_ITEMS,
        "cdPipelines",
        _gql(
            CREATE_WORKFLOW,
            "admin",
            lambda s, n: {
                "input": {
                    "application": "shop",
                    "name": "wide",
                    "ciPipeline": "ci",
                    "cdPipelines": [{"environment": f"e{i}"} for i in range(n)],
                }
            },
        ),
        prepare=lambda s: _environments(limits.MAX_ITEMS),
    ),
    Case(
        "RegisterImageInput.labels[]",
        limits.MAX_ITEMS,
        "labels",
        _image(labels=lambda n: [f"l{i}" for i in range(n)]),
    ),
    Case(
        "RegisterImageInput.gitCommits",
        limits.MAX_ITEMS,
        "gitCommits",
        _image(gitCommits=lambda n: [{"repo": f"r{i}"} for i in range(n)]),
    ),
    # Promotion windows and break glass.
    Case(
        "BreakGlassInput.reason",
        limits.REASON,
        "breakGlass.reason",
        _gql(
            """mutation($image: ID!, $reason: String!) {
              promoteImage(imageId: $image, source: {type: CI}, targetEnvironments: ["prod"],
                breakGlass: {reason: $reason}) {
                results { outcome } errors { code field message } } }""",
            "dev",
            lambda s, n: {"image": s.image, "reason": "r" * n},
        ),
    ),
    Case(
        "PromotionWindowInput.name", limits.NAME, "name", _window(CREATE_WINDOW, "name", _letters)
    ),
    Case(
        "PromotionWindowInput.description",
        limits.DESCRIPTION,
        "description",
        _window(CREATE_WINDOW, "description", lambda n: "d" * n),
    ),
    Case(
        "PromotionWindowInput.rrule", limits.RRULE, "rrule", _window(CREATE_WINDOW, "rrule", _rrule)
    ),
    Case(
        "PromotionWindowInput.duration",
        limits.DURATION,
        "duration",
        _window(CREATE_WINDOW, "duration", _duration),
    ),
    Case(
        "PromotionWindowInput.startsAt",
        limits.LOCAL_TIME,
        "startsAt",
        _window(CREATE_WINDOW, "startsAt", _local),
    ),
    Case(
        "PromotionWindowInput.dateRanges",
        limits.MAX_ITEMS,
        "dateRanges",
        _window(
            CREATE_WINDOW,
            "dateRanges",
            lambda n: [
                {"start": f"2026-01-{1 + i % 28:02d}", "end": "2026-02-01"} for i in range(n)
            ],
        ),
    ),
    Case(
        "WindowDateRangeInput.start",
        limits.LOCAL_TIME,
        "dateRanges[0].start",
        _window(CREATE_WINDOW, "dateRanges", lambda n: [{"start": _local(n), "end": "2026-02-01"}]),
    ),
    Case(
        "WindowDateRangeInput.end",
        limits.LOCAL_TIME,
        "dateRanges[0].end",
        _window(CREATE_WINDOW, "dateRanges", lambda n: [{"start": "2025-12-01", "end": _local(n)}]),
    ),
    Case(
        "PromotionWindowPatch.name", limits.NAME, "name", _window(UPDATE_WINDOW, "name", _letters)
    ),
    Case(
        "PromotionWindowPatch.description",
        limits.DESCRIPTION,
        "description",
        _window(UPDATE_WINDOW, "description", lambda n: "d" * n),
    ),
    Case(
        "PromotionWindowPatch.rrule", limits.RRULE, "rrule", _window(UPDATE_WINDOW, "rrule", _rrule)
    ),
    Case(
        "PromotionWindowPatch.duration",
        limits.DURATION,
        "duration",
        _window(UPDATE_WINDOW, "duration", _duration),
    ),
    Case(
        "PromotionWindowPatch.startsAt",
        limits.LOCAL_TIME,
        "startsAt",
        _window(UPDATE_WINDOW, "startsAt", _local),
    ),
    Case(
        "PromotionWindowPatch.dateRanges",
        limits.MAX_ITEMS,
        "dateRanges",
        _window(
            UPDATE_WINDOW,
            "dateRanges",
            lambda n: [{"start": "2026-01-01", "end": "2026-02-01"}] * n,
        ),
    ),
    Case(
        "Mutation.applyPromotionWindow(applicationEnvironments:)",
        limits.MAX_ITEMS,
        "applicationEnvironments",
        _gql(
            APPLY_WINDOW,
            "admin",
            lambda s, n: {"pairs": [{"appName": "shop", "envName": "prod"}] * n},
        ),
    ),
    Case(
        "Mutation.applyWindowManifest(manifest:)",
        limits.MANIFEST_BYTES,
        "manifest",
        _gql(APPLY_WINDOW_MANIFEST, "admin", lambda s, n: {"m": window_manifest(size=n)}),
        code="INVALID_MANIFEST",
    ),
    Case(
        "Mutation.applyWindowManifest(manifest:) applicationEnvironments",
        limits.MAX_ITEMS,
        "spec.payload.applicationEnvironments",
        _gql(APPLY_WINDOW_MANIFEST, "admin", lambda s, n: {"m": window_manifest(pairs=n)}),
    ),
    Case(
        "WebhookEndpointInput.name",
        limits.NAME,
        "name",
        _hook(CREATE_HOOK, lambda n: {"name": "h" * n}),
    ),
    Case(
        "WebhookEndpointInput.url",
        limits.URL,
        "url",
        _hook(CREATE_HOOK, lambda n: {"url": _hook_url(n)}),
    ),
    Case(
        "WebhookEndpointInput.secret",
        limits.WEBHOOK_SECRET,
        "secret",
        _hook(CREATE_HOOK, lambda n: {"secret": "s" * n}),
    ),
    Case(
        "WebhookEndpointInput.eventTypes",
        limits.MAX_ITEMS,
        "eventTypes",
        _hook(CREATE_HOOK, lambda n: {"eventTypes": [TYPE] * n}),
    ),
    Case(
        "WebhookEndpointInput.applications",
        limits.MAX_ITEMS,
        "applications",
        _hook(CREATE_HOOK, lambda n: {"applications": ["shop"] * n}),
    ),
    Case(
        "WebhookEndpointPatch.url",
        limits.URL,
        "url",
        _hook(UPDATE_HOOK, lambda n: {"url": _hook_url(n)}),
        prepare=_existing_hook,
    ),
    Case(
        "WebhookEndpointPatch.eventTypes",
        limits.MAX_ITEMS,
        "eventTypes",
        _hook(UPDATE_HOOK, lambda n: {"eventTypes": [TYPE] * n}),
        prepare=_existing_hook,
    ),
    Case(
        "WebhookEndpointPatch.applications",
        limits.MAX_ITEMS,
        "applications",
        _hook(UPDATE_HOOK, lambda n: {"applications": ["shop"] * n}),
        prepare=_existing_hook,
    ),
]

# --- supply-chain evidence: an image with a digest, made before the accepted value ---------
_EVIDENCE_IMAGES: dict[int, str] = {}


async def _digested_image(s: Setting) -> None:
    image = await image_with_digest(s.world, "evidence", SAMPLE_DIGEST)
    _EVIDENCE_IMAGES[id(s)] = global_id("Image", image)


def _padded_sbom(n: int) -> str:
    """The SPDX sample, its document comment padded to exactly `n` UTF-8 bytes."""
    document = json.loads(sample("spdx.json"))
    document["comment"] = ""
    text = json.dumps(document)
    document["comment"] = "x" * (n - len(text.encode()))
    return json.dumps(document)


def _attach(
    document: Callable[[int], str], signature: Callable[[int], str | None] = lambda _: None
) -> Send:
    return _gql(
        ATTACH,
        "builder",
        lambda s, n: {
            "image": _EVIDENCE_IMAGES.get(id(s), s.image),
            "type": "SIGNATURE" if signature(n) is not None else "SBOM",
            "document": document(n),
            "signature": signature(n),
        },
    )


_SIGNER = Signer()
_PAYLOAD = simple_signing(SAMPLE_DIGEST)


def _key(name: Callable[[int], str], key: Callable[[int], str]) -> Send:
    return _gql(CREATE_KEY, "admin", lambda s, n: {"name": name(n), "key": key(n)})


def _pem(n: int) -> str:
    pem = Signer().public_pem
    return pem + "\n" * (n - len(pem))  # the key, then blank lines up to n characters


CASES += [
    Case(
        "Mutation.attachEvidence(document:)",
        limits.EVIDENCE_BYTES,
        "document",
        _attach(_padded_sbom),
        prepare=_digested_image,
    ),
    Case(
        "Mutation.attachEvidence(signature:)",
        MAX_SIGNATURE,
        "signature",
        _attach(
            lambda _: _PAYLOAD,
            lambda n: (sig := _SIGNER.sign(_PAYLOAD.encode())) + " " * (n - len(sig)),
        ),
        prepare=_digested_image,
    ),
    Case("Mutation.createSigningKey(name:)", limits.NAME, "name", _key(lambda n: "k" * n, _pem)),
    Case(
        "Mutation.createSigningKey(publicKey:)",
        MAX_PEM,
        "publicKey",
        _key(lambda n: f"key-{n}", _pem),
    ),
]


def test_every_limit_has_a_case() -> None:
    tested = {c.coordinate.removesuffix("[i]").removesuffix("[]") for c in CASES}
    # validateCondition answers with a message, not an error: its own test is below.
    untested = ELSEWHERE | {"Query.validateCondition(expression:)"}
    assert (set(LISTS) | set(TEXTS) | set(BYTES)) - untested <= tested


@pytest.fixture
async def setting(gql: GraphQLClient, people: People, admin: str) -> Setting:
    """The promotion world, a policy `existing` on prod needing 2 approvals, a request by
    `dev` awaiting them, and a spare environment e0 (for new workflows)."""
    world = await build_world(gql, people, admin)
    await world.policy("existing", "prod", approver_count=2)
    image = await world.image()
    [r] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert r["outcome"] == "AWAITING_APPROVAL", r
    # The cases promote a second image: the first one's request already holds prod.
    image = await world.image("2.0")
    async with unit_of_work():
        await catalog.create_environment(SYSTEM, "e0", False)
        await windows.create_window(
            SYSTEM,
            windows.WindowFields(
                name="existing-window",
                kind=WindowKind.DENY,
                time_zone="UTC",
                date_ranges=(("2020-01-01", "2020-01-02"),),
            ),
        )
    return Setting(world, global_id("Image", image), r["request"]["id"])


@pytest.mark.parametrize("case", CASES, ids=[c.coordinate for c in CASES])
async def test_at_the_limit_accepted_one_over_refused(setting: Setting, case: Case) -> None:
    before = await row_counts()
    refused = await case.send(setting, case.limit + 1)
    assert refusals(refused) == [(case.code, case.field)], json.dumps(refused)[:500]
    if not case.coordinate.startswith("Query."):
        # Every other case is a mutation's argument or input: its payload's UserError,
        # not a top-level error (which would null a sibling mutation's result).
        assert "errors" not in refused, json.dumps(refused)[:500]
    assert await row_counts() == before, "a refused input wrote something"
    if case.prepare is not None:
        await case.prepare(setting)
    accepted = await case.send(setting, case.limit)
    assert refusals(accepted) == [], json.dumps(accepted)[:500]


async def test_a_condition_too_long_to_save_is_named_by_validate_condition(
    setting: Setting,
) -> None:
    gql, token = setting.world.gql, setting.world.admin
    assert await gql(VALIDATE, {"e": condition(limits.CONDITION)}, token=token) == {
        "validateCondition": None
    }
    message = (await gql(VALIDATE, {"e": condition(limits.CONDITION + 1)}, token=token))[
        "validateCondition"
    ]
    assert f"at most {limits.CONDITION} characters" in message


async def test_thirty_thousand_targets_are_refused_before_any_is_checked(
    setting: Setting,
) -> None:
    """The assessment's case: each target of a preview costs a query, so 30,000 held a
    connection for 69 s. Refused up front, the answer carries no per-target work at all."""
    body = await setting.world.gql.raw(
        PREVIEW,
        {"image": setting.image, "targets": ["prod"] * 30_000},
        token=setting.world.tokens["dev"],
    )
    assert refusals(body) == [("VALIDATION", "targetEnvironments")]
    assert body["data"] is None


async def test_a_huge_comment_makes_no_notification(setting: Setting) -> None:
    """5 MB of comment once became 21 notification rows of 10 MB each (900 kB here: the
    HTTP body cap now stops bigger ones before GraphQL)."""
    before = await row_counts()
    body = await _promote("dev", ["prod"], "x" * 900_000)(setting, 0)
    assert refusals(body) == [("VALIDATION", "comment")]
    assert await row_counts() == before


async def test_every_page_size_is_at_most_100(setting: Setting) -> None:
    """Every connection refuses `first` over limits.MAX_PAGE, naming `first`."""
    required = {
        "application": '"shop"',
        "workflow": '"main"',
        "environment": '"prod"',
        "source": "{type: CI}",
    }
    assert GRAPHQL.query_type is not None
    connections = {
        name: field for name, field in GRAPHQL.query_type.fields.items() if "first" in field.args
    }
    assert connections, "no connection found to check"
    for name, field in connections.items():
        args = [
            f"{arg}: {required[arg]}"
            for arg, a in field.args.items()
            if isinstance(a.type, GraphQLNonNull) and arg in required
        ]
        for first, expected in (
            (limits.MAX_PAGE + 1, [("VALIDATION", "first")]),
            (limits.MAX_PAGE, []),
        ):
            query = (
                f"{{ {name}({', '.join([*args, f'first: {first}'])}) "
                "{ pageInfo { hasNextPage } } }"
            )
            body = await setting.world.gql.raw(query, token=setting.world.admin)
            assert refusals(body) == expected, (name, first, body)

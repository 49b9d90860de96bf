"""The YAML apply manifest (SPEC §3): errors name the line or field, and nothing half-applies."""

from __future__ import annotations

import string
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import DomainError, ErrorCode
from app.policies import manifest
from app.policies.service import Pair
from tests.policies.helpers import APPLY_MANIFEST, bindings, create_policy, make_catalog
from tests.support.graphql import GraphQLClient

GOOD = """\
apiVersion: v1
kind: artifactPromotionPolicy
spec:
  payload:
    applicationEnvironments:
      - appName: app1
        envName: env-demo
    applyToPolicyName: example-policy
"""
PAIRS = "spec.payload.applicationEnvironments"


async def apply_manifest(gql: GraphQLClient, token: str, text: str) -> dict[str, Any]:
    return (await gql(APPLY_MANIFEST, {"manifest": text}, token=token))["applyPolicyManifest"]


async def test_a_good_manifest_applies(gql: GraphQLClient, admin: str) -> None:
    await make_catalog(gql, admin)
    await create_policy(gql, admin, "example-policy")
    payload = await apply_manifest(gql, admin, GOOD)
    assert payload["errors"] == []
    assert await bindings(gql, admin) == {("app1", "env-demo", "example-policy")}


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        # YAML syntax errors name the line (and column) where the YAML broke.
        (
            GOOD.replace("kind: artifactPromotionPolicy", "kind: artifactPromotionPolicy: x"),
            "manifest",
            "line 2, column 30",
        ),
        (
            GOOD.replace("        envName: env-demo", "       envName: env-demo"),
            "manifest",
            "line 7, column 8",
        ),
        (
            GOOD.replace("envName: env-demo", 'envName: "env-demo'),
            "manifest",
            "quoted scalar from line 7",
        ),
        (GOOD + "---\nkind: x\n", "manifest", "line 9"),
        ("", "manifest", "empty"),
        ("- just\n- a list\n", "manifest", "must be a mapping"),
        (
            GOOD.replace("kind: artifactPromotionPolicy", "kind: imagePromotionPolicy"),
            "kind",
            "line 2",
        ),
        (GOOD.replace("apiVersion: v1", "apiVersion: v2"), "apiVersion", "line 1"),
        (GOOD.replace("apiVersion: v1\n", ""), "apiVersion", "missing field apiVersion"),
        (GOOD.split("spec:")[0], "spec", "missing field spec"),
        (GOOD.replace("  payload:", "  load:"), "spec.payload", "missing field spec.payload"),
        (
            GOOD.replace("    applyToPolicyName: example-policy\n", ""),
            "spec.payload.applyToPolicyName",
            "missing field spec.payload.applyToPolicyName",
        ),
        (
            GOOD.replace("applyToPolicyName: example-policy", "applyToPolicyName: 12"),
            "spec.payload.applyToPolicyName",
            "must be a non-empty string",
        ),
        (
            GOOD.replace("applicationEnvironments:", "environments:"),
            PAIRS,
            f"missing field {PAIRS}",
        ),
        (
            "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
            "    applyToPolicyName: example-policy\n    applicationEnvironments: []\n",
            PAIRS,
            "non-empty list",
        ),
        (
            GOOD.replace("      - appName: app1\n", "      - app: app1\n"),
            f"{PAIRS}[0].appName",
            f"missing field {PAIRS}[0].appName",
        ),
        (
            GOOD.replace("        envName: env-demo\n", "        envName:\n"),
            f"{PAIRS}[0].envName",
            "must be a non-empty string",
        ),
    ],
)
async def test_invalid_manifests_name_the_line_or_field(
    gql: GraphQLClient, admin: str, text: str, field: str, says: str
) -> None:
    await make_catalog(gql, admin)
    await create_policy(gql, admin, "example-policy")
    payload = await apply_manifest(gql, admin, text)
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID_MANIFEST", field)
    assert says in error["message"]
    assert payload["bindings"] == []
    assert await bindings(gql, admin) == set()


async def test_unknown_policy_and_bad_pairs_apply_nothing(gql: GraphQLClient, admin: str) -> None:
    await make_catalog(gql, admin)
    await create_policy(gql, admin, "example-policy")
    payload = await apply_manifest(gql, admin, GOOD.replace("example-policy", "ghost-policy"))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", "spec.payload.applyToPolicyName")
    ]

    three = GOOD.replace(
        "        envName: env-demo\n",
        "        envName: env-demo\n"
        "      - {appName: app2, envName: prod}\n"
        "      - {appName: app1, envName: prod}\n",
    )
    payload = await apply_manifest(gql, admin, three)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("VALIDATION", f"{PAIRS}[1].envName")
    ]
    assert await bindings(gql, admin) == set()


# ----------------------------------------------------------------- parse, as a pure function


def test_pathological_text_is_refused_not_crashed() -> None:
    for text, says in [
        ("[" * 5000, "nested more than 32 levels deep (line 1)"),
        ("a: b\nc:\n" + "  - " * 40 + "x\n", "levels deep (line 3)"),
        ("a: b\n\x00", "line 2, column 1"),
        ("a: \ud800", "line 1, column 4"),
        ("a: " + "x" * manifest.MAX_BYTES, f"larger than {manifest.MAX_BYTES} bytes"),
    ]:
        with pytest.raises(DomainError) as caught:
            manifest.parse(text)
        assert caught.value.code == ErrorCode.INVALID_MANIFEST
        assert says in caught.value.message


def test_depth_limit_leaves_room_for_real_manifests() -> None:
    deep = yaml.safe_load(GOOD)
    deep["spec"]["payload"]["extra"] = [[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]  # 21 deep
    assert manifest.parse(yaml.safe_dump(deep)).policy_name == "example-policy"


def outcome(text: str) -> manifest.Manifest | None:
    """parse's answer, when it refuses only ever a one-line INVALID_MANIFEST naming a field."""
    try:
        return manifest.parse(text)
    except DomainError as error:
        assert error.code == ErrorCode.INVALID_MANIFEST
        assert error.field
        assert error.message and "\n" not in error.message
        return None


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_is_parsed_or_refused(text: str) -> None:
    outcome(text)


VOCABULARY = [
    "apiVersion",
    "kind",
    "spec",
    "payload",
    "applyToPolicyName",
    "applicationEnvironments",
    "appName",
    "envName",
    "v1",
    "artifactPromotionPolicy",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(VOCABULARY),
    st.text(max_size=8),
)
yamlish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=5)), children, max_size=5
        ),
    ),
    max_leaves=25,
)


def with_replaced(document: Any, path: list[str], value: Any) -> dict[str, Any]:
    """A deep copy of a valid manifest with the value at `path` replaced by `value`."""
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(document))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


VALID = yaml.safe_load(GOOD)
PATHS = [
    ["apiVersion"],
    ["kind"],
    ["spec"],
    ["spec", "payload"],
    ["spec", "payload", "applyToPolicyName"],
    ["spec", "payload", "applicationEnvironments"],
]


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        yamlish,
        st.tuples(st.sampled_from(PATHS), yamlish).map(
            lambda case: with_replaced(VALID, case[0], case[1])
        ),
    )
)
def test_yamlish_structures_are_parsed_or_refused(document: Any) -> None:
    outcome(yaml.safe_dump(document))


names = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=20)


@settings(max_examples=100, deadline=None, database=None)
@given(names, st.lists(st.tuples(names, names), min_size=1, max_size=5))
def test_well_formed_manifests_round_trip(policy: str, pairs: list[tuple[str, str]]) -> None:
    document = {
        "apiVersion": "v1",
        "kind": "artifactPromotionPolicy",
        "spec": {
            "payload": {
                "applyToPolicyName": policy,
                "applicationEnvironments": [{"appName": a, "envName": e} for a, e in pairs],
            }
        },
    }
    # Quoted, so names like "123" or "null" stay strings as they would for a careful author.
    parsed = manifest.parse(yaml.safe_dump(document, default_style='"'))
    assert parsed == manifest.Manifest(policy, [Pair(a, e) for a, e in pairs])

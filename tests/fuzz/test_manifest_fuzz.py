"""The apply manifest under near-valid YAML (SPEC §3): refused clearly, or read as YAML reads it.

tests/policies/test_manifest.py feeds `parse` random text and random structures. Here the
valid manifest is mutated the ways people and tools get it wrong, written as YAML text
(so keys can repeat, carry tags, quotes, anchors and aliases, which dicts can't):
renamed, missing, repeated and extra keys; values of the wrong kind; escapes that decode
to characters no database stores. `parse` must either refuse with one short
INVALID_MANIFEST line naming a field, or return exactly what `yaml.safe_load` (the CLI's
reader) sees in the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import DomainError, ErrorCode
from app.policies import manifest
from app.policies.service import Pair
from app.validation import storable
from tests.fuzz.budget import examples


@dataclass
class Map:
    items: list[tuple[str, Any]]


@dataclass
class Seq:
    items: list[Any]


def valid() -> Map:
    pair = Map([("appName", "app1"), ("envName", "env-demo")])
    return Map(
        [
            ("apiVersion", "v1"),
            ("kind", "artifactPromotionPolicy"),
            (
                "spec",
                Map(
                    [
                        (
                            "payload",
                            Map(
                                [
                                    (
                                        "applicationEnvironments",
                                        Seq(
                                            [pair, Map([("appName", "app2"), ("envName", "prod")])]
                                        ),
                                    ),
                                    ("applyToPolicyName", "example-policy"),
                                ]
                            ),
                        )
                    ]
                ),
            ),
        ]
    )


SCALARS = [
    "v1",
    '"v1"',
    "'v1'",
    "v2",
    '""',
    "~",
    "null",
    "yes",
    "true",
    "12",
    '"12"',
    "!!str 12",
    "1.0",
    "app1",
    "env-demo",
    "example-policy",
    '"other-policy"',
    "x" * 80,
    "[]",
    "{}",
    "!custom v",
    "!!binary aGVsbG8=",
    '"\\ud800"',
    '"\\0"',
    '"a\\x00b"',
    '"\\U0001F680"',
    '"tab\\there"',
    "'it''s'",
    "&anchor v1",
    "*anchor",
    "*nowhere",
    "a # comment",
    "'#x'",
    "artifactPromotionPolicy",
    '"artifactPromotionPolicy "',
    "!!python/object:os.system x",
]
KEYS = [
    "apiVersion",
    "kind",
    "spec",
    "payload",
    "applicationEnvironments",
    "appName",
    "envName",
    "applyToPolicyName",
    "Kind",
    "appname",
    "extra",
    '"kind"',
    "'envName'",
    "? appName",
    "<<",
    "app Name",
    "!!str kind",
    "&k kind",
    "1",
]


def emit(node: Any, indent: int = 0) -> list[str]:
    """Block-style YAML lines of `node` (a Map, a Seq or a rendered scalar)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(node, Map):
        if not node.items:
            return [pad + "{}"]
        for key, value in node.items:
            if isinstance(value, Map | Seq) and value.items:
                lines.append(f"{pad}{key}:")
                lines += emit(value, indent + 2)
            else:
                lines.append(f"{pad}{key}: {flow(value)}")
        return lines
    if isinstance(node, Seq):
        if not node.items:
            return [pad + "[]"]
        for item in node.items:
            inner = emit(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        return lines
    return [pad + str(node)]


def flow(node: Any) -> str:
    """Flow-style YAML of `node`: `{a: b, c: [d]}`."""
    if isinstance(node, Map):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in node.items) + "}"
    if isinstance(node, Seq):
        return "[" + ", ".join(flow(v) for v in node.items) + "]"
    return str(node)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The valid manifest with 1-4 mutations, written in block or flow style."""
    root = valid()
    for _ in range(draw(st.integers(1, 4))):
        node: Any = root
        # Walk down a random path, then change something there.
        while isinstance(node, Map | Seq) and node.items and draw(st.booleans()):
            index = draw(st.integers(0, len(node.items) - 1))
            child = node.items[index][1] if isinstance(node, Map) else node.items[index]
            if not isinstance(child, Map | Seq):
                break
            node = child
        if not isinstance(node, Map | Seq):
            continue
        _mutate(draw, node)
    text = "\n".join(emit(root)) + "\n" if draw(st.integers(0, 4)) else flow(root) + "\n"
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from(["\ufeff", "%YAML 1.1\n---\n", "---\n", "# c\n"])) + text
    return text


def _mutate(draw: st.DrawFn, node: Map | Seq) -> None:
    value = st.one_of(
        st.sampled_from(SCALARS),
        st.just(Seq([])),
        st.just(Map([])),
        st.just(Seq(["app1"])),
        st.just(Map([("appName", "app3")])),
    )
    if isinstance(node, Seq):
        op = draw(st.sampled_from(["drop", "add", "replace", "clear"]))
        if op == "drop" and node.items:
            node.items.pop(draw(st.integers(0, len(node.items) - 1)))
        elif op == "add":
            node.items.append(draw(value))
        elif op == "replace" and node.items:
            node.items[draw(st.integers(0, len(node.items) - 1))] = draw(value)
        else:
            node.items.clear()
        return
    if not node.items:
        node.items.append((draw(st.sampled_from(KEYS)), draw(value)))
        return
    index = draw(st.integers(0, len(node.items) - 1))
    key, old = node.items[index]
    op = draw(
        st.sampled_from(["rename", "drop", "repeat", "repeat-first", "extra", "value", "swap"])
    )
    if op == "rename":
        node.items[index] = (draw(st.sampled_from(KEYS)), old)
    elif op == "drop":
        node.items.pop(index)
    elif op == "repeat":  # the same key again, later, with another value
        node.items.append((key, draw(value)))
    elif op == "repeat-first":
        node.items.insert(0, (key, draw(value)))
    elif op == "extra":
        node.items.insert(index, (draw(st.sampled_from(KEYS)), draw(value)))
    elif op == "value":
        node.items[index] = (key, draw(value))
    else:
        node.items.reverse()


UNREADABLE = "PyYAML cannot build Python values from it"


def yaml_reading(text: str) -> tuple[str, list[Pair]] | str | None:
    """What the CLI (yaml.safe_load) reads as the policy and pairs; None when the document
    has another shape, UNREADABLE when safe_load refuses what compose accepts (a mapping
    as a key, an unknown tag in a part Hoist does not read)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return UNREADABLE
    try:
        payload = document["spec"]["payload"]
        return payload["applyToPolicyName"], [
            Pair(item["appName"], item["envName"]) for item in payload["applicationEnvironments"]
        ]
    except (KeyError, TypeError, IndexError):
        return None


def check(text: str) -> manifest.Manifest | None:
    try:
        parsed = manifest.parse(text)
    except DomainError as error:
        assert error.code == ErrorCode.INVALID_MANIFEST, error
        assert error.field, error
        assert error.message and "\n" not in error.message, error.message
        assert len(error.message) <= 300, error.message
        return None
    # Accepted: it must mean what YAML says, and hold only text the databases can store.
    assert yaml_reading(text) in (UNREADABLE, (parsed.policy_name, parsed.pairs)), text
    names = [parsed.policy_name, *(n for p in parsed.pairs for n in (p.application, p.environment))]
    assert all(isinstance(n, str) and n and storable(n) for n in names), names
    return parsed


@settings(max_examples=examples(400), deadline=None, database=None)
@given(mutated())
def test_mutated_manifests_are_refused_or_read_as_yaml_reads_them(text: str) -> None:
    check(text)


def test_the_unmutated_manifest_is_read() -> None:
    for text in ("\n".join(emit(valid())) + "\n", flow(valid()) + "\n"):
        parsed = check(text)
        assert parsed == manifest.Manifest(
            "example-policy", [Pair("app1", "env-demo"), Pair("app2", "prod")]
        )


GOOD = "\n".join(emit(valid())) + "\n"
PAIRS = "spec.payload.applicationEnvironments"


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        # Found by the fuzzing above: parse took the first of two keys, PyYAML (the CLI) the
        # last, so `hoist create --applyPath` checked one policy name and the server applied
        # another.
        (
            GOOD + "    applyToPolicyName: other-policy\n",
            "spec.payload.applyToPolicyName",
            "given more than once (line 11)",
        ),
        (GOOD + "spec: {}\n", "spec", "given more than once (line 11)"),
        # Escapes decode to characters no database stores; they crashed the lookup.
        (GOOD.replace("appName: app1", 'appName: "app\\0"'), f"{PAIRS}[0].appName", "NUL"),
        (GOOD.replace("envName: prod", 'envName: "\\ud800"'), f"{PAIRS}[1].envName", "surrogate"),
    ],
)
def test_what_readers_would_disagree_on_is_refused(text: str, field: str, says: str) -> None:
    with pytest.raises(DomainError) as caught:
        manifest.parse(text)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_MANIFEST, field)
    assert says in caught.value.message

"""The YAML apply manifest of SPEC §3, read with line numbers for every error."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.errors import DomainError, ErrorCode
from app.policies.service import Pair

KIND = "artifactPromotionPolicy"
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Manifest:
    policy_name: str
    pairs: list[Pair]


def _error(message: str, field: str, node: Node | None = None) -> DomainError:
    where = f" (line {node.start_mark.line + 1})" if node is not None else ""
    return DomainError(ErrorCode.INVALID_MANIFEST, f"{message}{where}", field)


def _child(node: Node, key: str, path: str) -> Node:
    """The value under `key` of a mapping node; an error naming the field when missing."""
    field = f"{path}.{key}" if path else key
    if not isinstance(node, MappingNode):
        raise _error(f"{path or 'the manifest'} must be a mapping", path or "manifest", node)
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value
    raise _error(f"missing field {field}", field, node)


def _string(node: Node, field: str) -> str:
    if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value:
        raise _error(f"{field} must be a non-empty string", field, node)
    return str(node.value)


def parse(text: str) -> Manifest:
    """The policy name and pairs of a manifest, or an INVALID_MANIFEST error."""
    if len(text.encode()) > MAX_BYTES:
        raise _error("the manifest is larger than 1 MB", "manifest")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _error(f"YAML syntax error at {line}{exc.problem or exc.context}",
                     "manifest") from None
    except yaml.YAMLError as exc:
        raise _error(f"YAML syntax error: {exc}", "manifest") from None
    if root is None:
        raise _error("the manifest is empty", "manifest")
    api_version = _child(root, "apiVersion", "")
    if _string(api_version, "apiVersion") != "v1":
        raise _error("apiVersion must be v1", "apiVersion", api_version)
    kind = _child(root, "kind", "")
    if _string(kind, "kind") != KIND:
        raise _error(f"kind must be {KIND} (got {kind.value!r})", "kind", kind)
    payload = _child(_child(root, "spec", ""), "payload", "spec")
    policy_name = _string(_child(payload, "applyToPolicyName", "spec.payload"),
                          "spec.payload.applyToPolicyName")
    items = _child(payload, "applicationEnvironments", "spec.payload")
    field = "spec.payload.applicationEnvironments"
    if not isinstance(items, SequenceNode) or not items.value:
        raise _error(f"{field} must be a non-empty list", field, items)
    pairs = []
    for i, item in enumerate(items.value):
        at = f"{field}[{i}]"
        pairs.append(Pair(
            application=_string(_child(item, "appName", at), f"{at}.appName"),
            environment=_string(_child(item, "envName", at), f"{at}.envName"),
        ))
    return Manifest(policy_name=policy_name, pairs=pairs)

"""The YAML apply manifest of SPEC §3, read with line numbers for every error."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.errors import DomainError, ErrorCode
from app.policies.service import Pair
from app.validation import storable

KIND = "artifactPromotionPolicy"
MAX_BYTES = 1_000_000
# A real manifest is 5 levels deep. PyYAML composes recursively and its scanner does work
# per open level for every token, so "[[[[..." would otherwise cost seconds of CPU and
# then a RecursionError.
MAX_DEPTH = 32


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses documents nested deeper than MAX_DEPTH, early and cheaply."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise DomainError(
                    ErrorCode.INVALID_MANIFEST,
                    f"the manifest is nested more than {MAX_DEPTH} levels deep (line {line})",
                    "manifest",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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
    found = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == key]
    if len(found) > 1:
        # YAML wants unique keys; readers disagree on which one wins (PyYAML, so the CLI:
        # the last), so a repeated key would apply something other than what the CLI saw.
        raise _error(f"{field} is given more than once", field, found[1][0])
    if not found:
        raise _error(f"missing field {field}", field, node)
    return found[0][1]


def _string(node: Node, field: str) -> str:
    if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value:
        raise _error(f"{field} must be a non-empty string", field, node)
    if not storable(node.value):  # "\0" or "\ud800" escapes in a quoted YAML string
        raise _error(f"{field} may not contain the NUL character or lone surrogates", field,
                     node)
    return str(node.value)


def _position(text: str, index: int) -> str:
    """`line L, column C` (1-based) of a character index, for errors that only know the index."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _syntax_error(text: str, exc: yaml.YAMLError) -> DomainError:
    """One line naming where the YAML broke and why (PyYAML's own text spans several lines)."""
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised for characters YAML forbids (NUL, lone surrogates...): it knows an index only.
        return _error(f"YAML syntax error at {_position(text, exc.position)}: "
                      f"character #x{exc.character:04x} is not allowed in YAML",
                      "manifest")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            # PyYAML splits one sentence in two ("expected a single document in the stream",
            # "but found another document"), or gives the problem ("expected <block end>")
            # a context ("while parsing a block mapping") without which it is unclear.
            started = exc.context_mark
            since = f" from line {started.line + 1}" if started else ""
            if exc.problem.startswith("but "):
                what = f"{exc.context}, {exc.problem}"
            else:
                what = f"{exc.problem} ({exc.context}{since})"
        return _error(f"YAML syntax error{where}: {what}", "manifest")
    return _error(f"YAML syntax error: {' '.join(str(exc).split())}", "manifest")


def parse(text: str) -> Manifest:
    """The policy name and pairs of a manifest, or an INVALID_MANIFEST error."""
    # surrogatepass: a JSON request may carry lone surrogates ("\ud800"); they must reach
    # the YAML reader (which refuses them with a position) instead of crashing here.
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _error("the manifest is larger than 1 MB", "manifest")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _syntax_error(text, exc) from None
    if root is None:
        raise _error("the manifest is empty", "manifest")
    api_version = _child(root, "apiVersion", "")
    if _string(api_version, "apiVersion") != "v1":
        raise _error("apiVersion must be v1", "apiVersion", api_version)
    kind = _child(root, "kind", "")
    if _string(kind, "kind") != KIND:
        # Clipped: the value is the client's text and may be as long as the manifest.
        raise _error(f"kind must be {KIND} (got {kind.value[:60]!r})", "kind", kind)
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

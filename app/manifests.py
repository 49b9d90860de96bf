"""Reading YAML manifests (policy and workflow) with a line number for every error.

The kinds differ only in their `spec`; this module holds what they share: the bounded
YAML loader, syntax errors with hints for the common mistakes, and readers of typed
fields that name the field and its line. It imports nothing but YAML and the error types,
so the CLI checks a file with the very code the server runs, without loading the ORM.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app import limits
from app.errors import DomainError, ErrorCode
from app.validation import storable

API_VERSION = "v1"
MAX_BYTES = limits.MANIFEST_BYTES  # in UTF-8; PyYAML is slow, see app/limits.py
# A real manifest is 5 levels deep. PyYAML composes recursively and its scanner does work
# per open level for every token, so "[[[[..." would otherwise cost seconds of CPU and
# then a RecursionError.
MAX_DEPTH = 32

_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses documents nested deeper than MAX_DEPTH, early and cheaply."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                # types-PyYAML leaves Parser.peek_event unannotated (it returns an Event).
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                raise DomainError(
                    ErrorCode.INVALID_MANIFEST,
                    f"the manifest is nested more than {MAX_DEPTH} levels deep (line {line})",
                    "manifest",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def error(message: str, field: str, node: Node | None = None) -> DomainError:
    """An INVALID_MANIFEST error naming `field`, and the line of `node` when given."""
    where = f" (line {node.start_mark.line + 1})" if node is not None else ""
    return DomainError(ErrorCode.INVALID_MANIFEST, f"{message}{where}", field)


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def _path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _found(node: Node, key: str, path: str) -> Node | None:
    field = _path(path, key)
    if not isinstance(node, MappingNode):
        raise error(f"{path or 'the manifest'} must be a mapping", path or "manifest", node)
    found = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == key]
    if len(found) > 1:
        # YAML wants unique keys; readers disagree on which one wins (PyYAML, so the CLI:
        # the last), so a repeated key would apply something other than what the CLI saw.
        raise error(f"{field} is given more than once", field, found[1][0])
    return found[0][1] if found else None


def child(node: Node, key: str, path: str) -> Node:
    """The value under `key` of a mapping node; an error naming the field when missing."""
    found = _found(node, key, path)
    if found is None:
        raise error(f"missing field {_path(path, key)}", _path(path, key), node)
    return found


def optional_child(node: Node, key: str, path: str) -> Node | None:
    """The value under `key`, or None when the key is absent or its value is null."""
    found = _found(node, key, path)
    if found is None or (isinstance(found, ScalarNode) and found.tag == "tag:yaml.org,2002:null"):
        return None
    return found


def only_keys(node: Node, allowed: tuple[str, ...], path: str) -> None:
    """Refuse keys the kind does not know: a misspelt optional key would silently be unset."""
    if not isinstance(node, MappingNode):
        raise error(f"{path or 'the manifest'} must be a mapping", path or "manifest", node)
    for key, _ in node.value:
        name = key.value if isinstance(key, ScalarNode) else None
        if name not in allowed:
            shown = repr(name[:60]) if isinstance(name, str) else "a non-string key"
            raise error(
                f"unknown field {shown} in {path or 'the manifest'}; known fields: "
                f"{', '.join(allowed)}",
                _path(path, str(name)[:60]),
                key,
            )


def string(node: Node, field: str) -> str:
    if not isinstance(node, ScalarNode) or node.tag != _STR or not node.value:
        raise error(f"{field} must be a non-empty string", field, node)
    if not storable(node.value):  # "\0" or "\ud800" escapes in a quoted YAML string
        raise error(f"{field} may not contain the NUL character or lone surrogates", field, node)
    return str(node.value)


def boolean(node: Node, field: str) -> bool:
    if not isinstance(node, ScalarNode) or node.tag != _BOOL:
        raise error(f"{field} must be true or false", field, node)
    return bool(yaml.safe_load(node.value))


def integer(node: Node, field: str) -> int:
    if not isinstance(node, ScalarNode) or node.tag != _INT:
        raise error(f"{field} must be a whole number", field, node)
    try:
        # Its range is the server's rule; bounded here only so a 10,000-digit number
        # cannot cost a slow conversion.
        if len(node.value) > 12:
            raise ValueError
        return int(node.value.replace("_", ""), 0)
    except ValueError:
        raise error(f"{field} must be a whole number", field, node) from None


def sequence(node: Node, field: str) -> list[Node]:
    if not isinstance(node, SequenceNode) or not node.value:
        raise error(f"{field} must be a non-empty list", field, node)
    return list(node.value)


def _position(text: str, index: int) -> str:
    """`line L, column C` (1-based) of a character index, for errors that only know the index."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


# `key:value`: a colon followed by something other than a space, outside quotes and URLs.
_NO_SPACE_AFTER_COLON = re.compile(r"^\s*(?:-\s+)?[A-Za-z_][\w.-]*:[^\s/:]")


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return lines[number - 1] if 1 <= number <= len(lines) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _above(text: str, number: int) -> tuple[int, str]:
    """The nearest non-blank, non-comment line before line `number`."""
    for n in range(number - 1, 0, -1):
        line = _line(text, n)
        if line.strip() and not line.lstrip().startswith("#"):
            return n, line
    return 0, ""


def _hint(text: str, exc: yaml.MarkedYAMLError) -> str | None:
    """Advice for the YAML mistakes people make by hand; None when none fits."""
    problem = exc.problem or ""
    mark = exc.problem_mark
    line = mark.line + 1 if mark else 0
    started = exc.context_mark.line + 1 if exc.context_mark else line
    if "'\\t'" in problem:
        return f"YAML indents with spaces only: replace the tab on line {line} with spaces"
    if "escape character" in problem:
        return "inside double quotes a backslash starts an escape: use single quotes, or write \\\\"
    if "quoted scalar" in (exc.context or ""):
        return f"the quote opened on line {started} is not closed"
    if "cannot start any token" in problem or "alphabetic or numeric" in problem:
        return "put the value in quotes: YAML reserves characters such as @ ` * & ! % at its start"
    for number in (line, started, _above(text, line)[0]):
        if _NO_SPACE_AFTER_COLON.match(_line(text, number)):
            return f"put a space after the ':' on line {number} (key: value)"
    if "mapping values are not allowed" in problem:
        number, above = _above(text, line)
        if above and _indent(_line(text, line)) > _indent(above.replace("- ", "  ", 1)):
            return (
                f"check the indentation of line {line} and the line above (line {number}): "
                "keys of one mapping must start in the same column"
            )
        return (
            f"check the indentation of line {line} and the line above, and quote a value "
            "that contains ': '"
        )
    if problem.startswith("expected <block end>") or "expected key" in problem:
        return (
            f"check the indentation of line {line} and the line above: the items of one "
            "mapping or list must start in the same column"
        )
    return None


def _syntax_error(text: str, exc: yaml.YAMLError) -> DomainError:
    """One line naming where the YAML broke and why (PyYAML's own text spans several lines)."""
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised for characters YAML forbids (NUL, lone surrogates...): it knows an index only.
        return error(
            f"YAML syntax error at {_position(text, exc.position)}: "
            f"character #x{exc.character:04x} is not allowed in YAML",
            "manifest",
        )
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
        hint = _hint(text, exc)
        return error(
            f"YAML syntax error{where}: {what}" + (f"; hint: {hint}" if hint else ""), "manifest"
        )
    return error(f"YAML syntax error: {' '.join(str(exc).split())}", "manifest")


def compose(text: str) -> Node:
    """The manifest's YAML node tree, or an INVALID_MANIFEST error naming line and column."""
    # surrogatepass: a JSON request may carry lone surrogates ("\ud800"); they must reach
    # the YAML reader (which refuses them with a position) instead of crashing here.
    # Characters first: no copy is encoded of a text that is too big whatever its bytes.
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise error(f"the manifest is larger than {MAX_BYTES} bytes", "manifest")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _syntax_error(text, exc) from None
    if root is None:
        raise error("the manifest is empty", "manifest")
    return root


def kind_of(root: Node) -> str:
    """The `kind` of a manifest whose `apiVersion` is v1."""
    api_version = child(root, "apiVersion", "")
    if string(api_version, "apiVersion") != API_VERSION:
        raise error(f"apiVersion must be {API_VERSION}", "apiVersion", api_version)
    return string(child(root, "kind", ""), "kind")


def check_kind(root: Node, kind: str) -> None:
    found = kind_of(root)
    if found != kind:
        # Clipped: the value is the client's text and may be as long as the manifest.
        raise error(f"kind must be {kind} (got {found[:60]!r})", "kind", child(root, "kind", ""))

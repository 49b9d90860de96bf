"""Surgical edits of YAML text: ruamel.yaml finds the nodes and their exact positions in
the text, and only the characters of the values being changed are rewritten.

A round trip (load, change, dump) keeps comments and key order, but still re-indents
sequences, re-wraps long lines and may re-quote scalars the way ruamel prefers: a commit
that should change one line would touch others. Splicing the original text at the marks
of the composed nodes changes nothing else by construction. As a defence in depth, every
edit is checked before it is returned: the new text is parsed again, and every scalar of
every document must read as before except the ones the edit meant to change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

STR = "tag:yaml.org,2002:str"
# A tag or reference written without quotes only when it looks like one (and, below,
# reads back as the same string in YAML 1.1 and 1.2: Helm and kubectl read 1.1).
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./@:+-]*$")

Path = tuple[Any, ...]


class EditError(Exception):
    """The file cannot take the edit (not YAML, no such key or entry): said in one line."""


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    text: str


def _reads_back(value: str) -> bool:
    for version in ((1, 1), (1, 2)):
        yaml = YAML(typ="safe", pure=True)
        yaml.version = version
        try:
            if yaml.load(value) != value:
                return False
        except YAMLError:
            return False
    return True


def render(value: str, style: str | None) -> str:
    """`value` as a YAML scalar: in the quotes the old value had, plain when it had none
    and plain reads back as this string, else double-quoted."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style != '"' and _PLAIN.match(value) and _reads_back(value):
        return value
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def compose(text: str, path: str) -> list[Node]:
    """The documents of `text` as ruamel nodes (marks included); EditError if not YAML."""
    try:
        docs = list(YAML(typ="rt").compose_all(text))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise EditError(f"{path} is not valid YAML{where}: {problem}") from None
    return [doc for doc in docs if doc is not None]


def scalar_text(node: Node) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) else None


def pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    return list(node.value)


def get(node: Node, key: str) -> tuple[Node, Node] | None:
    """The (key, value) nodes of `key` in a mapping node; None when absent or not a mapping."""
    if not isinstance(node, MappingNode):
        return None
    for k, v in pairs(node):
        if scalar_text(k) == key:
            return k, v
    return None


def _flatten(docs: list[Node]) -> tuple[dict[Path, tuple[str, str]], dict[int, Path]]:
    """Every scalar and collection by its path (document index, then keys and indexes),
    and the path of each node (by identity)."""
    flat: dict[Path, tuple[str, str]] = {}
    where: dict[int, Path] = {}

    def walk(node: Node, path: Path) -> None:
        where[id(node)] = path
        if isinstance(node, MappingNode):
            flat[path] = ("!map", str(len(node.value)))
            for k, v in node.value:
                walk(v, (*path, scalar_text(k) if isinstance(k, ScalarNode) else repr(k.value)))
        elif isinstance(node, SequenceNode):
            flat[path] = ("!seq", str(len(node.value)))
            for i, item in enumerate(node.value):
                walk(item, (*path, i))
        else:
            flat[path] = (str(node.tag), str(node.value))

    for i, doc in enumerate(docs):
        walk(doc, (i,))
    return flat, where


class Edit:
    """Changes to one YAML text, applied and checked by `result()`."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path = text, path
        self.docs = compose(text, path)
        self._before, self._where = _flatten(self.docs)
        self._expected = dict(self._before)
        self._splices: list[_Splice] = []
        self._removed: set[int] = set()  # the key nodes of pairs taken out
        self._newline = "\r\n" if "\r\n" in text else "\n"

    def _value_end(self, key: Node, value: Node) -> int:
        if value.start_mark.index < value.end_mark.index:
            return int(value.end_mark.index)
        # An empty value (`tag:`): its marks sit on the next token; it ends at the colon.
        return self.text.index(":", key.end_mark.index) + 1

    def _scalar(self, value: Node, what: str) -> ScalarNode:
        if not isinstance(value, ScalarNode):
            kind = "a mapping" if isinstance(value, MappingNode) else "a list"
            raise EditError(f"{self.path}: {what} is {kind}, not a value")
        return value

    def set_value(self, key: Node, value: Node, new: str, what: str) -> None:
        """The value of `key` becomes the string `new`, in the old value's quotes."""
        scalar = self._scalar(value, what)
        if scalar.tag == STR and scalar.value == new:
            return
        if scalar.start_mark.index == scalar.end_mark.index:
            at = self._value_end(key, value)
            self._splices.append(_Splice(at, at, " " + render(new, None)))
        else:
            start, end = scalar.start_mark.index, scalar.end_mark.index
            self._splices.append(_Splice(start, end, render(new, scalar.style)))
        self._expected[self._where[id(value)]] = (STR, new)

    def replace_pair(self, key: Node, value: Node, new_key: str, new: str, what: str) -> None:
        """The pair `key: value` becomes `new_key: new`, in its place."""
        scalar = self._scalar(value, what)
        end = self._value_end(key, value)
        text = f"{new_key}: {render(new, scalar.style)}"
        self._splices.append(_Splice(key.start_mark.index, end, text))
        path = self._where[id(value)]
        del self._expected[path]
        self._expected[(*path[:-1], new_key)] = (STR, new)

    def add_pair(self, mapping: MappingNode, new_key: str, new: str) -> None:
        """`new_key: new` after the mapping's last pair (on a line of its own in a block);
        pairs to take out go first."""
        last_key, last_value = [p for p in pairs(mapping) if id(p[0]) not in self._removed][-1]
        end = self._value_end(last_key, last_value)
        pair = f"{new_key}: {render(new, None)}"
        if mapping.flow_style:
            self._splices.append(_Splice(end, end, f", {pair}"))
        else:
            line_end = self.text.find("\n", end)
            if line_end == -1:
                line_end = len(self.text)
            elif self.text[line_end - 1] == "\r":
                line_end -= 1
            indent = " " * pairs(mapping)[0][0].start_mark.column
            self._splices.append(_Splice(line_end, line_end, f"{self._newline}{indent}{pair}"))
        path = self._where[id(mapping)]
        self._count(path, +1)
        self._expected[(*path, new_key)] = (STR, new)

    def remove_pair(self, mapping: MappingNode, key: Node, value: Node, what: str) -> None:
        """Take `key: value` out of the mapping (a block pair must have its own line)."""
        self._scalar(value, what)
        end = self._value_end(key, value)
        index = [k for k, _ in pairs(mapping)].index(key)
        if mapping.flow_style:
            if index:
                start = self._value_end(*pairs(mapping)[index - 1])
            else:
                start, end = key.start_mark.index, pairs(mapping)[1][0].start_mark.index
        else:
            start = self.text.rfind("\n", 0, key.start_mark.index) + 1
            if self.text[start : key.start_mark.index].strip() or index == 0:
                raise EditError(f"{self.path}: {what} is not on a line of its own")
            line_end = self.text.find("\n", end)
            end = len(self.text) if line_end == -1 else line_end + 1
        self._splices.append(_Splice(start, end, ""))
        self._removed.add(id(key))
        path = self._where[id(mapping)]
        self._count(path, -1)
        del self._expected[self._where[id(value)]]

    def _count(self, path: Path, change: int) -> None:
        kind, count = self._expected[path]
        self._expected[path] = (kind, str(int(count) + change))

    def result(self) -> str:
        """The edited text; EditError when the edits would change anything else."""
        text = self.text
        last = len(text) + 1
        for splice in sorted(self._splices, key=lambda s: s.start, reverse=True):
            if splice.end > last:
                raise EditError(f"{self.path}: overlapping edits")
            text = text[: splice.start] + splice.text + text[splice.end :]
            last = splice.start
        if text != self.text:
            after, _ = _flatten(compose(text, self.path))
            if after != self._expected:
                raise EditError(f"{self.path}: the edit would change more than the image")
        return text

"""Static checks of a CEL condition at save: cost limits and types (SPEC §3).

Both work on the lark parse tree celpy produces (grammar: celpy/cel.lark) and need no
evaluation, so they are cheap for any text within :data:`MAX_EXPRESSION_CHARS`.

The type check infers a type for every sub-expression bottom-up from the declared types of
the variables, and checks each operator and function against CEL's standard overloads as
celpy implements them (celpy is strict: ``1 == 1.0`` and ``1 == "a"`` are "no such
overload" errors, not false). Where a type cannot be known statically (``dyn(x)``, a
ternary whose branches differ, a mixed list literal) it is ``dyn`` and anything goes: only
combinations that can never work are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

import lark

from app.cel.limits import (
    COMPREHENSION_MACROS,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_NODES,
    MAX_MACRO_NESTING,
    MAX_MACROS,
)

# celpy's parse trees: lark trees whose leaves are tokens.
Tree = lark.Tree[lark.Token]
Node = Tree | lark.Token
# A CEL type: "int", "string", "dyn", ... or ("list", elem) / ("map", key, value).
Type = str | tuple["Type", ...]

DYN = "dyn"
BOOL = "bool"
INT = "int"
UINT = "uint"
DOUBLE = "double"
STRING = "string"
BYTES = "bytes"
NULL = "null_type"
TYPE = "type"
TIMESTAMP = "timestamp"
DURATION = "duration"
# The element type of an empty list or map literal: it takes the type of whatever it is
# combined with (``imageLabels + []`` is still a list of strings).
EMPTY = "empty"


def struct(*fields: tuple[str, Type]) -> Type:
    """A map with known string keys of known types (an object of the evidence variables);
    at run time a CEL map, or null where the evidence is absent."""
    return ("struct", *fields)


_SIGNATURE = struct(("keyName", STRING), ("verified", BOOL))
_PACKAGE = struct(("name", STRING), ("version", STRING), ("licenses", ("list", STRING)))

VARIABLE_TYPES: dict[str, Type] = {
    "containerImage": STRING,
    "containerRepository": STRING,
    "containerImageTag": STRING,
    "imageLabels": ("list", STRING),
    "gitCommitDetails": ("map", STRING, ("map", STRING, STRING)),
    # issue 20: the evidence; each object is null when no evidence of its type is attached.
    "signatures": ("list", _SIGNATURE),
    "vulnerabilities": struct(
        ("critical", INT),
        ("high", INT),
        ("medium", INT),
        ("low", INT),
        ("fixableCritical", INT),
        ("fixableHigh", INT),
        ("ids", ("list", STRING)),
    ),
    "provenance": struct(
        ("builderId", STRING),
        ("sourceRepository", STRING),
        ("sourceCommit", STRING),
        ("verified", BOOL),
    ),
    "sbom": struct(("packages", ("list", _PACKAGE))),
    "evidenceAge": struct(
        ("signature", DURATION),
        ("vulnerabilities", DURATION),
        ("provenance", DURATION),
        ("sbom", DURATION),
    ),
}


def _is_struct(t: Type) -> bool:
    return isinstance(t, tuple) and t[0] == "struct"


def _field_type(t: Type, name: str) -> Type | None:
    for entry in t[1:] if isinstance(t, tuple) else ():
        if isinstance(entry, tuple) and entry[0] == name:
            return entry[1]
    return None


_TYPE_NAMES = frozenset(
    {"bool", "bytes", "double", "int", "uint", "string", "list", "map", "null_type", "type"}
)
_LITERALS = {
    "INT_LIT": INT,
    "UINT_LIT": UINT,
    "FLOAT_LIT": DOUBLE,
    "STRING_LIT": STRING,
    "MLSTRING_LIT": STRING,
    "BYTES_LIT": BYTES,
    "BOOL_LIT": BOOL,
    "NULL_LIT": NULL,
}
_MACROS = frozenset(COMPREHENSION_MACROS)
_NUMBERS = (INT, UINT, DOUBLE)
_ORDERED = frozenset({INT, UINT, DOUBLE, STRING, BYTES, BOOL, TIMESTAMP, DURATION})

# (argument types accepted, result) per function; receiver-style calls pass the receiver
# as the first argument, as celpy does. "*" accepts any type.
_ANY = frozenset({"*"})
_SIGNATURES: dict[str, tuple[tuple[frozenset[str], ...], Type]] = {
    "size": ((frozenset({STRING, BYTES, "list", "map"}),), INT),
    "int": ((frozenset({INT, UINT, DOUBLE, STRING, TIMESTAMP}),), INT),
    "uint": ((frozenset({INT, UINT, DOUBLE, STRING}),), UINT),
    "double": ((frozenset({INT, UINT, DOUBLE, STRING}),), DOUBLE),
    "string": ((frozenset({INT, UINT, DOUBLE, STRING, BYTES, BOOL, TIMESTAMP, DURATION}),), STRING),
    "bytes": ((frozenset({STRING, BYTES}),), BYTES),
    "bool": ((frozenset({BOOL, STRING}),), BOOL),
    "timestamp": ((frozenset({STRING, TIMESTAMP}),), TIMESTAMP),
    "duration": ((frozenset({STRING, DURATION}),), DURATION),
    "type": ((_ANY,), TYPE),
    "dyn": ((_ANY,), DYN),
    "matches": ((frozenset({STRING}), frozenset({STRING})), BOOL),
    "contains": ((frozenset({STRING}), frozenset({STRING})), BOOL),
    "startsWith": ((frozenset({STRING}), frozenset({STRING})), BOOL),
    "endsWith": ((frozenset({STRING}), frozenset({STRING})), BOOL),
}
_TIME_PARTS = (
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getMonth",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getSeconds",
)


class CheckError(Exception):
    """The first problem found; ``str()`` is the message for the user."""


def type_name(t: Type) -> str:
    if t == EMPTY:
        return DYN
    if _is_struct(t):
        return "map(string, dyn)"
    if isinstance(t, tuple):
        return f"{t[0]}({', '.join(type_name(part) for part in t[1:])})"
    return t


def _kind(t: Type) -> str:
    if _is_struct(t):
        return "map"
    return str(t[0]) if isinstance(t, tuple) else t


def where(node: Node) -> str:
    if isinstance(node, lark.Token):
        line, column = node.line, node.column
    else:
        line, column = getattr(node.meta, "line", None), getattr(node.meta, "column", None)
        if line is None:  # lark leaves some inner nodes without a position: use the first token
            first = next(
                node.scan_values(lambda v: isinstance(v, lark.Token) and v.line is not None), None
            )
            if first is not None:
                line, column = first.line, first.column
    return f"line {line or '?'}, column {column or '?'}"


def _position_of(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


# --------------------------------------------------------------------- cost limits


def check_length(text: str) -> str | None:
    """Refuse a text over the character limit, before it is parsed."""
    if len(text) <= MAX_EXPRESSION_CHARS:
        return None
    return (
        f"expression is too long: {len(text):,} characters, at most "
        f"{MAX_EXPRESSION_CHARS:,} (the limit is passed at "
        f"{_position_of(text, MAX_EXPRESSION_CHARS)})"
    )


def _significant(node: Tree) -> Iterator[Tree]:
    """Nodes in source order, skipping the grammar's one-child pass-through levels."""
    stack = [node]
    while stack:
        current = stack.pop()
        if len(current.children) != 1 or current.data in ("literal", "ident", "dot_ident"):
            yield current
        stack.extend(reversed([c for c in current.children if isinstance(c, lark.Tree)]))


def _token(node: Tree, i: int) -> lark.Token:
    """Child ``i`` of ``node`` where CEL's grammar puts a token (a name, an operator)."""
    return cast(lark.Token, node.children[i])


def _subtree(node: Tree, i: int) -> Tree:
    """Child ``i`` of ``node`` where CEL's grammar puts a tree (an argument list)."""
    return cast(Tree, node.children[i])


def _macro_name(node: Tree) -> str | None:
    if node.data == "member_dot_arg" and str(node.children[1]) in _MACROS:
        return str(node.children[1])
    return None


def check_cost(tree: Tree) -> str | None:
    """Refuse a tree over the node, macro-count or macro-nesting limits."""
    macros: list[Tree] = []
    for count, node in enumerate(_significant(tree), 1):
        if count > MAX_EXPRESSION_NODES:
            return (
                f"expression is too large: more than {MAX_EXPRESSION_NODES:,} "
                f"operators and operands (the limit is passed at {where(node)})"
            )
        if _macro_name(node):
            macros.append(node)
    if len(macros) > MAX_MACROS:
        # Pre-order visits a chain's last call first; the user reads left to right.
        macros.sort(key=lambda m: (_token(m, 1).line, _token(m, 1).column))
        return (
            f"too many comprehensions: {len(macros)} calls of "
            f"{', '.join(COMPREHENSION_MACROS)}, at most {MAX_MACROS} (the first one "
            f"over the limit is at {where(macros[MAX_MACROS].children[1])})"
        )
    return _check_nesting(tree, 0)


def _check_nesting(node: Node, depth: int) -> str | None:
    """A macro's body runs once per element: macros inside it are nested; its receiver
    runs once, so a macro there is not."""
    if isinstance(node, lark.Token):
        return None
    name = _macro_name(node)
    if name is None:
        for child in node.children:
            if problem := _check_nesting(child, depth):
                return problem
        return None
    if depth + 1 > MAX_MACRO_NESTING:
        return (
            f"comprehensions nested too deeply: {name}() at {where(node.children[1])} "
            f"is nested {depth + 1} deep, at most {MAX_MACRO_NESTING} "
            f"({', '.join(COMPREHENSION_MACROS)})"
        )
    receiver = node.children[0]
    body = node.children[2] if len(node.children) > 2 else None
    return _check_nesting(receiver, depth) or (
        _check_nesting(body, depth + 1) if body is not None else None
    )


# ---------------------------------------------------------------------- type check


def check_types(tree: Tree) -> str | None:
    """The first type error of a name-checked tree, or None when it may be a boolean."""
    try:
        result = _Checker().infer(tree, {}, condition=True)
    except CheckError as error:
        return str(error)
    if result not in (BOOL, DYN):
        return f"condition must evaluate to a boolean, got {_kind(result)}"
    return None


def _problem(node: Node, message: str) -> CheckError:
    return CheckError(f"type error at {where(node)}: {message}")


def _join(types: list[Type]) -> Type:
    """One type for several (list elements, ternary branches): dyn when they differ."""
    distinct = set(types) - {EMPTY}
    if not distinct:
        return EMPTY
    return distinct.pop() if len(distinct) == 1 else DYN


def _compatible(a: Type, b: Type) -> bool:
    """Could values of these types be compared with == (celpy needs equal types)?"""
    if a in (DYN, EMPTY) or b in (DYN, EMPTY):
        return True
    if NULL in (a, b) and (_is_struct(a) or _is_struct(b) or DURATION in (a, b)):
        # `vulnerabilities == null`: the evidence objects may be null, and so may each of
        # evidenceAge's durations (the only durations a variable holds).
        return True
    if _is_struct(a) or _is_struct(b):
        return _kind(a) == _kind(b)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return a[0] == b[0] and all(_compatible(x, y) for x, y in zip(a[1:], b[1:], strict=True))
    return a == b


def _literal_zero(node: Node) -> bool:
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        node = node.children[0]
    if not isinstance(node, lark.Token) or node.type not in ("INT_LIT", "UINT_LIT", "FLOAT_LIT"):
        return False
    text = str(node).rstrip("uU")
    try:
        return float(int(text, 0) if node.type != "FLOAT_LIT" else float(text)) == 0
    except ValueError:
        return False


_OPERATORS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}


class _Checker:
    def infer(self, node: Node, scope: dict[str, Type], condition: bool = False) -> Type:
        """The type of ``node``; ``condition``: its value is the condition's (or an operand
        of a top-level && / ||, which celpy passes through as the condition's value)."""
        if isinstance(node, lark.Token):
            return DYN
        data, children = node.data, node.children
        if len(children) == 1 and data not in (
            "literal",
            "ident",
            "dot_ident",
            "list_lit",
            "map_lit",
            "ident_arg",
            "dot_ident_arg",
            "paren_expr",
        ):
            return self.infer(children[0], scope, condition)
        method: Callable[[Tree, dict[str, Type], bool], Type] | None = getattr(
            self, f"_{data}", None
        )
        if method is None:
            return DYN
        return method(node, scope, condition)

    # --- logic
    def _expr(self, node: Tree, scope: dict[str, Type], condition: bool) -> Type:
        test, yes, no = node.children
        self._need_bool(test, self.infer(test, scope), "the ?: condition")
        return _join([self.infer(yes, scope, condition), self.infer(no, scope, condition)])

    def _logical(self, node: Tree, scope: dict[str, Type], condition: bool, op: str) -> Type:
        for operand in node.children:
            t = self.infer(operand, scope, condition)
            if t not in (BOOL, DYN):
                if condition:
                    raise CheckError(f"condition must evaluate to a boolean, got {_kind(t)}")
                raise _problem(operand, f"'{op}' takes booleans, got {type_name(t)}")
        return BOOL

    def _conditionalor(self, node: Tree, scope: dict[str, Type], condition: bool) -> Type:
        return self._logical(node, scope, condition, "||")

    def _conditionaland(self, node: Tree, scope: dict[str, Type], condition: bool) -> Type:
        return self._logical(node, scope, condition, "&&")

    def _need_bool(self, node: Node, t: Type, what: str) -> None:
        if t not in (BOOL, DYN):
            raise _problem(node, f"{what} must be a boolean, got {type_name(t)}")

    # --- binary operators: [op_node(left), right]
    def _binary(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        op_node, right = node.children
        assert isinstance(op_node, lark.Tree)
        op = _OPERATORS[op_node.data]
        a = self.infer(op_node.children[0], scope)
        b = self.infer(right, scope)
        if op in ("/", "%") and _literal_zero(right):
            raise CheckError(f"division by zero at {where(node)}: the divisor is a literal 0")
        result = _binary_result(op, a, b)
        if result is None:
            raise _problem(node, f"'{op}' cannot be applied to {type_name(a)} and {type_name(b)}")
        return result

    _relation = _addition = _multiplication = _binary

    def _unary(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        op, operand = node.children
        t = self.infer(operand, scope)
        assert isinstance(op, lark.Tree)
        if op.data == "unary_not":
            self._need_bool(node, t, "the operand of '!'")
            return BOOL
        if t not in (INT, DOUBLE, DURATION, DYN):
            raise _problem(node, f"'-' cannot be applied to {type_name(t)}")
        return t

    # --- leaves
    def _literal(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        token = node.children[0]
        return _LITERALS.get(token.type, DYN) if isinstance(token, lark.Token) else DYN

    def _ident(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        name = str(node.children[0])
        if name in scope:
            return scope[name]
        if name in VARIABLE_TYPES:
            return VARIABLE_TYPES[name]
        return TYPE if name in _TYPE_NAMES else DYN

    def _dot_ident(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        return VARIABLE_TYPES.get(str(node.children[0]), DYN)

    def _paren_expr(self, node: Tree, scope: dict[str, Type], condition: bool) -> Type:
        return self.infer(node.children[0], scope, condition)

    def _list_lit(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        items = _subtree(node, 0).children if node.children and node.children[0] else []
        return ("list", _join([self.infer(i, scope) for i in items]))

    def _map_lit(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        inits = _subtree(node, 0).children if node.children and node.children[0] else []
        keys = [self.infer(k, scope) for k in inits[0::2]]
        values = [self.infer(v, scope) for v in inits[1::2]]
        return ("map", _join(keys), _join(values))

    # --- members
    def _member_dot(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        receiver, field = node.children
        t = self.infer(receiver, scope)
        if t == DYN:
            return DYN
        if _is_struct(t):
            found = _field_type(t, str(field))
            if found is None:
                names = ", ".join(str(e[0]) for e in t[1:] if isinstance(e, tuple))
                raise _problem(node, f"no field {str(field)!r} here (it has {names})")
            return found
        if _kind(t) == "map" and isinstance(t, tuple) and t[1] in (STRING, DYN, EMPTY):
            return _known(t[2])
        raise _problem(node, f"{type_name(t)} has no field {str(field)!r}")

    def _member_index(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        receiver, index = node.children
        t, i = self.infer(receiver, scope), self.infer(index, scope)
        if t == DYN:
            return DYN
        if _is_struct(t):
            if i not in (STRING, DYN):
                raise _problem(index, f"a key of this map must be a string, got {type_name(i)}")
            return DYN
        if isinstance(t, tuple) and t[0] == "list":
            if i not in (INT, DYN):
                raise _problem(index, f"a list index must be an int, got {type_name(i)}")
            return _known(t[1])
        if isinstance(t, tuple) and t[0] == "map":
            if not _compatible(t[1], i):
                raise _problem(
                    index, f"a key of {type_name(t)} must be {type_name(t[1])}, got {type_name(i)}"
                )
            return _known(t[2])
        raise _problem(node, f"{type_name(t)} cannot be indexed")

    def _member_dot_arg(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        receiver, name_token = node.children[0], node.children[1]
        args = (
            list(_subtree(node, 2).children) if len(node.children) > 2 and node.children[2] else []
        )
        name = str(name_token)
        t = self.infer(receiver, scope)
        if name in _MACROS:
            return self._macro(node, name, t, args, scope)
        return self._call(node, name, [(receiver, t)] + [(a, self.infer(a, scope)) for a in args])

    def _macro(
        self, node: Tree, name: str, t: Type, args: list[Node], scope: dict[str, Type]
    ) -> Type:
        element: Type
        if _is_struct(t):
            element = STRING  # a map's macros range over its keys
        elif isinstance(t, tuple) and t[0] in ("list", "map"):
            element = _known(t[1])
        elif t == DYN:
            element = DYN
        else:
            raise _problem(node, f"{name}() needs a list or map, got {type_name(t)}")
        variable = bare_ident(args[0])
        assert variable is not None  # the name check refused anything else
        body = self.infer(args[1], {**scope, variable: element})
        if name == "map":
            # Mapping an empty literal makes an empty list: of no type yet, like the literal
            # (else `imageLabels + [].map(y, y + "!")` would pass as a list of dyn).
            empty = isinstance(t, tuple) and t[1] == EMPTY
            return ("list", EMPTY if empty else body)
        self._need_bool(args[1], body, f"the expression of {name}()")
        # filter() keeps the elements, so it keeps their type (an empty literal's too).
        kept = STRING if _is_struct(t) else (t[1] if isinstance(t, tuple) else DYN)
        return ("list", kept) if name == "filter" else BOOL

    def _ident_arg(self, node: Tree, scope: dict[str, Type], _: bool) -> Type:
        name = str(node.children[0])
        args = (
            list(_subtree(node, 1).children) if len(node.children) > 1 and node.children[1] else []
        )
        if name == "has":
            return BOOL  # has(x.f) is a macro: it never raises, whatever x is
        return self._call(node, name, [(a, self.infer(a, scope)) for a in args])

    _dot_ident_arg = _ident_arg

    def _call(self, node: Tree, name: str, args: list[tuple[Node, Type]]) -> Type:
        if name in _TIME_PARTS:
            if not 1 <= len(args) <= 2:
                raise _problem(
                    node, f"{name}() takes a timestamp or duration and an optional time zone"
                )
            if args[0][1] not in (TIMESTAMP, DURATION, DYN):
                raise _problem(
                    args[0][0],
                    f"{name}() needs a timestamp or duration, got {type_name(args[0][1])}",
                )
            return INT
        signature = _SIGNATURES.get(name)
        if signature is None:
            return DYN  # list(), map(), ...: nothing known, nothing refused
        accepted, result = signature
        if len(args) != len(accepted):
            raise _problem(node, f"{name}() takes {len(accepted)} argument(s), got {len(args)}")
        for (arg, t), kinds in zip(args, accepted, strict=True):
            if t != DYN and "*" not in kinds and _kind(t) not in kinds:
                raise _problem(
                    arg,
                    f"{name}() cannot take {type_name(t)} (it takes {' or '.join(sorted(kinds))})",
                )
        return result


def _known(t: Type) -> Type:
    """An element taken out of a collection: of an empty literal's, nothing is known."""
    return DYN if t == EMPTY else t


def bare_ident(node: Node) -> str | None:
    """The name when ``node`` is an expression that is just one identifier, else None."""
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        if node.data == "ident":
            token = node.children[0]
            return str(token.value) if isinstance(token, lark.Token) else None
        node = node.children[0]
    return None


def _binary_result(op: str, a: Type, b: Type) -> Type | None:
    """The result type of ``a op b``, or None when no overload can match."""
    if op in ("==", "!="):
        return BOOL if _compatible(a, b) else None
    if op == "in":
        if b == DYN:
            return BOOL
        if _is_struct(b):
            return BOOL if a in (STRING, DYN) else None
        if isinstance(b, tuple) and _compatible(a, b[1]):
            return BOOL
        return None
    if a == DYN or b == DYN:
        return BOOL if op in ("<", "<=", ">", ">=") else DYN
    if op in ("<", "<=", ">", ">="):
        return BOOL if a == b and a in _ORDERED else None
    if op == "+":
        if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "list":
            return ("list", _join([a[1], b[1]]))
        if a == b and a in (*_NUMBERS, STRING, BYTES, DURATION):
            return a
        if {a, b} == {TIMESTAMP, DURATION}:
            return TIMESTAMP
        return None
    if op == "-":
        if a == b and a in (*_NUMBERS, DURATION):
            return a
        if a == TIMESTAMP and b in (TIMESTAMP, DURATION):
            return DURATION if b == TIMESTAMP else TIMESTAMP
        return None
    if op in ("*", "/"):
        return a if a == b and a in _NUMBERS else None
    # %
    return a if a == b and a in (INT, UINT) else None

"""Explain a condition that kept an image back, clause by clause (issue 20, item 3).

When a pass condition is false (or a fail condition true), the condition's top-level
``&&`` / ``||`` operands are evaluated one by one, and the ones that decided the verdict
are reported with their value: a comparison shows its operands' values
(``vulnerabilities.fixableCritical == 0`` → ``3 == 0``), a method call its receiver's
(``containerImageTag.startsWith("v")`` → ``"1.4.2".startsWith("v")``). An operand that is
itself an ``&&`` / ``||`` (in parentheses, or ``a && b || c``) is explained the same way.

Which operands decided it: those whose value is the condition's "bad" value (false for a
pass condition, true for a fail condition) or that failed to evaluate. In ``a && b`` that
is false they are the false ones; in ``a || b`` that is false, all of them.

The cost is bounded like any evaluation (app/cel/limits.py): the explanation runs only for
an image that is already not eligible, on the CEL threads, for at most
:data:`MAX_EVALUATIONS` sub-expressions and :data:`MAX_CLAUSES` reported clauses, and all of
it under one :data:`~app.cel.limits.RUNTIME_BUDGET` (and the batch's deadline). Running out
of budget ends the explanation with what it found so far.

Sub-expressions are compiled from the condition's own parse tree (celpy transpiles any
subtree); their text is printed back from the tree (:func:`unparse`) because celpy's
keyword literals (``true``, ``null``) carry no source positions.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass, field
from typing import cast

import celpy
import celpy.celtypes as celtypes
import lark

from app.cel import budget as cel_budget
from app.cel.base import clip, eval_error_message, get_environment, is_bool, lock
from app.cel.budget import BudgetExceeded, Meter
from app.cel.limits import RUNTIME_BUDGET

Tree = lark.Tree[lark.Token]
Node = Tree | lark.Token | None

# Clauses reported for one condition, and sub-expressions evaluated to find them (a
# comparison's two sides count as two more).
MAX_CLAUSES = 10
MAX_EVALUATIONS = 32
PASS = "pass"
FAIL = "fail"
# Longest rendered value of one operand, and of a whole clause's rendering.
_MAX_OPERAND = 80
_MAX_RENDERED = 200

_RELATIONS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
}
_ARITHMETIC = {
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}
# Rules that only pass their one child through.
_WRAPPERS = frozenset(
    {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication"}
    | {"unary", "member", "primary", "paren_expr"}
)


@dataclass(frozen=True)
class ClauseResult:
    """One clause that decided a verdict: the condition it is part of ("pass" or "fail"),
    its text, its value rendered, and its result (None with ``error`` when it could not be
    evaluated)."""

    condition: str
    expression: str
    value: str
    result: bool | None
    error: str | None = None


def describe(clause: ClauseResult) -> str:
    """One line for people (emails, the audit log): which clause, and what it came to."""
    outcome = f"error: {clause.error}" if clause.error is not None else clause.value
    return f"{clause.condition} condition: {clause.expression} → {outcome}"


# ------------------------------------------------------------------------ the tree


def _children(node: Tree) -> list[Node]:
    return list(node.children)


def unparse(node: Node) -> str:
    """CEL text of a parse (sub)tree, with normalised spacing."""
    if node is None:
        return ""
    if isinstance(node, lark.Token):
        return str(node)
    c = _children(node)
    data = node.data
    if data == "expr" and len(c) == 3:
        return f"{unparse(c[0])} ? {unparse(c[1])} : {unparse(c[2])}"
    if data in ("conditionalor", "conditionaland") and len(c) == 2:
        return f"{unparse(c[0])} {'||' if data == 'conditionalor' else '&&'} {unparse(c[1])}"
    if data in ("relation", "addition", "multiplication") and len(c) == 2:
        op = cast(Tree, c[0])
        symbol = _RELATIONS.get(op.data) or _ARITHMETIC[op.data]
        return f"{unparse(op.children[0])} {symbol} {unparse(c[1])}"
    if data == "unary" and len(c) == 2:
        sign = "!" if cast(Tree, c[0]).data == "unary_not" else "-"
        return sign + unparse(c[1])
    if data == "member_dot":
        return f"{unparse(c[0])}.{c[1]}"
    if data == "member_dot_arg":
        return f"{unparse(c[0])}.{c[1]}({unparse(c[2]) if len(c) > 2 else ''})"
    if data == "member_index":
        return f"{unparse(c[0])}[{unparse(c[1])}]"
    if data == "member_object":
        return f"{unparse(c[0])}{{{unparse(c[1]) if len(c) > 1 else ''}}}"
    if data in ("ident_arg", "dot_ident_arg"):
        dot = "." if data == "dot_ident_arg" else ""
        return f"{dot}{c[0]}({unparse(c[1]) if len(c) > 1 else ''})"
    if data == "dot_ident":
        return f".{c[0]}"
    if data == "paren_expr":
        return f"({unparse(c[0])})"
    if data == "list_lit":
        return f"[{unparse(c[0]) if c else ''}]"
    if data == "map_lit":
        return f"{{{unparse(c[0]) if c else ''}}}"
    if data == "exprlist":
        return ", ".join(unparse(child) for child in c)
    if data in ("fieldinits", "mapinits"):
        pairs = zip(c[0::2], c[1::2], strict=False)
        return ", ".join(f"{unparse(k)}: {unparse(v)}" for k, v in pairs)
    return " ".join(unparse(child) for child in c)  # ident, literal, primary, ...


def _unwrap(node: Tree) -> Tree:
    """The first node below ``node`` that does more than pass one child through."""
    while node.data in _WRAPPERS and len(node.children) == 1:
        child = node.children[0]
        if not isinstance(child, lark.Tree):
            break
        node = child
    return node


def _operands(node: Tree) -> tuple[str, list[Tree]] | None:
    """('&&' or '||', the operands in order) when ``node`` is a chain of one of them."""
    node = _unwrap(node)
    if node.data not in ("conditionalor", "conditionaland") or len(node.children) != 2:
        return None
    operands: list[Tree] = []
    current = node
    while current.data == node.data and len(current.children) == 2:
        operands.append(cast(Tree, current.children[1]))
        current = cast(Tree, current.children[0])
    operands.append(current)
    operands.reverse()
    return ("||" if node.data == "conditionalor" else "&&"), operands


# ---------------------------------------------------------------------- values


def render(value: object, limit: int = _MAX_OPERAND) -> str:
    """A CEL value as CEL would write it (``"v1"``, ``3``, ``3u``, ``["a"]``), clipped."""
    return clip(_render(value), limit)


def _render(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, (bool, celtypes.BoolType)):
        return "true" if value else "false"
    if isinstance(value, celtypes.UintType):
        return f"{int(value)}u"
    if isinstance(value, celtypes.TimestampType):
        return f'timestamp("{value.isoformat().replace("+00:00", "Z")}")'
    if isinstance(value, datetime.timedelta):
        return f'duration("{value.total_seconds():g}s")'
    if isinstance(value, (bytes, celtypes.BytesType)):
        return "b" + json.dumps(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, str):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(int(value)) if isinstance(value, int) else repr(float(value))
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value[:20]) + "]"
    if isinstance(value, dict):
        items = list(value.items())[:20]
        return "{" + ", ".join(f"{_render(k)}: {_render(v)}" for k, v in items) + "}"
    return str(value)


# ------------------------------------------------------------------------ the plan


@dataclass
class _Plan:
    """The parse tree of one condition and the programs of its sub-expressions, compiled
    the first time an explanation needs them (cached with the plan)."""

    tree: Tree
    programs: dict[int, celpy.Runner | None] = field(default_factory=dict)

    def program(self, node: Tree) -> celpy.Runner | None:
        key = id(node)  # nodes live as long as the plan's tree
        with lock:
            if key not in self.programs:
                try:
                    self.programs[key] = get_environment().program(node)
                except Exception:  # a subtree celpy cannot transpile on its own
                    self.programs[key] = None
            return self.programs[key]


@functools.lru_cache(maxsize=256)
def _plan(expression: str) -> _Plan | None:
    env = get_environment()
    try:
        with lock:
            return _Plan(cast(Tree, env.compile(expression)))
    except Exception:
        return None


# ------------------------------------------------------------------- explaining


class _Explainer:
    def __init__(
        self, plan: _Plan, condition: str, activation: celtypes.Value, meter: Meter
    ) -> None:
        self.plan = plan
        self.condition = condition
        # A pass condition keeps an image back by being false, a fail condition by being true.
        self.bad = condition == FAIL
        self.activation = activation
        self.meter = meter
        self.evaluations = 0
        self.found: list[ClauseResult] = []

    def _value(self, node: Tree) -> celtypes.Value | Exception:
        """The node's value, or the error evaluating it raised (BudgetExceeded passes)."""
        self.evaluations += 1
        program = self.plan.program(node)
        if program is None:
            return ValueError("this part cannot be evaluated on its own")
        try:
            return cel_budget.run(program, self.activation, self.meter)
        except BudgetExceeded:
            raise
        except Exception as error:
            return error

    def _decided(self, value: celtypes.Value | Exception) -> bool:
        return isinstance(value, Exception) or (is_bool(value) and bool(value) == self.bad)

    def _full(self) -> bool:
        return len(self.found) >= MAX_CLAUSES or self.evaluations >= MAX_EVALUATIONS

    def explain(self, node: Tree, value: celtypes.Value | Exception | None = None) -> None:
        """Report what in ``node`` (known to have the bad value) decided it: the operands
        of an ``&&`` / ``||`` chain that did, each explained in turn; else ``node`` itself."""
        chain = _operands(node)
        if chain is None or isinstance(value, Exception):
            if len(self.found) < MAX_CLAUSES:
                self.found.append(self._clause(node, self._value(node) if value is None else value))
            return
        for operand in chain[1]:
            if self._full():
                return
            operand_value = self._value(operand)
            if self._decided(operand_value):
                self.explain(operand, operand_value)

    def _clause(self, node: Tree, value: celtypes.Value | Exception) -> ClauseResult:
        text = clip(unparse(node), _MAX_RENDERED)
        if isinstance(value, Exception):
            message = eval_error_message(value)
            return ClauseResult(self.condition, text, f"error: {message}", None, message)
        result = bool(value) if is_bool(value) else None
        rendered = clip(self._rendering(node, value), _MAX_RENDERED)
        return ClauseResult(self.condition, text, rendered, result)

    def _rendering(self, node: Tree, value: celtypes.Value) -> str:
        """The clause with its operands' values: ``3 == 0``, ``"1.4".startsWith("v")``."""
        inner = _unwrap(node)
        if inner.data == "relation" and len(inner.children) == 2 and not self._full():
            op = cast(Tree, inner.children[0])
            left = self._side(cast(Tree, op.children[0]))
            right = self._side(cast(Tree, inner.children[1]))
            if left is not None and right is not None:
                return f"{left} {_RELATIONS[op.data]} {right}"
        if inner.data == "member_dot_arg" and not self._full():
            receiver = self._side(cast(Tree, inner.children[0]))
            c = inner.children
            if receiver is not None:
                return f"{receiver}.{c[1]}({unparse(c[2]) if len(c) > 2 else ''})"
        return render(value)

    def _side(self, node: Tree) -> str | None:
        value = self._value(node)
        return None if isinstance(value, Exception) else render(value)


def explain_clauses(
    expression: str, condition: str, activation: celtypes.Value, deadline: float | None = None
) -> tuple[ClauseResult, ...]:
    """The clauses of ``expression``, the :data:`PASS` or :data:`FAIL` condition, that kept
    the image of ``activation`` back.

    An expression without a top-level ``&&`` / ``||`` is one clause. Empty when it could not
    be parsed; stops at the first budget overrun with what it found so far.
    """
    plan = _plan(expression)
    if plan is None:
        return ()
    explainer = _Explainer(plan, condition, activation, Meter(RUNTIME_BUDGET, deadline))
    try:
        explainer.explain(plan.tree)
    except BudgetExceeded:
        pass  # the clauses found so far are still true; the rest stays unexplained
    except RecursionError:
        pass
    return tuple(explainer.found)

"""Checking a CEL condition before it is saved (SPEC §3): one short message or None.

Cheapest first: the length limit (before parsing), syntax, the cost limits and the type
check of check.py, names and functions (walked here: celpy only notices unknown
names at evaluation, with messages several KB long), then a trial run on sample images
under the validation budget.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import lark
import re2
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELSyntaxError, base_functions, celstr

from app.cel import budget as cel_budget
from app.cel import check as cel_check
from app.cel.base import (
    KNOWN_VARIABLES,
    cel_type_name,
    clip,
    eval_error_message,
    get_environment,
    image_variables,
    is_bool,
    lock,
    syntax_error_message,
)
from app.cel.budget import BudgetExceeded, Meter
from app.cel.limits import VALIDATION_BUDGET
from app.validation import blank_to_none

# Macros celpy implements correctly. Each takes a bound variable name and one expression
# (CEL's three-argument ``map(x, filter, transform)`` is mis-evaluated by celpy 0.5: it
# returns the filter's booleans, so it is refused rather than silently wrong).
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# Names celpy's transpiler treats as macros but cannot run (``macro_reduce`` does not
# exist; ``min`` has no bind variable and crashes the transpiler).
_BROKEN_MACROS = frozenset({"reduce", "min"})
# Global functions and receiver-style methods share one namespace in celpy. Taken from
# the installed celpy (operator entries like ``_+_`` excluded) plus the two
# function-like macros, so the check tracks what the runtime really provides.
_FUNCTIONS = frozenset(
    {name for name in base_functions if name.isidentifier() and not name.startswith("_")}
    | {"has", "dyn"}
)
# Type names usable as plain identifiers, e.g. ``type(containerImageTag) == string``.
_TYPE_NAMES = frozenset(
    {"bool", "bytes", "double", "int", "uint", "string", "list", "map", "null_type", "type"}
)

# ------------------------------------------------------------------------ validation


def _where(node: cel_check.Node) -> str:
    if isinstance(node, lark.Token):
        line, column = node.line, node.column
    else:
        line, column = getattr(node.meta, "line", None), getattr(node.meta, "column", None)
    return f"line {line or '?'}, column {column or '?'}"


def _unknown_variable(name: str, node: lark.Token) -> str:
    return clip(
        f"unknown variable {clip(name, 40)!r} at {_where(node)}; "
        f"known variables: {', '.join(KNOWN_VARIABLES)}",
        280,
    )


def _check_names(node: cel_check.Node, bound: frozenset[str]) -> str | None:
    """Return a message for the first unknown name or unusable macro, else None.

    ``bound`` holds macro variables in scope (``x`` inside ``l.exists(x, …)``). Field
    names after '.', function names and map/field-init keys are not variables.
    """
    if isinstance(node, lark.Token):
        return None
    data = node.data
    children = node.children

    if data == "ident":  # a bare name: variable, macro variable or type name
        token = cast(lark.Token, children[0])
        name = str(token.value)
        if name in bound or name in KNOWN_VARIABLES or name in _TYPE_NAMES:
            return None
        return _unknown_variable(name, token)

    if data == "dot_ident":  # ".name" resolves in the root scope only
        token = cast(lark.Token, children[0])
        return (
            None
            if str(token.value) in KNOWN_VARIABLES
            else _unknown_variable(str(token.value), token)
        )

    if data in ("ident_arg", "dot_ident_arg"):  # f(args)
        token = cast(lark.Token, children[0])
        if str(token.value) not in _FUNCTIONS:
            return f"unknown function {clip(str(token.value), 40)!r} at {_where(token)}"
        args = list(cast(cel_check.Tree, children[1]).children) if len(children) > 1 else []
        if str(token.value) == "matches" and len(args) == 2:
            return _check_regex(args[1]) or _first(_check_names(a, bound) for a in args)
        return _first(_check_names(a, bound) for a in args)

    if data == "member_dot":  # receiver.field: only the receiver can name variables
        return _check_names(children[0], bound)

    if data == "member_dot_arg":  # receiver.method(args) or receiver.macro(var, expr)
        receiver, token = children[0], cast(lark.Token, children[1])
        args = list(cast(cel_check.Tree, children[2]).children) if len(children) > 2 else []
        name = str(token.value)
        if name in _MACROS:
            variable = cel_check.bare_ident(args[0]) if args else None
            if len(args) != 2 or variable is None:
                return (
                    f"{name}() takes a variable name and one expression, "
                    f'e.g. {name}(x, x != ""), at {_where(token)}'
                )
            return _check_names(receiver, bound) or _check_names(args[1], bound | {variable})
        if name in _BROKEN_MACROS:
            return f"{name}() is not supported, at {_where(token)}"
        if name not in _FUNCTIONS:
            return f"unknown function {clip(name, 40)!r} at {_where(token)}"
        if name == "matches" and len(args) == 1 and (problem := _check_regex(args[0])):
            return problem
        return _check_names(receiver, bound) or _first(_check_names(a, bound) for a in args)

    if data == "member_object":  # Type{field: value}: there are no message types here
        return f"message construction is not supported, at {_where(node)}"

    return _first(_check_names(child, bound) for child in children)


def _check_regex(node: cel_check.Node) -> str | None:
    """Refuse a literal ``matches()`` pattern that re2 (celpy's regex engine) rejects.

    Such a condition could only ever error; better to say so at save time.
    """
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        node = node.children[0]
    if not isinstance(node, lark.Token) or node.type not in ("STRING_LIT", "MLSTRING_LIT"):
        return None  # computed patterns can only be checked at run time
    options = re2.Options()
    options.log_errors = False  # re2 would otherwise print every failure to stderr
    try:
        re2.compile(str(celstr(node)), options)
    except re2.error as error:
        detail = error.args[0] if error.args else ""
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return clip(f"invalid regular expression at {_where(node)}: {text}")
    except Exception:
        return None  # undecodable literal: leave it to the run-time check
    return None


def _first(messages: Any) -> str | None:
    return next((message for message in messages if message), None)


def _sample_activations() -> list[dict[str, object]]:
    """Typical and degenerate images used to probe a condition's result type."""
    return [
        image_variables(
            "registry.example.com:5000/team/app:1.4.2",
            ["stable", "release-1.4"],
            [
                {
                    "repo": "https://github.com/example/app",
                    "branch": "main",
                    "commitHash": "0123456789abcdef0123456789abcdef01234567",
                    "commitMessage": "Fix login redirect",
                    "author": "dev@example.com",
                }
            ],
        ),
        image_variables("app", [], []),
        image_variables("registry.example.com/app@sha256:" + "ab" * 32, ["latest"], []),
    ]


def validate_condition(expression: str) -> str | None:
    """Check a condition before it is saved: None when acceptable, else a short message.

    In order, cheapest first: the length limit (before parsing), syntax errors (with
    line and column), the node, macro-count and macro-nesting limits, names outside
    :data:`KNOWN_VARIABLES`, unknown functions, malformed macros, type errors (with the
    position of the faulty sub-expression), and finally a trial evaluation on sample
    images under the validation budget (a condition that never yields a boolean, or that
    exceeds the budget even on them, is refused). Errors that only happen at run time for
    some images (a missing map key) are allowed: they make that image not eligible.
    """
    if blank_to_none(expression) is None:
        return None  # callers treat blank as "no condition"
    if problem := cel_check.check_length(expression):
        return problem
    env = get_environment()
    try:
        with lock:
            tree = env.compile(expression)
    except CELParseError as error:
        return syntax_error_message(error)
    except RecursionError:
        return "expression is nested too deeply"

    try:
        problem = (
            cel_check.check_cost(tree) or _check_names(tree, frozenset()) or _check_types(tree)
        )
    except RecursionError:
        return "expression is nested too deeply"
    if problem:
        return clip(problem, 280)

    try:
        with lock:
            program = env.program(tree)
    except CELSyntaxError as error:
        return clip(f"syntax error at line {error.line}, column {error.column}: {error}")
    except Exception as error:  # celpy's transpiler fails with bare Python errors
        return clip(f"invalid expression: {eval_error_message(error)}")

    result_types: list[str] = []
    # One deadline for all samples: validateCondition is open to every signed-in user.
    deadline = time.monotonic() + VALIDATION_BUDGET.seconds
    for variables in _sample_activations():
        try:
            value = cel_budget.run(
                program, json_to_cel(variables), Meter(VALIDATION_BUDGET, deadline)
            )
        except BudgetExceeded as error:
            return clip(f"{error} (on a small sample image)")
        except Exception:
            continue  # run-time errors are allowed at save; they decide per image
        if is_bool(value):
            return None
        result_types.append(cel_type_name(value))
    if result_types:
        return f"condition must evaluate to a boolean, got {result_types[0]}"
    return None


def _check_types(tree: cel_check.Tree) -> str | None:
    try:
        return cel_check.check_types(tree)
    except RecursionError:
        raise
    except Exception:
        # A gap in the checker must not make a condition unsaveable: the run-time checks
        # still make a wrongly typed condition's images not eligible.
        logging.getLogger(__name__).exception("CEL type check failed")
        return None

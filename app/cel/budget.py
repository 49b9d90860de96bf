"""Run a compiled celpy program under a cost budget (SPEC §3; limits in limits.py).

How celpy 0.5's ``CompiledRunner`` runs a program: the transpiler turns the parse tree
into Python source of lambdas (``ex_3 = lambda activation: operator.add(...)``,
``celpy.evaluation.macro_map(activation, 'x', ex_4_x, ex_4_l)``) and ``exec``s it in the
*module globals* of ``celpy.evaluation``; the result lands in the global ``CEL``. Every
operator and macro is therefore looked up through two global names, ``operator`` and
``celpy``, at call time.

So instead of ``program.evaluate`` this module ``exec``s the same code object in a private
copy of those globals in which ``operator`` and ``celpy.evaluation`` are namespaces whose
``add`` / ``mul`` and ``macro_*`` entries count steps and sizes against a :class:`Meter`
before doing the real work. That gives a budget checked inside the evaluation (a thread
cannot be killed, so a timeout alone would not stop a runaway condition), and, because
nothing shared is written any more, evaluations no longer need a process-wide lock.
"""

from __future__ import annotations

import builtins
import contextvars
import operator
import re
import time
import types
from collections.abc import Callable, Iterable
from typing import Any, cast

import celpy
import celpy.celtypes as celtypes
import celpy.evaluation as evaluation
from celpy.evaluation import CELEvalError

from app.cel.limits import Budget

BUDGET_EXCEEDED = "condition exceeded the evaluation budget"


class BudgetExceeded(Exception):
    """Raised inside an evaluation that went over its budget.

    Deliberately not one of the exception classes celpy's ``result()`` turns into CEL
    errors (ValueError, TypeError, …), so nothing in the CEL program can swallow it.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(f"{BUDGET_EXCEEDED}: {detail}")


class Meter:
    """The budget of one evaluation and what it has spent so far."""

    __slots__ = ("_allocated", "_budget", "_deadline", "_shared", "_steps")

    def __init__(self, budget: Budget, deadline: float | None = None) -> None:
        """``deadline`` (time.monotonic()) is a shared one, e.g. for a batch of images."""
        self._budget = budget
        self._steps = 0
        self._allocated = 0
        own = time.monotonic() + budget.seconds
        self._shared = deadline is not None and deadline < own
        self._deadline: float = deadline if deadline is not None and self._shared else own

    def step(self, count: int = 1) -> None:
        self._steps += count
        if self._steps > self._budget.steps:
            raise BudgetExceeded(f"more than {self._budget.steps:,} steps")
        if time.monotonic() > self._deadline:
            raise BudgetExceeded(
                "the evaluations of this request ran out of time"
                if self._shared
                else f"it ran longer than {self._budget.seconds:g} s"
            )

    def allocate(self, size: int) -> None:
        """Account for a new string, bytes or list of ``size`` elements (before making it)."""
        if size > self._budget.value_size:
            raise BudgetExceeded(
                f"a string or list would be longer than {self._budget.value_size:,}"
            )
        self._allocated += size
        if self._allocated > self._budget.allocated:
            raise BudgetExceeded(
                f"more than {self._budget.allocated:,} string and list elements built"
            )


_meter: contextvars.ContextVar[Meter] = contextvars.ContextVar("cel_meter")

_SIZED = (str, bytes, list)


# ---------------------------------------------------------------- metered operators


def _add(left: Any, right: Any) -> Any:
    meter = _meter.get()
    if isinstance(left, _SIZED) and isinstance(right, _SIZED):
        meter.step()
        meter.allocate(len(left) + len(right))
    return operator.add(left, right)


def _mul(left: Any, right: Any) -> Any:
    # CEL has no string or list repetition; Python's ``"a" * 10**9`` would build it.
    if isinstance(left, _SIZED) or isinstance(right, _SIZED):
        raise TypeError("no such overload")
    return operator.mul(left, right)


# ------------------------------------------------------------------- metered macros

Expr = Callable[[evaluation.Activation], Any]
Gen = Callable[[evaluation.Activation], Iterable[Any]]


def _counted(expr: Expr, meter: Meter) -> Expr:
    def run(activation: evaluation.Activation) -> Any:
        meter.step()
        return expr(activation)

    return run


def _macro(real: Callable[..., Any], builds_list: bool) -> Callable[..., Any]:
    def macro(activation: evaluation.Activation, bind: str, expr: Expr, gen: Gen) -> Any:
        meter = _meter.get()
        meter.step()
        value = real(activation, bind, _counted(expr, meter), gen)
        if builds_list:
            # The list holds one reference per element of a list that already exists,
            # so it is bounded by the input; still count it towards the memory budget.
            meter.allocate(len(value))
        return value

    return macro


# ------------------------------------------------------------------ null evidence
# The evidence variables are null when nothing is attached (`vulnerabilities == null`).
# celpy 0.5 compares a map with null only one way (`m == null` is false, `m != null` is
# "no such overload"), and reads a field of null as a Python AttributeError, which its
# && and || do not absorb: `vulnerabilities != null && vulnerabilities.critical == 0`
# would fail for exactly the images it guards against. So in Hoist's evaluation a value
# and null compare equal only when both are null, and a field of null is a CEL error.


def _null_aware(real: Callable[[Any, Any], Any], equal: bool) -> Callable[[Any, Any], Any]:
    def compare(left: Any, right: Any) -> Any:
        if (
            (left is None or right is None)
            and not isinstance(left, CELEvalError)
            and not (isinstance(right, CELEvalError))
        ):
            return celtypes.BoolType((left is None and right is None) == equal)
        return real(left, right)

    return compare


NULL_VALUE = "the value is null (no evidence of that type is attached)"


def _result(activation: evaluation.Activation, expr: Expr) -> Any:
    """celpy's result(), with what a null value caused said as such: reading its field
    (an AttributeError celpy lets through) or using it as an operand ("no such overload")."""
    try:
        value = evaluation.result(activation, expr)
    except AttributeError as error:
        if "'NoneType' object" not in str(error):
            raise
        return CELEvalError(NULL_VALUE, KeyError, error.args)
    if (
        isinstance(value, CELEvalError)
        and len(value.args) >= 3
        and value.args[1] is TypeError
        and "NoneType" in str(value.args[2])
    ):
        return CELEvalError(NULL_VALUE, KeyError, value.args[2])
    return value


def _namespace(module: types.ModuleType, **overrides: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{**vars(module), **overrides})


_EVALUATION = _namespace(
    evaluation,
    macro_map=_macro(evaluation.macro_map, True),
    macro_filter=_macro(evaluation.macro_filter, True),
    macro_all=_macro(evaluation.macro_all, False),
    macro_exists=_macro(evaluation.macro_exists, False),
    macro_exists_one=_macro(evaluation.macro_exists_one, False),
    bool_eq=_null_aware(evaluation.bool_eq, True),
    bool_ne=_null_aware(evaluation.bool_ne, False),
    result=_result,
)
# The only global names celpy's generated code uses (its templates, celpy 0.5).
_GLOBALS: dict[str, Any] = {
    "__builtins__": builtins,
    "CELEvalError": CELEvalError,
    "celpy": types.SimpleNamespace(celtypes=celtypes, evaluation=_EVALUATION),
    "operator": _namespace(operator, add=_add, mul=_mul),
}


# celpy 0.5's has() yields a Python bool, not a CEL BoolType, so `!has(x.f)`, `has(x.f) ?
# a : b` and `l.all(v, has(...))` all fail with "no such overload". Wrap it.
_HAS = re.compile(
    r"^(ex_\d+ = lambda activation: )not isinstance\("
    r"(celpy\.evaluation\.result\(activation, ex_\d+_h\)), CELEvalError\)$",
    re.MULTILINE,
)


def _code(tp: Any) -> types.CodeType:
    """The program's code object, with celpy's has() fixed (compiled once per program)."""
    code: types.CodeType | None = tp.__dict__.get("_hoist_code")
    if code is None:
        source = _HAS.sub(
            r"\1celpy.celtypes.BoolType(not isinstance(\2, CELEvalError))", tp.source_text
        )
        code = compile(source, "<cel>", "exec")
        tp._hoist_code = code
    return code


def run(program: celpy.Runner, context: celtypes.Value, meter: Meter) -> celtypes.Value:
    """Evaluate a CompiledRunner program for one activation, spending from ``meter``.

    Raises :class:`BudgetExceeded` when the budget runs out and ``CELEvalError`` for CEL
    run-time errors, like ``program.evaluate``.
    """
    tp = program.tp  # type: ignore[attr-defined]  # CompiledRunner's Transpiler
    activation = tp.base_activation.clone()
    activation.identifiers.load_values(context)
    scope = dict(_GLOBALS)
    scope["base_activation"] = activation
    token = _meter.set(meter)
    try:
        exec(_code(tp), scope)  # celpy's own transpiled program, not user text
    except (BudgetExceeded, CELEvalError):
        raise
    except Exception as error:
        # What celpy's Transpiler.evaluate does with a Python problem during exec().
        raise CELEvalError("evaluation error", type(error), error.args) from error
    finally:
        _meter.reset(token)
    value: object = scope["CEL"]
    if isinstance(value, CELEvalError):
        raise value
    # The transpiled program leaves a CEL value or a CELEvalError in the global CEL.
    return cast(celtypes.Value, value)

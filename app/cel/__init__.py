"""CEL conditions for promotion policies and CD filter conditions (SPEC §3).

Pure module: builds the CEL variables for an image, validates a condition at save
time, and evaluates cached (pass, fail) condition pairs into an eligibility verdict.

The parts: base.py (the one celpy environment, variables, messages, the CEL
threads), validate.py (checks at save), check.py (cost limits and type check),
budget.py (run-time budgets), limits.py (every limit). This module evaluates and
caches; the names callers use are all importable from here.

celpy facts this module is built around (checked against cel-python 0.5):

* The lark parser is a process-wide singleton built for the first runner class, so
  the process uses exactly ONE ``celpy.Environment`` (``CompiledRunner``), created
  lazily by :func:`get_environment`. Anything else in Hoist that needs CEL must use it.
* ``CompiledRunner`` evaluates through the *module globals* of ``celpy.evaluation``
  and through per-program mutable state, so its ``evaluate`` is not thread-safe.
  Hoist runs the compiled code itself (budget.py) in private globals, under a cost
  budget, which is thread-safe; compiling still runs under one lock.
* Saved conditions are bounded at save by size, macro nesting and types (check.py),
  and evaluated off the event loop in batches (:func:`evaluate_many`), each evaluation
  under :data:`~app.cel.limits.RUNTIME_BUDGET`.
* Unknown variables, unknown functions and malformed macros are only noticed at
  evaluation (or transpile) time, with long, Python-flavoured messages; validation
  therefore walks the parse tree itself and writes short messages of its own.
* ``a || b`` returns ``b`` unchanged when ``a`` is false, so a condition can yield a
  non-boolean at run time; results are type-checked on every evaluation.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import celpy
import celpy.celtypes as celtypes
import lark
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError

from app.cel import budget as cel_budget
from app.cel.base import (
    EVIDENCE_AGE_KEYS,
    EVIDENCE_VARIABLES,
    KNOWN_VARIABLES,
    NO_EVIDENCE,
    VULNERABILITY_COUNTS,
    EvidenceValues,
    cel_type_name,
    clip,
    eval_error_message,
    executor,
    get_environment,
    image_variables,
    is_bool,
    lock,
    off_loop,
    recordable,
    syntax_error_message,
)
from app.cel.budget import BudgetExceeded, Meter
from app.cel.explain import FAIL, PASS, ClauseResult, describe, explain_clauses
from app.cel.limits import MAX_BATCH_SECONDS, RUNTIME_BUDGET
from app.cel.validate import validate_condition
from app.images import split_reference
from app.validation import blank_to_none

_KNOWN = frozenset(KNOWN_VARIABLES)

__all__ = [
    "EVIDENCE_AGE_KEYS",
    "EVIDENCE_VARIABLES",
    "KNOWN_VARIABLES",
    "NO_EVIDENCE",
    "VULNERABILITY_COUNTS",
    "ClauseResult",
    "CompiledConditions",
    "ConditionResult",
    "Evaluation",
    "EvidenceValues",
    "compile_conditions",
    "describe",
    "evaluate_many",
    "evaluate_one",
    "get_environment",
    "image_variables",
    "off_loop",
    "recordable",
    "split_reference",
    "validate_condition",
]


# ------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class ConditionResult:
    """Outcome of one condition: ``result`` when it ran, else ``error`` (one line)."""

    expression: str
    result: bool | None
    error: str | None


@dataclass(frozen=True)
class Evaluation:
    """Eligibility of one image; ``reason`` is None when eligible, else one line.

    ``failed_clauses``: when asked for (``explain``) and the image is not eligible, the
    clauses of the deciding condition that kept it back, with their values (explain.py).
    """

    eligible: bool
    pass_condition: ConditionResult | None
    fail_condition: ConditionResult | None
    reason: str | None
    failed_clauses: tuple[ClauseResult, ...] = ()

    def kept_back_by(self) -> tuple[ClauseResult, ...]:
        """What kept the image back: the failed clauses, else (nothing explained, e.g.
        over budget) the deciding condition as one clause; empty when eligible."""
        if self.eligible:
            return ()
        if self.failed_clauses:
            return self.failed_clauses
        failed, passed = self.fail_condition, self.pass_condition
        deciding, kind = (
            (failed, FAIL) if failed is not None and failed.result is not False else (passed, PASS)
        )
        if deciding is None:
            return ()
        value = "error" if deciding.result is None else str(deciding.result).lower()
        return (ClauseResult(kind, deciding.expression, value, deciding.result, deciding.error),)


@dataclass(frozen=True)
class _Condition:
    """A compiled condition, or the error that kept it from compiling."""

    expression: str
    program: celpy.Runner | None
    error: str | None
    # The variables it may read: only they are converted to CEL values per image (an SBOM's
    # 2,000 packages cost ~50 ms to convert, which a condition on signatures need not pay).
    names: frozenset[str] = frozenset(KNOWN_VARIABLES)

    @classmethod
    def build(cls, expression: str | None) -> _Condition | None:
        if (expression := blank_to_none(expression)) is None:
            return None
        env = get_environment()
        try:
            with lock:
                tree = env.compile(expression)
                program = env.program(tree)
        except CELParseError as error:
            # Saved conditions were validated, but a stored one that no longer compiles
            # must make images not eligible rather than crash the caller.
            return cls(expression, None, syntax_error_message(error))
        except Exception as error:
            return cls(expression, None, f"invalid expression: {eval_error_message(error)}")
        identifiers = tree.scan_values(lambda v: isinstance(v, lark.Token) and v.type == "IDENT")
        return cls(expression, program, None, frozenset(map(str, identifiers)) & _KNOWN)

    def run(self, activation: celtypes.Value, deadline: float | None) -> ConditionResult:
        if self.program is None:
            return ConditionResult(self.expression, None, self.error)
        try:
            value = cel_budget.run(self.program, activation, Meter(RUNTIME_BUDGET, deadline))
        except BudgetExceeded as error:
            return ConditionResult(self.expression, None, str(error))
        except Exception as error:  # celpy reports everything as CELEvalError; be safe
            return ConditionResult(self.expression, None, eval_error_message(error))
        if not is_bool(value):
            return ConditionResult(
                self.expression,
                None,
                f"condition must evaluate to a boolean, got {cel_type_name(value)}",
            )
        return ConditionResult(self.expression, bool(value), None)


class CompiledConditions:
    """A compiled (pass, fail) condition pair, reusable for any number of images."""

    __slots__ = ("_fail", "_pass")

    def __init__(self, pass_condition: str | None, fail_condition: str | None) -> None:
        self._pass = _Condition.build(pass_condition)
        self._fail = _Condition.build(fail_condition)

    @property
    def empty(self) -> bool:
        """No condition: every image is eligible, nothing to evaluate."""
        return self._pass is None and self._fail is None

    @property
    def names(self) -> frozenset[str]:
        """The variables the conditions may read."""
        return (self._pass.names if self._pass else frozenset()) | (
            self._fail.names if self._fail else frozenset()
        )

    def evaluate(
        self,
        variables: Mapping[str, object],
        deadline: float | None = None,
        explain: bool = False,
    ) -> Evaluation:
        """Decide eligibility for one image's variables (see :func:`image_variables`).

        Eligible when fail is absent or false AND pass is absent or true; fail wins;
        an error in either condition, or going over the run-time budget, makes the image
        not eligible. Runs on the calling thread: servers use :func:`evaluate_many`.
        """
        if self.empty:
            return Evaluation(True, None, None, None)
        needed = self.names
        activation = json_to_cel({k: v for k, v in variables.items() if k in needed})
        passed = self._pass.run(activation, deadline) if self._pass else None
        failed = self._fail.run(activation, deadline) if self._fail else None

        reason: str | None = None
        if failed is not None and failed.error is not None:
            reason = f"fail condition error: {failed.error}"
        elif failed is not None and failed.result:
            reason = f"fail condition is true: {clip(failed.expression)}"
        elif passed is not None and passed.error is not None:
            reason = f"pass condition error: {passed.error}"
        elif passed is not None and not passed.result:
            reason = f"pass condition is false: {clip(passed.expression)}"
        clauses = self._explain(activation, passed, failed, deadline) if explain and reason else ()
        return Evaluation(reason is None, passed, failed, reason, clauses)

    def _explain(
        self,
        activation: celtypes.Value,
        passed: ConditionResult | None,
        failed: ConditionResult | None,
        deadline: float | None,
    ) -> tuple[ClauseResult, ...]:
        """The clauses of the condition that decided (fail first, as in evaluate)."""

        def explainable(result: ConditionResult | None, bad: bool) -> bool:
            # Over budget once, it would be over budget again: nothing to explain then.
            if result is None or (result.error or "").startswith(cel_budget.BUDGET_EXCEEDED):
                return False
            return result.error is not None or result.result is bad

        if explainable(failed, True):
            assert failed is not None
            return explain_clauses(failed.expression, FAIL, activation, deadline)
        if explainable(passed, False):
            assert passed is not None
            return explain_clauses(passed.expression, PASS, activation, deadline)
        return ()


@functools.lru_cache(maxsize=1024)
def _compile_cached(
    cache_key: Hashable, pass_condition: str | None, fail_condition: str | None
) -> CompiledConditions:
    return CompiledConditions(pass_condition, fail_condition)


def compile_conditions(
    cache_key: Hashable, pass_condition: str | None, fail_condition: str | None
) -> CompiledConditions:
    """Return compiled programs for a condition pair, compiling at most once per key.

    ``cache_key`` names the owner and revision, e.g. ``("policy", id, version)``. The
    expressions are part of the cache key too, so a key reused with different text
    (a stale version number, say) can never return programs for the wrong conditions.
    """
    return _compile_cached(cache_key, pass_condition, fail_condition)


# ------------------------------------------------------------- off the event loop

Job = tuple[CompiledConditions, Mapping[str, object]]


def _evaluate_batch(jobs: Sequence[Job], deadline: float, explain: bool) -> list[Evaluation]:
    return [conditions.evaluate(variables, deadline, explain) for conditions, variables in jobs]


def _over_budget(conditions: CompiledConditions) -> Evaluation:
    """The verdict when a batch did not come back in time."""
    error = (
        f"{cel_budget.BUDGET_EXCEEDED}: the evaluations took longer than {MAX_BATCH_SECONDS:g} s"
    )
    failed = conditions._fail
    if failed is not None:
        result = ConditionResult(failed.expression, None, error)
        return Evaluation(False, None, result, f"fail condition error: {error}")
    passed = conditions._pass
    assert passed is not None
    result = ConditionResult(passed.expression, None, error)
    return Evaluation(False, result, None, f"pass condition error: {error}")


async def evaluate_many(jobs: Sequence[Job], explain: bool = False) -> list[Evaluation]:
    """Evaluate (conditions, image variables) pairs off the event loop, in one batch.

    ``explain``: an image kept back gets its failed clauses too (explain.py), found under
    the same budgets and deadline. Asked for where one image's verdict is shown (promote,
    preview), not for lists of images.

    One thread hop for the whole batch, not one per image. Each evaluation has the
    run-time budget; the batch as a whole stops evaluating after MAX_BATCH_SECONDS (the
    remaining images are not eligible with the budget reason). The wait is bounded as
    well, in case an evaluation blocks somewhere the budget is not checked.
    """
    if all(conditions.empty for conditions, _ in jobs):
        return [Evaluation(True, None, None, None) for _ in jobs]
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + MAX_BATCH_SECONDS
    future = loop.run_in_executor(executor(), _evaluate_batch, list(jobs), deadline, explain)
    try:
        return await asyncio.wait_for(future, timeout=MAX_BATCH_SECONDS + 5.0)
    except TimeoutError:
        return [
            Evaluation(True, None, None, None) if conditions.empty else _over_budget(conditions)
            for conditions, _ in jobs
        ]


async def evaluate_one(
    conditions: CompiledConditions, variables: Mapping[str, object]
) -> Evaluation:
    """One image, off the event loop (see :func:`evaluate_many`)."""
    [evaluation] = await evaluate_many([(conditions, variables)])
    return evaluation

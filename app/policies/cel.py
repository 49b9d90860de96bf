"""CEL conditions for promotion policies and CD filter conditions (SPEC §3).

Pure module: builds the CEL variables for an image, validates a condition at save
time, and evaluates cached (pass, fail) condition pairs into an eligibility verdict.

celpy facts this module is built around (checked against cel-python 0.5):

* The lark parser is a process-wide singleton built for the first runner class, so
  the process uses exactly ONE ``celpy.Environment`` (``CompiledRunner``), created
  lazily by :func:`get_environment`. Anything else in Hoist that needs CEL must use it.
* ``CompiledRunner`` evaluates through the *module globals* of ``celpy.evaluation``
  and through per-program mutable state, so its ``evaluate`` is not thread-safe.
  Hoist runs the compiled code itself (cel_budget.py) in private globals, under a cost
  budget, which is thread-safe; compiling still runs under one lock.
* Saved conditions are bounded at save by size, macro nesting and types (cel_check.py),
  and evaluated off the event loop in batches (:func:`evaluate_many`), each evaluation
  under :data:`~app.policies.cel_limits.RUNTIME_BUDGET`.
* Unknown variables, unknown functions and malformed macros are only noticed at
  evaluation (or transpile) time, with long, Python-flavoured messages; validation
  therefore walks the parse tree itself and writes short messages of its own.
* ``a || b`` returns ``b`` unchanged when ``a`` is false, so a condition can yield a
  non-boolean at run time; results are type-checked on every evaluation.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import celpy
import celpy.celtypes as celtypes
import lark
import re2
from celpy.celparser import CELParseError, CELParser
from celpy.evaluation import CELSyntaxError, TranspilerTree, base_functions, celstr

from app.policies import cel_budget, cel_check
from app.policies.cel_budget import BudgetExceeded, Meter
from app.policies.cel_limits import (
    EVALUATION_THREADS,
    MAX_BATCH_SECONDS,
    RUNTIME_BUDGET,
    VALIDATION_BUDGET,
)

KNOWN_VARIABLES: tuple[str, ...] = (
    "containerImage",
    "containerRepository",
    "containerImageTag",
    "imageLabels",
    "gitCommitDetails",
)

# Longest message we hand back to a user (validation messages and run-time reasons).
_MAX_MESSAGE = 200

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

# CEL spelling of celpy's value classes, for "got <type>" messages.
_CEL_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),  # has() returns a plain Python bool
    (celtypes.BoolType, "bool"),
    (celtypes.UintType, "uint"),
    (celtypes.IntType, "int"),
    (celtypes.DoubleType, "double"),
    (celtypes.StringType, "string"),
    (celtypes.BytesType, "bytes"),
    (celtypes.ListType, "list"),
    (celtypes.MapType, "map"),
    (celtypes.TimestampType, "timestamp"),
    (celtypes.DurationType, "duration"),
    (type(None), "null_type"),
    (type, "type"),
)

# celpy prints values in errors as e.g. StringType('main'); users wrote 'main'.
_CELTYPE_REPR = re.compile(r"\b(?:String|Int|Uint|Double|Bool|Bytes)Type\((.*?)\)")

_R = TypeVar("_R")

_lock = threading.RLock()
_environment: celpy.Environment | None = None


class _DropInternalErrorLogs(logging.Filter):
    """Drop celpy's per-evaluation "Internal error" ERROR records.

    The transpiler logs every run-time CEL error (a missing map key, say) at ERROR
    before re-raising it. For Hoist that is an ordinary "not eligible" outcome,
    reported in :class:`Evaluation`, so the log line would only be noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Internal error")


def get_environment() -> celpy.Environment:
    """Return the process-wide CEL environment (CompiledRunner), creating it once."""
    global _environment
    with _lock:
        if _environment is None:
            parser = CELParser.CEL_PARSER
            if parser is not None and not issubclass(parser.options.tree_class, TranspilerTree):
                # Someone built an interpreted-runner parser first; programs compiled with
                # it crash the CompiledRunner. Interpreted runners also accept
                # TranspilerTree (a lark.Tree subclass), so rebuilding it is safe for both.
                CELParser.CEL_PARSER = None
            # Note: Environment() also calls sys.setrecursionlimit(2500), process-wide.
            _environment = celpy.Environment(runner_class=celpy.CompiledRunner)
            logging.getLogger("celpy.Transpiler").addFilter(_DropInternalErrorLogs())
        return _environment


# --------------------------------------------------------------------------- variables


def split_reference(image: str) -> tuple[str, str]:
    """Split an image reference into (repository, tag); the tag is "" when absent.

    ``registry:5000/team/app:1.2`` -> (``registry:5000/team/app``, ``1.2``);
    ``repo@sha256:…`` -> (``repo``, ``""``); ``repo:tag@sha256:…`` -> (``repo``, ``tag``).
    """
    # A digest never contains '@', and everything after it is the digest, not the tag.
    name = image.strip().split("@", 1)[0]
    colon = name.rfind(":")
    # Only a ':' after the last '/' separates a tag; earlier ones belong to a registry port.
    if colon > name.rfind("/"):
        return name[:colon], name[colon + 1 :]
    return name, ""


def image_variables(
    image: str,
    labels: list[str],
    git_commits: list[dict[str, str | None]],
    digest: str | None = None,
) -> dict[str, object]:
    """Build the five CEL variables of SPEC §3 as plain JSON-able values.

    ``digest`` (the separately recorded digest) is accepted so callers can pass an
    image row as-is, but it changes nothing: ``containerImage`` is the reference as
    recorded and the spec defines no digest variable.
    """
    del digest  # deliberately unused, see docstring
    repository, tag = split_reference(image)
    details: dict[str, dict[str, str]] = {}
    for commit in git_commits:
        entry = {
            key: commit.get(key) or ""
            for key in ("repo", "branch", "commitHash", "commitMessage", "author")
        }
        # One entry per repository; the first listed commit of a repo is the build's
        # material, later duplicates must not silently replace it.
        details.setdefault(entry["repo"], entry)
    return {
        "containerImage": image,
        "containerRepository": repository,
        "containerImageTag": tag,
        "imageLabels": [str(label) for label in labels],
        "gitCommitDetails": details,
    }


# -------------------------------------------------------------------------- messages


def _clip(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace to one line and cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _syntax_error_message(error: CELParseError) -> str:
    """Turn a CELParseError (whose str() is celpy's source excerpt) into one short line."""
    cause = error.__context__  # the lark exception celpy converted
    what = "invalid syntax"
    if isinstance(cause, lark.exceptions.UnexpectedToken):
        token = cause.token
        if token.type == "$END":
            what = "unexpected end of expression"
        else:
            what = f"unexpected {_clip(str(token.value), 40)!r}"
    elif isinstance(cause, lark.exceptions.UnexpectedCharacters):
        char = getattr(cause, "char", "")
        # The string-literal regexes fail at the opening quote when it is never closed.
        what = "unterminated string" if char in ("'", '"') else f"unexpected character {char!r}"
    line = error.line if error.line is not None else "?"
    column = error.column if error.column is not None else "?"
    return _clip(f"syntax error at line {line}, column {column}: {what}")


def _eval_error_message(error: BaseException) -> str:
    """Reduce a celpy run-time error to its first meaningful line.

    celpy wraps errors as ``CELEvalError('evaluation error', <class>, (inner args))``,
    sometimes twice; the innermost first argument is the message CEL users recognise.
    """
    args: tuple[Any, ...] = error.args
    while (
        len(args) >= 3 and args[0] == "evaluation error" and isinstance(args[2], tuple) and args[2]
    ):
        if args[1] in (AttributeError, NameError):
            # celpy's generated code misses a helper (``macro_reduce``): its words would
            # only name celpy's insides.
            return "this expression is not supported"
        args = args[2]
    if not args:
        return type(error).__name__
    if isinstance(args[0], type):
        # e.g. timestamp("x"): celpy reports pendulum's ParserError class, not a message.
        return "a value could not be converted (not a valid timestamp, duration or number)"
    message = str(args[0])
    detail = args[2][0] if len(args) >= 3 and isinstance(args[2], tuple) and args[2] else None
    if message == "unbound function" and detail is not None:
        message = f"unknown function {str(detail)!r}"
    elif message == "match error" and detail is not None:
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        message = f"invalid regular expression: {text}"
    message = _CELTYPE_REPR.sub(r"\1", message.strip().splitlines()[0] if message.strip() else "")
    return _clip(message or type(error).__name__)


def _cel_type_name(value: object) -> str:
    for cls, name in _CEL_TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, celtypes.BoolType))


def _absent(expression: str | None) -> bool:
    return expression is None or not expression.strip()


# ------------------------------------------------------------------------ validation


def _where(node: lark.Tree | lark.Token) -> str:
    if isinstance(node, lark.Token):
        line, column = node.line, node.column
    else:
        line, column = getattr(node.meta, "line", None), getattr(node.meta, "column", None)
    return f"line {line or '?'}, column {column or '?'}"


def _bare_ident(node: lark.Tree | lark.Token) -> str | None:
    """Return the name when ``node`` is an expression that is just one identifier."""
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        if node.data == "ident":
            token = node.children[0]
            return str(token.value) if isinstance(token, lark.Token) else None
        node = node.children[0]
    return None


def _unknown_variable(name: str, node: lark.Token) -> str:
    return _clip(
        f"unknown variable {_clip(name, 40)!r} at {_where(node)}; "
        f"known variables: {', '.join(KNOWN_VARIABLES)}",
        280,
    )


def _check_names(node: lark.Tree | lark.Token, bound: frozenset[str]) -> str | None:
    """Return a message for the first unknown name or unusable macro, else None.

    ``bound`` holds macro variables in scope (``x`` inside ``l.exists(x, …)``). Field
    names after '.', function names and map/field-init keys are not variables.
    """
    if isinstance(node, lark.Token):
        return None
    data = node.data
    children = node.children

    if data == "ident":  # a bare name: variable, macro variable or type name
        token = children[0]
        name = str(token.value)
        if name in bound or name in KNOWN_VARIABLES or name in _TYPE_NAMES:
            return None
        return _unknown_variable(name, token)

    if data == "dot_ident":  # ".name" resolves in the root scope only
        token = children[0]
        return (
            None
            if str(token.value) in KNOWN_VARIABLES
            else _unknown_variable(str(token.value), token)
        )

    if data in ("ident_arg", "dot_ident_arg"):  # f(args)
        token = children[0]
        if str(token.value) not in _FUNCTIONS:
            return f"unknown function {_clip(str(token.value), 40)!r} at {_where(token)}"
        args = list(children[1].children) if len(children) > 1 else []
        if str(token.value) == "matches" and len(args) == 2:
            return _check_regex(args[1]) or _first(_check_names(a, bound) for a in args)
        return _first(_check_names(a, bound) for a in args)

    if data == "member_dot":  # receiver.field: only the receiver can name variables
        return _check_names(children[0], bound)

    if data == "member_dot_arg":  # receiver.method(args) or receiver.macro(var, expr)
        receiver, token = children[0], children[1]
        args = list(children[2].children) if len(children) > 2 else []
        name = str(token.value)
        if name in _MACROS:
            variable = _bare_ident(args[0]) if args else None
            if len(args) != 2 or variable is None:
                return (
                    f"{name}() takes a variable name and one expression, "
                    f'e.g. {name}(x, x != ""), at {_where(token)}'
                )
            return _check_names(receiver, bound) or _check_names(args[1], bound | {variable})
        if name in _BROKEN_MACROS:
            return f"{name}() is not supported, at {_where(token)}"
        if name not in _FUNCTIONS:
            return f"unknown function {_clip(name, 40)!r} at {_where(token)}"
        if name == "matches" and len(args) == 1 and (problem := _check_regex(args[0])):
            return problem
        return _check_names(receiver, bound) or _first(_check_names(a, bound) for a in args)

    if data == "member_object":  # Type{field: value}: there are no message types here
        return f"message construction is not supported, at {_where(node)}"

    return _first(_check_names(child, bound) for child in children)


def _check_regex(node: lark.Tree | lark.Token) -> str | None:
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
        return _clip(f"invalid regular expression at {_where(node)}: {text}")
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
    if _absent(expression):
        return None  # callers treat blank as "no condition"
    if problem := cel_check.check_length(expression):
        return problem
    env = get_environment()
    try:
        with _lock:
            tree = env.compile(expression)
    except CELParseError as error:
        return _syntax_error_message(error)
    except RecursionError:
        return "expression is nested too deeply"

    try:
        problem = (cel_check.check_cost(tree) or _check_names(tree, frozenset())
                   or _check_types(tree))
    except RecursionError:
        return "expression is nested too deeply"
    if problem:
        return _clip(problem, 280)

    try:
        with _lock:
            program = env.program(tree)
    except CELSyntaxError as error:
        return _clip(f"syntax error at line {error.line}, column {error.column}: {error}")
    except Exception as error:  # celpy's transpiler fails with bare Python errors
        return _clip(f"invalid expression: {_eval_error_message(error)}")

    result_types: list[str] = []
    # One deadline for all samples: validateCondition is open to every signed-in user.
    deadline = time.monotonic() + VALIDATION_BUDGET.seconds
    for variables in _sample_activations():
        try:
            value = cel_budget.run(program, celpy.json_to_cel(variables),
                                   Meter(VALIDATION_BUDGET, deadline))
        except BudgetExceeded as error:
            return _clip(f"{error} (on a small sample image)")
        except Exception:
            continue  # run-time errors are allowed at save; they decide per image
        if _is_bool(value):
            return None
        result_types.append(_cel_type_name(value))
    if result_types:
        return f"condition must evaluate to a boolean, got {result_types[0]}"
    return None


def _check_types(tree: lark.Tree) -> str | None:
    try:
        return cel_check.check_types(tree)
    except RecursionError:
        raise
    except Exception:
        # A gap in the checker must not make a condition unsaveable: the run-time checks
        # still make a wrongly typed condition's images not eligible.
        logging.getLogger(__name__).exception("CEL type check failed")
        return None


async def off_loop(function: Callable[..., _R], *args: Any) -> _R:
    """Run ``function(*args)`` on the CEL threads: validating a condition (parsing up to
    2,000 characters, the trial evaluations) takes milliseconds other requests should not
    wait for."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), function, *args)


# ------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class ConditionResult:
    """Outcome of one condition: ``result`` when it ran, else ``error`` (one line)."""

    expression: str
    result: bool | None
    error: str | None


@dataclass(frozen=True)
class Evaluation:
    """Eligibility of one image; ``reason`` is None when eligible, else one line."""

    eligible: bool
    pass_condition: ConditionResult | None
    fail_condition: ConditionResult | None
    reason: str | None


@dataclass(frozen=True)
class _Condition:
    """A compiled condition, or the error that kept it from compiling."""

    expression: str
    program: celpy.Runner | None
    error: str | None

    @classmethod
    def build(cls, expression: str | None) -> _Condition | None:
        if expression is None or _absent(expression):
            return None
        env = get_environment()
        try:
            with _lock:
                program = env.program(env.compile(expression))
        except CELParseError as error:
            # Saved conditions were validated, but a stored one that no longer compiles
            # must make images not eligible rather than crash the caller.
            return cls(expression, None, _syntax_error_message(error))
        except Exception as error:
            return cls(expression, None, f"invalid expression: {_eval_error_message(error)}")
        return cls(expression, program, None)

    def run(self, activation: celtypes.Value, deadline: float | None) -> ConditionResult:
        if self.program is None:
            return ConditionResult(self.expression, None, self.error)
        try:
            value = cel_budget.run(self.program, activation, Meter(RUNTIME_BUDGET, deadline))
        except BudgetExceeded as error:
            return ConditionResult(self.expression, None, str(error))
        except Exception as error:  # celpy reports everything as CELEvalError; be safe
            return ConditionResult(self.expression, None, _eval_error_message(error))
        if not _is_bool(value):
            return ConditionResult(
                self.expression,
                None,
                f"condition must evaluate to a boolean, got {_cel_type_name(value)}",
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

    def evaluate(self, variables: Mapping[str, object], deadline: float | None = None
                 ) -> Evaluation:
        """Decide eligibility for one image's variables (see :func:`image_variables`).

        Eligible when fail is absent or false AND pass is absent or true; fail wins;
        an error in either condition, or going over the run-time budget, makes the image
        not eligible. Runs on the calling thread: servers use :func:`evaluate_many`.
        """
        if self.empty:
            return Evaluation(True, None, None, None)
        activation = celpy.json_to_cel(dict(variables))
        passed = self._pass.run(activation, deadline) if self._pass else None
        failed = self._fail.run(activation, deadline) if self._fail else None

        reason: str | None = None
        if failed is not None and failed.error is not None:
            reason = f"fail condition error: {failed.error}"
        elif failed is not None and failed.result:
            reason = f"fail condition is true: {_clip(failed.expression)}"
        elif passed is not None and passed.error is not None:
            reason = f"pass condition error: {passed.error}"
        elif passed is not None and not passed.result:
            reason = f"pass condition is false: {_clip(passed.expression)}"
        return Evaluation(reason is None, passed, failed, reason)


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

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    """Threads of their own, so slow conditions never queue behind (or block) the default
    executor that the rest of the process uses."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(EVALUATION_THREADS, thread_name_prefix="hoist-cel")
        return _pool


Job = tuple[CompiledConditions, Mapping[str, object]]


def _evaluate_batch(jobs: Sequence[Job], deadline: float) -> list[Evaluation]:
    return [conditions.evaluate(variables, deadline) for conditions, variables in jobs]


def _over_budget(conditions: CompiledConditions) -> Evaluation:
    """The verdict when a batch did not come back in time."""
    error = (f"{cel_budget.BUDGET_EXCEEDED}: the evaluations took longer than "
             f"{MAX_BATCH_SECONDS:g} s")
    failed = conditions._fail
    if failed is not None:
        result = ConditionResult(failed.expression, None, error)
        return Evaluation(False, None, result, f"fail condition error: {error}")
    passed = conditions._pass
    assert passed is not None
    result = ConditionResult(passed.expression, None, error)
    return Evaluation(False, result, None, f"pass condition error: {error}")


async def evaluate_many(jobs: Sequence[Job]) -> list[Evaluation]:
    """Evaluate (conditions, image variables) pairs off the event loop, in one batch.

    One thread hop for the whole batch, not one per image. Each evaluation has the
    run-time budget; the batch as a whole stops evaluating after MAX_BATCH_SECONDS (the
    remaining images are not eligible with the budget reason). The wait is bounded as
    well, in case an evaluation blocks somewhere the budget is not checked.
    """
    if all(conditions.empty for conditions, _ in jobs):
        return [Evaluation(True, None, None, None) for _ in jobs]
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + MAX_BATCH_SECONDS
    future = loop.run_in_executor(_executor(), _evaluate_batch, list(jobs), deadline)
    try:
        return await asyncio.wait_for(future, timeout=MAX_BATCH_SECONDS + 5.0)
    except TimeoutError:
        return [Evaluation(True, None, None, None) if conditions.empty
                else _over_budget(conditions) for conditions, _ in jobs]


async def evaluate_one(conditions: CompiledConditions,
                       variables: Mapping[str, object]) -> Evaluation:
    """One image, off the event loop (see :func:`evaluate_many`)."""
    [evaluation] = await evaluate_many([(conditions, variables)])
    return evaluation

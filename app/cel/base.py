"""The CEL environment, the variables of an image, messages, and the CEL threads (SPEC §3).

celpy facts this module is built around (checked against cel-python 0.5):

* The lark parser is a process-wide singleton built for the first runner class, so
  the process uses exactly ONE ``celpy.Environment`` (``CompiledRunner``), created
  lazily by :func:`get_environment`. Anything else in Hoist that needs CEL must use it.
* Compiling (parsing, transpiling) is not thread-safe: it runs under :data:`lock`.
  Evaluating runs without it (budget.py runs the compiled code in private globals).
* celpy's errors are long and Python-flavoured; the helpers here make one short line.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import celpy
import celpy.celtypes as celtypes
import lark
from celpy.celparser import CELParseError, CELParser
from celpy.evaluation import TranspilerTree

from app.cel.limits import EVALUATION_THREADS
from app.images import split_reference

KNOWN_VARIABLES: tuple[str, ...] = (
    "containerImage",
    "containerRepository",
    "containerImageTag",
    "imageLabels",
    "gitCommitDetails",
    # Supply-chain evidence attached to the image (issue 20; README "Supply-chain evidence").
    "signatures",
    "vulnerabilities",
    "provenance",
    "sbom",
    "evidenceAge",
)
# The variables that come from evidence rows: only read (one query) when a condition names
# one of them (app/supplychain/variables.py).
EVIDENCE_VARIABLES = frozenset(KNOWN_VARIABLES[KNOWN_VARIABLES.index("signatures") :])
# The integer fields of `vulnerabilities` (its `ids` is a list of strings).
VULNERABILITY_COUNTS: tuple[str, ...] = (
    "critical",
    "high",
    "medium",
    "low",
    "fixableCritical",
    "fixableHigh",
)
EVIDENCE_AGE_KEYS: tuple[str, ...] = ("signature", "vulnerabilities", "provenance", "sbom")

# Longest message we hand back to a user (validation messages and run-time reasons).
_MAX_MESSAGE = 200
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

lock = threading.RLock()
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
    with lock:
        if _environment is None:
            parser = CELParser.CEL_PARSER
            # lark types tree_class as any callable; a built parser's is the class of its trees.
            tree_class = cast(type, parser.options.tree_class) if parser is not None else None
            if tree_class is not None and not issubclass(tree_class, TranspilerTree):
                # Someone built an interpreted-runner parser first; programs compiled with
                # it crash the CompiledRunner. Interpreted runners also accept
                # TranspilerTree (a lark.Tree subclass), so rebuilding it is safe for both.
                CELParser.CEL_PARSER = None
            # Note: Environment() also calls sys.setrecursionlimit(2500), process-wide.
            _environment = celpy.Environment(runner_class=celpy.CompiledRunner)
            logging.getLogger("celpy.Transpiler").addFilter(_DropInternalErrorLogs())
        return _environment


# --------------------------------------------------------------------------- variables


@dataclass(frozen=True)
class EvidenceValues:
    """An image's evidence as its CEL variables take it (app/supplychain/variables.py
    builds it from the newest evidence of each type); the defaults: none attached."""

    signatures: list[dict[str, Any]] = field(default_factory=list)
    vulnerabilities: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None
    sbom: dict[str, Any] | None = None
    # When the newest evidence of each type (EVIDENCE_AGE_KEYS) was attached.
    attached_at: Mapping[str, datetime] = field(default_factory=dict)


NO_EVIDENCE = EvidenceValues()


def image_variables(
    image: str,
    labels: list[str],
    git_commits: list[dict[str, str | None]],
    digest: str | None = None,
    *,
    evidence: EvidenceValues = NO_EVIDENCE,
    now: datetime | None = None,
) -> dict[str, object]:
    """Build the CEL variables of SPEC §3 and of the image's evidence (issue 20).

    All are plain JSON-able values except ``evidenceAge``'s, CEL durations (``now`` minus
    when the newest evidence of that type was attached; null when there is none).
    ``digest`` (the separately recorded digest) is accepted so callers can pass an image
    row as-is, but it changes nothing: ``containerImage`` is the reference as recorded.
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
        "signatures": evidence.signatures,
        "vulnerabilities": evidence.vulnerabilities,
        "provenance": evidence.provenance,
        "sbom": evidence.sbom,
        "evidenceAge": _ages(evidence.attached_at, now),
    }


def _ages(attached_at: Mapping[str, datetime], now: datetime | None) -> dict[str, object]:
    ages: dict[str, object] = dict.fromkeys(EVIDENCE_AGE_KEYS)
    for key, when in attached_at.items():
        if now is not None and key in ages:
            seconds = max(0, int((now - when).total_seconds()))
            ages[key] = celtypes.DurationType(seconds=seconds)
    return ages


# Packages of an SBOM a request's recorded evaluation keeps (the SBOM holds up to 2,000;
# every request would otherwise carry them all).
RECORDED_PACKAGES = 100


def recordable(variables: Mapping[str, object]) -> dict[str, object]:
    """The variables as JSON, for a request's recorded evaluation: evidenceAge's durations
    as CEL's duration text ("3600s"), an SBOM's packages cut to RECORDED_PACKAGES (with
    their count)."""
    out = dict(variables)
    sbom = out.get("sbom")
    if isinstance(sbom, Mapping) and isinstance(sbom.get("packages"), list):
        packages = sbom["packages"]
        out["sbom"] = {"packages": packages[:RECORDED_PACKAGES], "packageCount": len(packages)}
    ages = out.get("evidenceAge")
    if isinstance(ages, Mapping):
        out["evidenceAge"] = {
            key: f"{int(value.total_seconds())}s"
            if isinstance(value, celtypes.DurationType)
            else value
            for key, value in ages.items()
        }
    return out


# -------------------------------------------------------------------------- messages


def clip(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace to one line and cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def syntax_error_message(error: CELParseError) -> str:
    """Turn a CELParseError (whose str() is celpy's source excerpt) into one short line."""
    cause = error.__context__  # the lark exception celpy converted
    what = "invalid syntax"
    if isinstance(cause, lark.exceptions.UnexpectedToken):
        token = cause.token
        if token.type == "$END":
            what = "unexpected end of expression"
        else:
            what = f"unexpected {clip(str(token.value), 40)!r}"
    elif isinstance(cause, lark.exceptions.UnexpectedCharacters):
        char = getattr(cause, "char", "")
        # The string-literal regexes fail at the opening quote when it is never closed.
        what = "unterminated string" if char in ("'", '"') else f"unexpected character {char!r}"
    line = error.line if error.line is not None else "?"
    column = error.column if error.column is not None else "?"
    return clip(f"syntax error at line {line}, column {column}: {what}")


def eval_error_message(error: BaseException) -> str:
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
    return clip(message or type(error).__name__)


def cel_type_name(value: object) -> str:
    for cls, name in _CEL_TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


def is_bool(value: object) -> bool:
    return isinstance(value, (bool, celtypes.BoolType))


_pool: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    """Threads of their own, so slow conditions never queue behind (or block) the default
    executor that the rest of the process uses."""
    global _pool
    with lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(EVALUATION_THREADS, thread_name_prefix="hoist-cel")
        return _pool


async def off_loop(function: Callable[..., _R], *args: Any) -> _R:
    """Run ``function(*args)`` on the CEL threads: validating a condition (parsing up to
    2,000 characters, the trial evaluations) takes milliseconds other requests should not
    wait for."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor(), function, *args)

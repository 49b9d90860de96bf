"""CEL conditions under generated input (SPEC §3, §8): short one-line answers, never a crash.

`validate_condition` answers None or one short line for any text; a condition it accepts
evaluates for any image without raising, and the verdict is consistent with its reason.
Expressions come from random text and from a small CEL grammar (variables known and
unknown, literals of every kind, operators, macros, functions, regexes, nesting).
"""

from __future__ import annotations

import itertools
import re
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app import cel
from tests.fuzz.budget import examples

LIMIT = 300
# Made before Hypothesis runs: the first environment raises the recursion limit, process-wide.
cel.get_environment()
_keys = itertools.count()
# Python's insides: exception class names, tracebacks, reprs of celpy's own types.
INTERNAL = re.compile(
    r"Traceback|File \"|celpy|lark|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bTree\(|"
    r"\b(?:String|Int|Uint|Double|Bool|Bytes|List|Map)Type\(|<[a-z_.]+ object at"
)


def short_line(message: str, expression: str = "") -> None:
    assert message, "an empty message says nothing"
    assert len(message) <= LIMIT, (len(message), message)
    assert "\n" not in message and "\r" not in message, message
    found = [m for m in INTERNAL.findall(message) if m not in expression]
    assert not found, (found, message)


variables = st.sampled_from(
    [*cel.KNOWN_VARIABLES, "containerimage", "foo", "image", "_x", "request", "x", "now"]
)
int_literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        [
            "0",
            "-0",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "0x1F",
            "18446744073709551615u",
            "1u",
            "-1u",
        ]
    ),
)
double_literals = st.sampled_from(["1.5", "-0.0", "1e308", "1e309", "2.", ".5", "1e-400"])
string_literals = st.one_of(
    st.text(st.characters(exclude_characters='"\\\n\r'), max_size=12).map(lambda t: f'"{t}"'),
    st.sampled_from(
        [
            '"v"',
            "'rc'",
            'r"\\d+"',
            '"""multi\nline"""',
            '"\\u00e9"',
            '"\\x41"',
            '"\\q"',
            '"\\ud800"',
            'b"\\xff"',
            '"main"',
            '"https://git.example.com"',
            '"(?P<x>"',
            '"[a-z"',
            '"a{1000}{1000}"',
            '"\\\\"',
            '"',
        ]
    ),
)
literals = st.one_of(
    int_literals,
    double_literals,
    string_literals,
    st.sampled_from(["true", "false", "null", "[]", "{}", "b'x'"]),
)
FUNCTIONS = [
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "type",
    "timestamp",
    "duration",
    "has",
    "dyn",
    "matches",
    "startsWith",
    "getDate",
    "max",
    "nope",
]
METHODS = [
    "startsWith",
    "endsWith",
    "contains",
    "matches",
    "size",
    "getMonth",
    "lowerAscii",
    "split",
    "nope",
]
MACROS = ["exists", "all", "exists_one", "map", "filter", "reduce", "min"]
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", children, st.sampled_from(BINARY), children),
        st.builds(lambda op, a: f"{op}{a}", st.sampled_from(["!", "-", "!!", "--"]), children),
        st.builds(lambda a, b, c: f"{a} ? {b} : {c}", children, children, children),
        children.map(lambda a: f"({a})"),
        st.builds(
            lambda a, f: f"{a}.{f}",
            children,
            st.sampled_from(["branch", "repo", "author", "x", "size"]),
        ),
        st.builds(lambda a, b: f"{a}[{b}]", children, children),
        st.builds(
            lambda f, args: f"{f}({', '.join(args)})",
            st.sampled_from(FUNCTIONS),
            st.lists(children, max_size=3),
        ),
        st.builds(
            lambda a, m, args: f"{a}.{m}({', '.join(args)})",
            children,
            st.sampled_from(METHODS),
            st.lists(children, max_size=2),
        ),
        st.builds(
            lambda a, m, v, body: f"{a}.{m}({v}, {body})",
            children,
            st.sampled_from(MACROS),
            st.sampled_from(["x", "l", "1", "x.y"]),
            children,
        ),
        st.builds(
            lambda a, m, b, c: f"{a}.{m}(x, {b}, {c})",
            children,
            st.sampled_from(MACROS),
            children,
            children,
        ),
        st.lists(children, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        pair.map(lambda kv: f"{{{kv[0]}: {kv[1]}}}"),
    )


expressions = st.recursive(st.one_of(variables, literals), _compound, max_leaves=12)
deep = st.builds(
    lambda n, op, inner: op[0] * n + inner + op[1] * n,
    st.integers(50, 600),
    st.sampled_from([("(", ")"), ("[", "]"), ("!", ""), ("-", ""), ("size(", ")"), ("{1: ", "}")]),
    st.sampled_from(["true", "containerImage", "1"]),
)
# Deep nesting costs ~0.1 s an expression to refuse: drawn less often than the rest.
conditions = st.one_of(
    expressions,
    expressions,
    expressions,
    deep,
    st.text(max_size=80),
    st.text(string.printable, max_size=80),
)

optional = st.none() | st.text(max_size=10)
commits = st.fixed_dictionaries(
    {"repo": st.text(max_size=20)},
    optional={
        "branch": optional,
        "commitHash": optional,
        "commitMessage": optional,
        "author": optional,
    },
)
images = st.builds(
    cel.image_variables,
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "registry.example.com:5000/team/app:1.4.2",
                "app",
                "app@sha256:" + "ab" * 32,
                "a:b:c@d@e",
                ":",
                "@",
                "/:",
                "",
            ]
        ),
    ),
    st.lists(st.text(max_size=10), max_size=4),
    st.lists(commits, max_size=3),
)


def evaluate(
    pass_condition: str | None, fail_condition: str | None, image: dict[str, Any]
) -> cel.Evaluation:
    program = cel.compile_conditions(("fuzz", next(_keys)), pass_condition, fail_condition)
    verdict = program.evaluate(image)
    assert verdict.eligible == (verdict.reason is None), verdict
    if verdict.reason is not None:
        short_line(verdict.reason, f"{pass_condition} {fail_condition}")
    for result in (verdict.pass_condition, verdict.fail_condition):
        if result is not None:
            assert (result.result is None) == (result.error is not None), result
            if result.error is not None:
                short_line(result.error, result.expression)
    return verdict


CEL = settings(max_examples=examples(250), deadline=None, database=None)


@CEL
@given(conditions)
def test_validation_answers_in_one_short_line(expression: str) -> None:
    message = cel.validate_condition(expression)
    if message is not None:
        short_line(message, expression)


@CEL
@given(conditions, st.one_of(st.none(), conditions), images)
def test_accepted_conditions_evaluate_without_raising(
    pass_condition: str, fail_condition: str | None, image: dict[str, Any]
) -> None:
    accepted = [
        c
        for c in (pass_condition, fail_condition)
        if c is not None and cel.validate_condition(c) is None
    ]
    if len(accepted) == 2:
        evaluate(pass_condition, fail_condition, image)
    elif accepted:
        evaluate(accepted[0], None, image)


@settings(CEL, max_examples=examples(120))
@given(conditions, images)
def test_refused_conditions_stored_anyway_never_raise(
    expression: str, image: dict[str, Any]
) -> None:
    """A condition saved before a validation rule existed gets a verdict, never a crash."""
    if cel.validate_condition(expression) is not None:
        evaluate(expression, None, image)


def test_a_conversion_that_fails_is_explained() -> None:
    """Found by the fuzzing above: the reason was "<class 'pendulum.parsing...ParserError'>"."""
    condition = 'timestamp(containerImageTag) > timestamp("2024-01-01T00:00:00Z")'
    assert cel.validate_condition(condition) is None
    verdict = evaluate(condition, None, cel.image_variables("registry/app:v1", [], []))
    assert verdict.reason == (
        "pass condition error: a value could not be converted (not a "
        "valid timestamp, duration or number)"
    )


def test_a_condition_celpy_cannot_run_is_explained() -> None:
    """Found by the fuzzing above: a stored `reduce()` gave "module 'celpy.evaluation' has
    no attribute 'macro_reduce'" as the reason (validation refuses it, older rows may not)."""
    condition = "imageLabels.reduce(x, [])"
    assert cel.validate_condition(condition) == "reduce() is not supported, at line 1, column 13"
    verdict = evaluate(condition, None, cel.image_variables("registry/app:v1", [], []))
    assert verdict.reason == "pass condition error: this expression is not supported"


# ----------------------------------------------------------- the static type check
# Expressions built from typed pieces, then combined with operators and functions at
# random, so that both well-typed and ill-typed combinations occur. Whatever the type
# check accepts must never meet a type error ("no such overload") when it runs.
#
# celpy also says "no such overload" when an *error value* (a missing key inside a ?:
# branch, say) reaches a function, whatever the types. So the pieces here are total on
# the images below (labels never empty, the repo always present, no division, regexes
# and patterns that always compile): any "no such overload" left is a type error.

_KEY = '"https://github.com/example/app"'
_typed: dict[str, st.SearchStrategy[str]] = {}


def _of(kind: str) -> st.SearchStrategy[str]:
    return st.deferred(lambda: _typed[kind])


_typed["string"] = st.one_of(
    st.sampled_from(
        [
            "containerImage",
            "containerRepository",
            "containerImageTag",
            '"v1"',
            "''",
            "imageLabels[0]",
            f"gitCommitDetails[{_KEY}].branch",
            f"gitCommitDetails[{_KEY}].author",
        ]
    ),
    st.builds(lambda a, b: f"({a} + {b})", _of("string"), _of("string")),
    st.builds(lambda a: f"string({a})", st.one_of(_of("int"), _of("double"), _of("bool"))),
    st.builds(lambda a, b, c: f"({a} ? {b} : {c})", _of("bool"), _of("string"), _of("string")),
)
_typed["int"] = st.one_of(
    st.sampled_from(
        ["0", "1", "-7", "size(imageLabels)", "size(gitCommitDetails)", "containerImage.size()"]
    ),
    st.builds(lambda a: f"size({a})", _of("string")),
    st.builds(lambda a, op, b: f"({a} {op} {b})", _of("int"), st.sampled_from("+-*"), _of("int")),
    st.builds(lambda a: f"int({a})", st.one_of(_of("double"), _of("uint"))),
)
_TOTAL_BINARY = ["+", "-", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]
_typed["uint"] = st.one_of(
    st.sampled_from(["1u", "0u"]), st.builds(lambda a: f"uint(size({a}))", _of("string"))
)
_typed["double"] = st.one_of(
    st.sampled_from(["1.5", "-0.5"]), st.builds(lambda a: f"double({a})", _of("int"))
)
_typed["list"] = st.one_of(
    st.sampled_from(["imageLabels", '["a", "b"]', "[]"]),
    st.builds(lambda a, b: f"({a} + {b})", _of("list"), _of("list")),
    st.builds(
        lambda a, b: f"{a}.filter(x, {b})",
        _of("list"),
        st.sampled_from(['x != ""', 'x.startsWith("r")', "size(x) > 2"]),
    ),
    st.builds(
        lambda a, b: f"{a}.map(y, {b})",
        _of("list"),
        st.sampled_from(['y + "!"', "y", "containerImage"]),
    ),
)
_typed["bool"] = st.one_of(
    st.sampled_from(
        [
            "true",
            "false",
            '"stable" in imageLabels',
            f"{_KEY} in gitCommitDetails",
            "has(gitCommitDetails.x)",
        ]
    ),
    st.builds(
        lambda a, op, b: f"({a} {op} {b})",
        _of("string"),
        st.sampled_from(["==", "!=", "<", ">="]),
        _of("string"),
    ),
    st.builds(
        lambda a, op, b: f"({a} {op} {b})",
        _of("int"),
        st.sampled_from(["==", "<", ">"]),
        _of("int"),
    ),
    st.builds(
        lambda a, m, b: f"{a}.{m}({b})",
        _of("string"),
        st.sampled_from(["startsWith", "endsWith", "contains", "matches"]),
        _of("string"),
    ),
    st.builds(
        lambda a, m, b: f"{a}.{m}(z, {b})",
        _of("list"),
        st.sampled_from(["all", "exists", "exists_one"]),
        st.sampled_from(['z == "stable"', "size(z) > 1", 'z.endsWith("1")']),
    ),
    st.builds(
        lambda a, op, b: f"({a} {op} {b})", _of("bool"), st.sampled_from(["&&", "||"]), _of("bool")
    ),
    st.builds(lambda a: f"!{a}", _of("bool")),
)
_any_typed = st.one_of(*(_of(kind) for kind in ("string", "int", "uint", "double", "list", "bool")))
# Ill-typed on purpose, some of the time: any operand with any operator or function.
mixed = st.one_of(
    _of("bool"),
    st.builds(
        lambda a, op, b: f"{a} {op} {b}", _any_typed, st.sampled_from(_TOTAL_BINARY), _any_typed
    ),
    st.builds(
        lambda f, a: f"{f}({a}) == {f}({a})",
        st.sampled_from(["size", "int", "uint", "double", "string", "bytes", "type", "duration"]),
        _any_typed,
    ),
    st.builds(
        lambda a, m, b: f"{a}.{m}({b})",
        _any_typed,
        st.sampled_from(["startsWith", "contains", "matches", "size"]),
        _any_typed,
    ),
    st.builds(lambda a, b: f"{a}[{b}] == {a}[{b}]", _any_typed, _any_typed),
    st.builds(
        lambda a, m, b: f"{a}.{m}(w, w {b})",
        _any_typed,
        st.sampled_from(["all", "exists", "map", "filter"]),
        st.sampled_from(['== "a"', "> 1", "+ 1", '+ "x" == "y"']),
    ),
)


_word = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
typed_images = st.builds(
    cel.image_variables,
    st.builds(lambda repo, tag: f"registry.example.com/{repo}:{tag}", _word, _word),
    st.lists(_word, min_size=1, max_size=4),
    st.builds(lambda branch: [{"repo": _KEY.strip('"'), "branch": branch, "author": "a"}], _word),
)


@settings(CEL, max_examples=examples(400))
@given(mixed, typed_images)
def test_accepted_conditions_never_meet_a_type_error(
    expression: str, image: dict[str, Any]
) -> None:
    if cel.validate_condition(expression) is not None:
        return
    verdict = evaluate(expression, None, image)
    assert "no such overload" not in (verdict.reason or ""), (expression, verdict.reason)

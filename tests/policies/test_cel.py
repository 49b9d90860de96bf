"""Tests for app.cel: variables, eligibility, validation and caching (SPEC §3)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from uuid import uuid4

import lark
import pytest

from app import cel

KNOWN_LIST = (
    "containerImage, containerRepository, containerImageTag, imageLabels, gitCommitDetails, "
    "signatures, vulnerabilities, provenance, sbom, evidenceAge"
)

# Conditions by outcome against IMAGE below. ERROR reads a repo the image doesn't have.
TRUE = 'containerImageTag == "1.4.2"'
FALSE = 'containerImageTag == "0.0.1"'
ERROR = 'gitCommitDetails["https://github.com/nope/nope"].branch == "main"'


def make_image(image: str = "registry.example.com:5000/team/app:1.4.2") -> dict[str, object]:
    return cel.image_variables(
        image,
        ["stable", "release-1.4"],
        [
            {
                "repo": "https://github.com/x/y",
                "branch": "main",
                "commitHash": "0123abcd",
                "commitMessage": "Fix login",
                "author": "dev@example.com",
            },
            {
                "repo": "https://github.com/x/lib",
                "branch": "release",
                "commitHash": None,
                "commitMessage": None,
                "author": None,
            },
        ],
    )


IMAGE = make_image()


def evaluate(
    pass_condition: str | None, fail_condition: str | None, variables: dict[str, object] = IMAGE
) -> cel.Evaluation:
    # A fresh key per call keeps tests independent of each other's cache entries.
    key = ("test", uuid4())
    return cel.compile_conditions(key, pass_condition, fail_condition).evaluate(variables)


# ---------------------------------------------------------------------------- basics


def test_known_variables_are_exactly_the_spec_list() -> None:
    assert tuple(KNOWN_LIST.split(", ")) == cel.KNOWN_VARIABLES


def test_results_are_frozen_dataclasses() -> None:
    result = evaluate(TRUE, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.eligible = False  # type: ignore[misc]
    assert result.pass_condition is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.pass_condition.result = False  # type: ignore[misc]


# ------------------------------------------------------------------------ precedence

OUTCOMES = {"absent": None, "true": TRUE, "false": FALSE, "error": ERROR}


def expected_reason(pass_kind: str, fail_kind: str) -> str | None:
    """The rule from SPEC §3: fail wins, errors mean not eligible."""
    if fail_kind == "error":
        return "fail condition error: no such member in mapping: 'https://github.com/nope/nope'"
    if fail_kind == "true":
        return f"fail condition is true: {TRUE}"
    if pass_kind == "error":
        return "pass condition error: no such member in mapping: 'https://github.com/nope/nope'"
    if pass_kind == "false":
        return f"pass condition is false: {FALSE}"
    return None


@pytest.mark.parametrize(("pass_kind", "fail_kind"), list(itertools.product(OUTCOMES, OUTCOMES)))
def test_precedence_table(pass_kind: str, fail_kind: str) -> None:
    result = evaluate(OUTCOMES[pass_kind], OUTCOMES[fail_kind])
    reason = expected_reason(pass_kind, fail_kind)
    assert result.reason == reason
    assert result.eligible is (reason is None)

    # Each condition that is present reports its own outcome.
    for kind, condition in ((pass_kind, result.pass_condition), (fail_kind, result.fail_condition)):
        if kind == "absent":
            assert condition is None
        elif kind == "error":
            assert condition is not None
            assert condition.result is None and condition.error
        else:
            assert condition is not None
            assert condition.result is (kind == "true") and condition.error is None


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t"])
def test_blank_conditions_are_absent(blank: str | None) -> None:
    result = evaluate(blank, blank)
    assert result == cel.Evaluation(True, None, None, None)


def test_no_conditions_make_every_image_eligible() -> None:
    for variables in (IMAGE, cel.image_variables("app", [], [])):
        assert evaluate(None, None, variables).eligible


# ------------------------------------------------------------------------- variables


@pytest.mark.parametrize(
    "condition",
    [
        'containerImage == "registry.example.com:5000/team/app:1.4.2"',
        'containerRepository == "registry.example.com:5000/team/app"',
        'containerImageTag == "1.4.2"',
        '"stable" in imageLabels',
        'size(imageLabels) == 2 && imageLabels[1] == "release-1.4"',
        'imageLabels.exists(x, x.startsWith("release-"))',
        'gitCommitDetails["https://github.com/x/y"].branch == "main"',
        'gitCommitDetails["https://github.com/x/y"].commitHash == "0123abcd"',
        'gitCommitDetails["https://github.com/x/y"].commitMessage == "Fix login"',
        'gitCommitDetails["https://github.com/x/y"].author == "dev@example.com"',
        'gitCommitDetails["https://github.com/x/y"].repo == "https://github.com/x/y"',
        '"https://github.com/x/lib" in gitCommitDetails',
        'gitCommitDetails.all(r, gitCommitDetails[r].branch in ["main", "release"])',
        'containerRepository.matches("^registry\\\\.example\\\\.com:5000/")',
    ],
)
def test_each_variable_is_visible_to_cel(condition: str) -> None:
    assert cel.validate_condition(condition) is None
    result = evaluate(condition, None)
    assert result.eligible, result.reason


def test_missing_commit_fields_become_empty_strings() -> None:
    details = IMAGE["gitCommitDetails"]
    assert details == {
        "https://github.com/x/y": {
            "repo": "https://github.com/x/y",
            "branch": "main",
            "commitHash": "0123abcd",
            "commitMessage": "Fix login",
            "author": "dev@example.com",
        },
        "https://github.com/x/lib": {
            "repo": "https://github.com/x/lib",
            "branch": "release",
            "commitHash": "",
            "commitMessage": "",
            "author": "",
        },
    }
    assert evaluate('gitCommitDetails["https://github.com/x/lib"].author == ""', None).eligible


def test_variables_are_plain_json_values() -> None:
    import json

    assert json.loads(json.dumps(IMAGE)) == IMAGE


@pytest.mark.parametrize(
    ("image", "repository", "tag"),
    [
        ("app:1.0", "app", "1.0"),
        ("app", "app", ""),
        ("docker.io/library/app:latest", "docker.io/library/app", "latest"),
        ("registry:5000/team/app:v2", "registry:5000/team/app", "v2"),
        ("registry:5000/team/app", "registry:5000/team/app", ""),
        ("registry/app@sha256:" + "a" * 64, "registry/app", ""),
        ("registry:5000/app:1.0@sha256:" + "b" * 64, "registry:5000/app", "1.0"),
    ],
)
def test_repository_and_tag(image: str, repository: str, tag: str) -> None:
    assert cel.split_reference(image) == (repository, tag)
    variables = cel.image_variables(image, [], [], digest="sha256:" + "c" * 64)
    assert variables["containerImage"] == image
    assert variables["containerRepository"] == repository
    assert variables["containerImageTag"] == tag
    condition = f'containerRepository == "{repository}" && containerImageTag == "{tag}"'
    assert evaluate(condition, None, variables).eligible


def test_empty_image_has_empty_collections() -> None:
    variables = cel.image_variables("app", [], [])
    assert variables["imageLabels"] == [] and variables["gitCommitDetails"] == {}
    condition = "size(imageLabels) == 0 && size(gitCommitDetails) == 0"
    assert evaluate(condition, None, variables).eligible


# ------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "condition",
    [
        'containerImageTag.startsWith("1.")',
        'imageLabels.all(label, label != "")',
        'imageLabels.exists_one(l, l == "stable")',
        'imageLabels.filter(l, l.endsWith("-1.4")).size() == 1',
        'imageLabels.map(l, l + "!").exists(m, m == "stable!")',
        "imageLabels.exists(a, imageLabels.exists(b, a != b))",  # nested macro scopes
        'has(gitCommitDetails.foo) || int("3") == 3 || string(1) == "1"',
        "type(containerImageTag) == string",
        '{"k": containerImage}.k != ""',  # field selection on a literal map
        '.containerImage != ""',
        "true",
        '// a comment\ncontainerImage != ""',
    ],
)
def test_valid_conditions_are_accepted(condition: str) -> None:
    assert cel.validate_condition(condition) is None


@pytest.mark.parametrize("blank", ["", "  ", "\n"])
def test_blank_condition_validates(blank: str) -> None:
    assert cel.validate_condition(blank) is None


def test_syntax_error_names_line_and_column() -> None:
    message = cel.validate_condition("containerImage == == 1")
    assert message == "syntax error at line 1, column 19: unexpected '=='"


def test_syntax_error_on_later_line_reports_that_line() -> None:
    expression = 'containerImageTag == "1.0"\n  && (imageLabels.size() > 0\n  || @'
    message = cel.validate_condition(expression)
    assert message == "syntax error at line 3, column 6: unexpected character '@'"


def test_unexpected_end_and_unterminated_string() -> None:
    assert cel.validate_condition("containerImage ==\n  (1 +") == (
        "syntax error at line 2, column 6: unexpected end of expression"
    )
    assert cel.validate_condition('containerImage == "abc') == (
        "syntax error at line 1, column 19: unterminated string"
    )


def test_unknown_variable_is_named_with_the_known_list() -> None:
    message = cel.validate_condition('containerImage == "x" && foo.bar == 1')
    assert message == (
        f"unknown variable 'foo' at line 1, column 26; known variables: {KNOWN_LIST}"
    )


@pytest.mark.parametrize(
    ("condition", "name"),
    [
        ("x.exists(x, true)", "x"),  # the macro variable is not bound in the receiver
        ('imageLabels.exists(x, x == "a") && x == "a"', "x"),  # nor after the macro
        ("containerimage == 'a'", "containerimage"),  # names are case-sensitive
        (".foo == 1", "foo"),
        ("size == 1", "size"),  # a function name is not a variable
    ],
)
def test_unknown_variables_are_refused(condition: str, name: str) -> None:
    message = cel.validate_condition(condition)
    assert message is not None
    assert message.startswith(f"unknown variable '{name}' at line 1, column ")
    assert message.endswith(f"known variables: {KNOWN_LIST}")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("siz(imageLabels) > 0", "unknown function 'siz' at line 1, column 1"),
        ('containerImage.startWith("a")', "unknown function 'startWith' at line 1, column 16"),
        ('imageLabels.exists("a", true)', "exists() takes a variable name and one expression"),
        ("imageLabels.all(x)", "all() takes a variable name and one expression"),
        ("imageLabels.reduce(a, x, a)", "reduce() is not supported"),
        ('containerImage.matches("[")', "invalid regular expression at line 1, column 24"),
    ],
)
def test_other_static_problems_are_refused(condition: str, expected: str) -> None:
    message = cel.validate_condition(condition)
    assert message is not None and message.startswith(expected)


@pytest.mark.parametrize(
    ("condition", "type_name"),
    [
        ("containerImage", "string"),
        ("size(imageLabels)", "int"),
        ("imageLabels", "list"),
        ("gitCommitDetails", "map"),
        ('containerImage == "x" || 1', "int"),  # celpy's || passes the int through
    ],
)
def test_non_boolean_conditions_are_refused(condition: str, type_name: str) -> None:
    assert cel.validate_condition(condition) == (
        f"condition must evaluate to a boolean, got {type_name}"
    )


def test_condition_that_only_errors_on_samples_is_allowed() -> None:
    # Run-time errors are per image; the save must not be refused for them.
    assert cel.validate_condition(ERROR) is None


@pytest.mark.parametrize(
    "condition",
    [
        "containerImage == ",
        "foo" * 200 + " == 1",
        '"' + "x" * 5000,
        "a b c d e f g h i j k l m n o p",
        "containerImage.exists(x, " * 50,
        "(" * 300,
        "1 + 1",
    ],
)
def test_validation_messages_are_short_and_one_line(condition: str) -> None:
    message = cel.validate_condition(condition)
    assert message is not None
    assert len(message) < 300
    assert "\n" not in message


# ----------------------------------------------------------------- run-time problems


@pytest.mark.parametrize(
    ("condition", "error"),
    [
        (ERROR, "no such member in mapping: 'https://github.com/nope/nope'"),
        ("1 / 0 == 1", "divide by zero"),
        ("containerImage + 1 == 2", "no such overload"),
        ("containerImage", "condition must evaluate to a boolean, got string"),
        ("nothere == 1", "no such member in mapping: 'nothere'"),  # never validated
        ("a b", "syntax error at line 1, column 3: unexpected 'b'"),  # never validated
    ],
)
def test_run_time_error_gives_a_one_line_reason(condition: str, error: str) -> None:
    result = evaluate(condition, None)
    assert not result.eligible
    assert result.pass_condition == cel.ConditionResult(condition, None, error)
    assert result.reason == f"pass condition error: {error}"
    assert "\n" not in result.reason and len(result.reason) < 300


def test_reason_shows_a_multiline_expression_on_one_line() -> None:
    condition = 'containerImageTag ==\n    "0.0.1"'
    assert evaluate(condition, None).reason == (
        'pass condition is false: containerImageTag == "0.0.1"'
    )


def test_run_time_errors_do_not_log_celpy_internal_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="celpy"):
        assert not evaluate(ERROR, None).eligible
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -------------------------------------------------------------------------- caching


def test_same_key_returns_the_same_compiled_object() -> None:
    key = ("policy", uuid4(), 3)
    first = cel.compile_conditions(key, TRUE, FALSE)
    assert cel.compile_conditions(key, TRUE, FALSE) is first
    assert cel.compile_conditions(("policy", uuid4(), 3), TRUE, FALSE) is not first


def test_stale_key_with_other_expressions_gets_its_own_programs() -> None:
    key = ("pipeline", uuid4(), "2024-01-01T00:00:00")
    assert cel.compile_conditions(key, TRUE, None).evaluate(IMAGE).eligible
    assert not cel.compile_conditions(key, FALSE, None).evaluate(IMAGE).eligible


def test_cached_conditions_are_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    env = cel.get_environment()
    parsed: list[str] = []
    original = env.compile

    def counting_compile(text: str) -> lark.Tree:
        parsed.append(text)
        return original(text)

    monkeypatch.setattr(env, "compile", counting_compile)
    key = ("policy", uuid4(), 1)
    compiled = cel.compile_conditions(key, TRUE, FALSE)
    assert parsed == [TRUE, FALSE]

    for _ in range(20):
        again = cel.compile_conditions(key, TRUE, FALSE)
        assert again is compiled
        assert again.evaluate(IMAGE).eligible
    assert parsed == [TRUE, FALSE]


def test_environment_is_a_compiled_runner_singleton() -> None:
    import celpy

    env = cel.get_environment()
    assert cel.get_environment() is env
    assert env.runner_class is celpy.CompiledRunner

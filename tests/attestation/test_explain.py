"""Explaining a condition clause by clause (issue 20, item 3): which top-level && / || operand
kept the image back, with its value, under the run-time budget."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import cel
from app.cel import explain as cel_explain
from app.cel.limits import RUNTIME_BUDGET

IMAGE = cel.image_variables("registry.example.com/shop:1.4.2", ["stable"], [])


def clauses(pass_condition: str | None, fail_condition: str | None = None) -> list[tuple[str, ...]]:
    evaluation = cel.CompiledConditions(pass_condition, fail_condition).evaluate(
        IMAGE, explain=True
    )
    assert not evaluation.eligible
    return [(c.condition, c.expression, c.value) for c in evaluation.failed_clauses]


def test_the_false_operand_of_an_and_is_named_with_its_value() -> None:
    assert clauses('containerImageTag.startsWith("1.") && "core" in imageLabels') == [
        ("pass", '"core" in imageLabels', '"core" in ["stable"]'),
    ]


def test_a_comparison_shows_its_operands_values() -> None:
    assert clauses("size(imageLabels) == 0 && true") == [
        ("pass", "size(imageLabels) == 0", "1 == 0"),
    ]
    # One clause alone is explained the same way.
    assert clauses("size(imageLabels) >= 3") == [("pass", "size(imageLabels) >= 3", "1 >= 3")]


def test_every_operand_of_a_false_or_is_named() -> None:
    assert clauses('containerImageTag.startsWith("v") || containerImageTag == "latest"') == [
        ("pass", 'containerImageTag.startsWith("v")', '"1.4.2".startsWith("v")'),
        ("pass", 'containerImageTag == "latest"', '"1.4.2" == "latest"'),
    ]


def test_a_fail_condition_names_its_true_operands() -> None:
    assert clauses(None, '"stable" in imageLabels || containerImageTag == "rc"') == [
        ("fail", '"stable" in imageLabels', '"stable" in ["stable"]'),
    ]


def test_parenthesised_operands_are_explained_down_to_the_clause() -> None:
    expression = '(containerImageTag == "x" || true) && (size(imageLabels) > 1 || false)'
    assert clauses(expression) == [
        ("pass", "size(imageLabels) > 1", "1 > 1"),
        ("pass", "false", "false"),
    ]


def test_an_operand_that_errors_is_named_with_its_error() -> None:
    evaluation = cel.CompiledConditions(
        'gitCommitDetails["nowhere"].branch == "main" && true', None
    ).evaluate(IMAGE, explain=True)
    [clause] = evaluation.failed_clauses
    assert clause.result is None and clause.error is not None and "nowhere" in clause.error
    assert clause.value.startswith("error: ")


def test_nothing_is_explained_unless_asked_or_when_eligible() -> None:
    conditions = cel.CompiledConditions('"core" in imageLabels && true', None)
    assert conditions.evaluate(IMAGE).failed_clauses == ()
    assert (
        cel.CompiledConditions('"stable" in imageLabels', None)
        .evaluate(IMAGE, explain=True)
        .failed_clauses
        == ()
    )


def test_a_huge_expression_explains_a_bounded_number_of_clauses() -> None:
    expression = " || ".join(f'containerImageTag == "x{i}"' for i in range(150))
    found = clauses(expression)
    assert len(found) == cel_explain.MAX_CLAUSES
    assert found[0] == ("pass", 'containerImageTag == "x0"', '"1.4.2" == "x0"')


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run-time budget at a tenth (the same code paths, a tenth of the time)."""
    small = replace(RUNTIME_BUDGET, steps=2_000)
    monkeypatch.setattr(cel, "RUNTIME_BUDGET", small)
    monkeypatch.setattr(cel_explain, "RUNTIME_BUDGET", small)


def test_the_explanation_stops_at_the_run_time_budget(small_budget: None) -> None:
    # Each clause costs about 625 steps: the condition itself (three of them, ~1,900)
    # fits the 2,000-step budget, explaining all three (each again, plus both sides of
    # each comparison) would not. The explanation stops with what it found.
    big = "[" + ", ".join(str(i) for i in range(24)) + "]"
    clause = f"{big}.all(a, {big}.all(b, true)) == false"
    evaluation = cel.CompiledConditions(" || ".join([clause] * 3), None).evaluate(
        IMAGE, explain=True
    )
    assert evaluation.reason is not None and evaluation.reason.startswith("pass condition is false")
    assert 1 <= len(evaluation.failed_clauses) < 3
    assert evaluation.failed_clauses[0].value == "true == false"


def test_an_evaluation_over_budget_is_not_explained_again(small_budget: None) -> None:
    big = "[" + ", ".join(str(i) for i in range(50)) + "]"
    evaluation = cel.CompiledConditions(f"{big}.all(a, {big}.all(b, true)) && true", None).evaluate(
        IMAGE, explain=True
    )
    assert evaluation.reason is not None and "evaluation budget" in evaluation.reason
    assert evaluation.failed_clauses == ()
    # What callers show instead: the condition itself, with its error.
    [whole] = evaluation.kept_back_by()
    assert whole.result is None and whole.error is not None


def test_values_are_rendered_as_cel_writes_them() -> None:
    render = cel_explain.render
    assert render('a"b') == '"a\\"b"'
    assert [render(v) for v in (None, True, 3, 2.5)] == ["null", "true", "3", "2.5"]
    assert render(["x", 1]) == '["x", 1]'
    assert len(render("y" * 500)) <= 80

"""CEL cost bounds (SPEC §3, issue 11 items 2-3): limits at save, the type check, budgets at
run time, evaluation off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from uuid import uuid4

import celpy
import pytest

from app import cel
from app.cel import budget as cel_budget
from app.cel import limits as cel_limits
from tests.policies.test_cel import IMAGE, evaluate

BUDGET = "condition exceeded the evaluation budget"
TEN = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"


def nested(depth: int, body: str = "true") -> str:
    """`depth` comprehensions, each inside the previous one's body."""
    text = body
    for level in reversed(range(depth)):
        text = f"{TEN}.all(v{level}, {text})"
    return text


def doubling(times: int, seed: str = "[containerImage]") -> str:
    """A chain of map() calls, each doubling the strings of the list (2^times growth)."""
    return seed + "".join(f".map(a{i}, a{i} + a{i})" for i in range(times)) + ".size() == 1"


# --------------------------------------------------------------- limits at save


def test_a_text_over_the_character_limit_is_refused_before_parsing() -> None:
    limit = cel_limits.MAX_EXPRESSION_CHARS
    ok = 'containerImage == "' + "x" * (limit - 20) + '"'
    assert len(ok) == limit and cel.validate_condition(ok) is None
    too_long = 'containerImage == "' + "x" * (limit - 19) + '"'
    assert cel.validate_condition(too_long) == (
        f"expression is too long: {limit + 1:,} characters, at most {limit:,} (the limit is "
        f"passed at line 1, column {limit + 1})"
    )


def test_an_expression_over_the_node_limit_is_refused_with_the_position() -> None:
    condition = " || ".join(["1 == 1"] * 180)  # four nodes a term
    assert len(condition) <= cel_limits.MAX_EXPRESSION_CHARS
    message = cel.validate_condition(condition)
    assert message is not None
    assert message.startswith(
        f"expression is too large: more than {cel_limits.MAX_EXPRESSION_NODES} operators and "
        "operands (the limit is passed at line 1, column "
    )


def test_comprehensions_nested_two_deep_are_fine_three_are_refused() -> None:
    assert cel_limits.MAX_MACRO_NESTING == 2
    assert cel.validate_condition(nested(2)) is None
    message = cel.validate_condition(nested(3))
    column = nested(3).rindex(".all(") + 2
    assert message == (
        f"comprehensions nested too deeply: all() at line 1, column {column} is nested 3 "
        "deep, at most 2 (all, exists, exists_one, map, filter)"
    )


def test_a_comprehension_in_the_receiver_is_not_nested() -> None:
    # The receiver runs once, not once per element: chaining adds, it does not multiply.
    chained = 'imageLabels.map(a, a).filter(b, b != "").exists(c, imageLabels.all(d, d != c))'
    assert cel.validate_condition(chained) is None


def test_more_comprehensions_than_the_limit_are_refused() -> None:
    limit = cel_limits.MAX_MACROS
    assert cel.validate_condition(doubling(limit)) is None
    condition = doubling(limit + 1)
    column = [i for i in range(len(condition)) if condition.startswith(".map(", i)][limit] + 2
    assert cel.validate_condition(condition) == (
        f"too many comprehensions: {limit + 1} calls of all, exists, exists_one, map, filter, "
        f"at most {limit} (the first one over the limit is at line 1, column {column})"
    )


def test_the_issue_bombs_are_refused_at_save_before_they_run() -> None:
    # Static checks refuse both (31 s for the nested one, gigabytes for the doubling when
    # run): the messages are the static checks', so neither was evaluated.
    assert cel.validate_condition(nested(6)).startswith("comprehensions nested too deeply")
    assert cel.validate_condition(doubling(30)).startswith("too many comprehensions")


@pytest.mark.usefixtures("steps_not_seconds")
def test_a_condition_within_the_static_limits_that_is_costly_on_samples_is_refused() -> None:
    forty = "[" + ", ".join(str(i) for i in range(40)) + "]"
    condition = f"{forty}.all(a, {forty}.all(b, b >= 0))"  # 1,600 steps on any image
    assert cel.validate_condition(condition) == (
        f"{BUDGET}: more than {cel_limits.VALIDATION_BUDGET.steps:,} steps (on a small sample "
        "image)"
    )


# ------------------------------------------------------------------- type check


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "imageLabels + 1",
            "type error at line 1, column 1: '+' cannot be applied to list(string) and int",
        ),
        (
            'size(imageLabels) > "a"',
            "type error at line 1, column 1: '>' cannot be applied to int and string",
        ),
        ("1/0 == 1", "division by zero at line 1, column 1: the divisor is a literal 0"),
        (
            "containerImageTag.size() % 0u == 1u",
            "division by zero at line 1, column 1: the divisor is a literal 0",
        ),
        (
            "containerImage * 2 == 4",
            "type error at line 1, column 1: '*' cannot be applied to string and int",
        ),
        (
            'containerImage == "a" &&\n  imageLabels.exists(l, l > 1)',
            "type error at line 2, column 25: '>' cannot be applied to string and int",
        ),
        (
            'imageLabels["x"] == "a"',
            "type error at line 1, column 13: a list index must be an int, got string",
        ),
        (
            'gitCommitDetails["r"].branch == 1',
            "type error at line 1, column 1: '==' cannot be applied to string and int",
        ),
        (
            'gitCommitDetails[1].branch == "main"',
            "type error at line 1, column 18: a key of "
            "map(string, map(string, string)) must be string, got int",
        ),
        ("containerImage.size == 1", "type error at line 1, column 1: string has no field 'size'"),
        (
            "containerImage.startsWith(1)",
            "type error at line 1, column 27: startsWith() cannot take int (it takes string)",
        ),
        (
            "size(1) == 1",
            "type error at line 1, column 6: size() cannot take int (it takes bytes "
            "or list or map or string)",
        ),
        (
            "!containerImage",
            "type error at line 1, column 1: the operand of '!' must be a boolean, got string",
        ),
        ("1 == 1.0", "type error at line 1, column 1: '==' cannot be applied to int and double"),
        (
            '"a" in containerImage',
            "type error at line 1, column 1: 'in' cannot be applied to string and string",
        ),
        (
            "imageLabels.all(l, l)",
            "type error at line 1, column 20: "
            "the expression of all() must be a boolean, got string",
        ),
        (
            "containerImage.exists(c, true)",
            "type error at line 1, column 1: exists() needs a list or map, got string",
        ),
        ("size(imageLabels)", "condition must evaluate to a boolean, got int"),
        (
            # Mapping an empty literal gives an empty list, not a list of dyn (tests/fuzz).
            '0 in (imageLabels + [].map(y, y + "!"))',
            "type error at line 1, column 1: 'in' cannot be applied to int and list(string)",
        ),
    ],
)
def test_type_errors_are_refused_with_the_position(condition: str, message: str) -> None:
    assert cel.validate_condition(condition) == message


@pytest.mark.parametrize(
    "condition", ["imageLabels + 1 == []", 'size(imageLabels) > "a"', "1/0 == 1"]
)
def test_the_issue_examples_were_saved_and_blocked_every_image(condition: str) -> None:
    assert cel.validate_condition(condition) is not None
    assert not evaluate(condition, None).eligible  # what saving them used to lead to


@pytest.mark.parametrize(
    "condition",
    [
        'gitCommitDetails["https://github.com/x/y"].branch.startsWith("ma")',
        'gitCommitDetails.exists(r, r.startsWith("https://") && gitCommitDetails[r].author != "")',
        "imageLabels.map(l, size(l)).exists(n, n > 2)",
        "dyn(containerImage) == 1 || true",  # dyn: unknown, so allowed
        '[1, "a"][0] == 1 || true',  # a mixed list has dyn elements
        'containerImageTag == "" ? true : containerImageTag.startsWith("v")',
        "!has(gitCommitDetails.x)",
        "imageLabels.all(l, has(gitCommitDetails.x))",
        'timestamp("2024-01-01T00:00:00Z") + duration("1h") > timestamp("2024-01-01T00:00:00Z")',
        "double(size(imageLabels)) / 2.0 < 10.0",
        "1u + 2u == 3u",
        'b"ab" + b"c" == b"abc"',
        "type(containerImage) == string",
    ],
)
def test_well_typed_conditions_are_accepted_and_run(condition: str) -> None:
    assert cel.validate_condition(condition) is None
    result = evaluate(condition, None)
    assert result.pass_condition is not None and result.pass_condition.error is None, result


# --------------------------------------------------------------- run-time budgets


def test_a_string_doubling_chain_stops_at_the_size_budget() -> None:
    result = evaluate(doubling(30), None)  # 2^30 copies of the reference if unbounded
    assert result.reason == (
        f"pass condition error: {BUDGET}: a string or list would be longer than "
        f"{cel_limits.RUNTIME_BUDGET.value_size:,}"
    )


def test_a_list_doubling_chain_stops_at_the_size_budget() -> None:
    result = evaluate(doubling(30, "[imageLabels]"), None)
    assert result.reason is not None and f"{BUDGET}: a string or list" in result.reason


def test_a_nested_comprehension_bomb_stops_at_the_step_budget() -> None:
    result = evaluate(nested(6), None)  # 10^6 iterations, ~30 s unbounded
    assert result.reason == (
        f"pass condition error: {BUDGET}: more than {cel_limits.RUNTIME_BUDGET.steps:,} steps"
    )


def test_fail_condition_over_budget_blocks_the_image() -> None:
    result = evaluate("true", nested(6))
    assert not result.eligible
    assert result.reason is not None and result.reason.startswith(f"fail condition error: {BUDGET}")


def test_the_deadline_is_checked_inside_the_evaluation() -> None:
    env = cel.get_environment()
    program = env.program(env.compile(nested(2)))
    meter = cel_budget.Meter(cel_limits.RUNTIME_BUDGET, deadline=time.monotonic() - 1)
    with pytest.raises(cel_budget.BudgetExceeded, match="ran out of time"):
        cel_budget.run(program, celpy.json_to_cel(IMAGE), meter)


def test_the_memory_budget_counts_everything_built() -> None:
    meter = cel_budget.Meter(cel_limits.Budget(steps=10, value_size=10, allocated=25, seconds=1))
    meter.allocate(10)
    meter.allocate(10)
    with pytest.raises(cel_budget.BudgetExceeded, match="more than 25 string and list"):
        meter.allocate(10)


def test_list_repetition_is_no_overload_rather_than_a_huge_list() -> None:
    result = evaluate("size(imageLabels * 1000000000) > 0", None)
    assert result.reason == "pass condition error: no such overload"


# ------------------------------------------------------------- off the event loop


async def test_evaluate_many_runs_off_the_event_loop_in_one_batch() -> None:
    conditions = cel.compile_conditions(("test", uuid4()), nested(6), None)
    threads: set[str] = set()

    def record_thread() -> None:
        threads.add(threading.current_thread().name)

    task = asyncio.create_task(cel.evaluate_many([(conditions, IMAGE), (conditions, IMAGE)]))
    ticks = 0
    while not task.done():  # the loop keeps running while the batch evaluates
        await asyncio.sleep(0.01)
        ticks += 1
    verdicts = task.result()
    assert ticks >= 5
    assert [v.eligible for v in verdicts] == [False, False]
    assert all(v.reason and BUDGET in v.reason for v in verdicts)
    await cel.off_loop(record_thread)
    assert all(name.startswith("hoist-cel") for name in threads)


async def test_evaluate_many_without_conditions_needs_no_thread() -> None:
    empty = cel.compile_conditions(("test", uuid4()), None, "")
    assert [v.eligible for v in await cel.evaluate_many([(empty, IMAGE)] * 3)] == [True] * 3
    assert await cel.evaluate_many([]) == []


async def test_evaluate_many_keeps_the_order_of_the_jobs() -> None:
    yes = cel.compile_conditions(("test", uuid4()), 'containerImageTag == "1.4.2"', None)
    no = cel.compile_conditions(("test", uuid4()), 'containerImageTag == "0"', None)
    verdicts = await cel.evaluate_many([(yes, IMAGE), (no, IMAGE), (yes, IMAGE)])
    assert [v.eligible for v in verdicts] == [True, False, True]


def test_a_shared_deadline_stops_costly_evaluations_but_not_cheap_ones() -> None:
    """What a batch does once MAX_BATCH_SECONDS have passed: cheap conditions (no steps)
    still decide, costly ones stop with the budget reason."""
    past = time.monotonic() - 1
    costly = cel.compile_conditions(("test", uuid4()), nested(2), None)
    cheap = cel.compile_conditions(("test", uuid4()), 'containerImageTag == "1.4.2"', None)
    assert costly.evaluate(IMAGE, past).reason == (
        f"pass condition error: {BUDGET}: the evaluations of this request ran out of time"
    )
    assert cheap.evaluate(IMAGE, past).eligible

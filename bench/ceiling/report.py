"""The ceiling's tables: every row against the trivial Strawberry query, then issue 15's
goals beside what this run measured (Markdown, to paste into bench/README.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.ceiling.driver import Row, Step
from bench.ceiling.hoist import HoistRows
from bench.ceiling.openload import P95_BOUND, highest_rate
from bench.promotion.common import heading, percentile

# Issue 15's closed-loop load measurement (bench/load.py, 200 clients): 53 req/s.
CLOSED_LOOP_TODAY = 53.0


@dataclass
class Figures:
    raw: Row
    trivial: Row
    hoist: HoistRows
    auto: list[float]  # server promotedAt - createdAt, seconds
    dispatch: list[float]  # no-op Celery task, send -> start, seconds
    steps: list[Step]
    note: str  # how hoist serve ran


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def _row(row: Row, trivial: Row) -> str:
    cpu = row.per_call(row.server_cpu)
    ratio = cpu / row_cpu(trivial)
    hoist = row.round_trips is not None
    extra = (
        f"{_ms(row.per_call(row.worker_cpu))} | {_ms(row.per_call(row.postgres_cpu))} | "
        f"{row.per_call(row.round_trips or 0):.1f}"
        if hoist
        else " | | "
    )
    return (
        f"| {row.name} | {row.per_second:,.0f} | {_ms(cpu)} | {ratio:.2f} | {extra} | "
        f"{_ms(percentile(row.latencies, 50))} | {_ms(row.per_call(row.client_cpu))} |"
    )


def row_cpu(row: Row) -> float:
    return row.per_call(row.server_cpu)


def _goal(name: str, value: float | None, goal: float, at_most: bool, unit: str = "") -> str:
    if value is None:
        return f"| {name} | none | {'≤' if at_most else '≥'} {goal:g}{unit} | not met |"
    met = value <= goal if at_most else value >= goal
    return (
        f"| {name} | {value:.2f}{unit} | {'≤' if at_most else '≥'} {goal:g}{unit} | "
        f"{'met' if met else 'not met'} |"
    )


def print_report(f: Figures) -> None:
    h = f.hoist
    rows: Sequence[Row] = (
        f.raw,
        f.trivial,
        h.me,
        h.promote,
        h.approve,
        h.pending,
        h.deployable_small,
        h.deployable_large,
    )
    heading(f"the ceiling ({f.note}); CPU per call of the server process (user + system)")
    print(
        "| operation | req/s | server CPU per call | x a trivial Strawberry query | "
        "+ worker CPU | + Postgres CPU | round trips to Postgres | p50 | load generator CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(_row(row, f.trivial))

    trivial = row_cpu(f.trivial)
    growth = row_cpu(h.deployable_large) / row_cpu(h.deployable_small)
    auto, dispatch = percentile(f.auto, 50), percentile(f.dispatch, 50)
    print(
        f"\ndeployableImages: {h.history[1]:,} promotions / {h.history[0]:,}: "
        f"{growth:.2f}x server CPU per call"
    )
    print(
        f"auto-promotion: server promotedAt - createdAt p50 {_ms(auto)} ({len(f.auto)} "
        f"promotions) / no-op Celery dispatch p50 {_ms(dispatch)} ({len(f.dispatch)} tasks, "
        f"p95 {_ms(percentile(f.dispatch, 95))}) = {auto / dispatch:.1f}"
    )
    best = highest_rate(f.steps)
    print(
        "open loop: p95 per rate "
        + ", ".join(f"{s.rate:g}/s {_ms(s.p95)}" for s in f.steps)
        + f"; highest rate with p95 < {P95_BOUND * 1000:.0f} ms and no error: "
        + (f"{best:g}/s" if best is not None else "none")
    )

    heading("issue 15's goals")
    print("| figure | this run | goal | |")
    print("|---|---:|---:|---|")
    for name, row, goal in (
        ("`me` CPU x trivial", h.me, 1.3),
        ("`promoteImage` CPU x trivial", h.promote, 5),
        ("`approvePromotionRequests` CPU x trivial", h.approve, 4),
        ("`pendingApprovals(first: 20)` full row, CPU x trivial", h.pending, 6),
        (f"`deployableImages` CPU x trivial, at {h.history[1]:,}", h.deployable_large, 8),
    ):
        print(_goal(name, row_cpu(row) / trivial, goal, at_most=True))
    print(
        _goal(
            f"`deployableImages` at {h.history[1]:,} promotions / at {h.history[0]:,}",
            growth,
            1.5,
            at_most=True,
        )
    )
    promote_trips = h.promote.per_call(h.promote.round_trips or 0)
    print(_goal("round trips per promote", promote_trips, 14, True))
    print(
        _goal(
            "round trips per `pendingApprovals` page",
            h.pending.per_call(h.pending.round_trips or 0),
            10,
            True,
        )
    )
    print(_goal("auto-promotion / no-op Celery dispatch (p50)", auto / dispatch, 2, True))
    print(
        _goal(
            f"open loop, highest rate with p95 < 250 ms ({f.note})",
            best,
            3 * CLOSED_LOOP_TODAY,
            at_most=False,
            unit="/s",
        )
    )

"""Benchmark: how close is Hoist to the machine's limit? (issue 15)

Run from the project root:
``.venv/bin/python -m bench.ceiling [--smoke|--quick] [--workers N] [--keep-logs]``.

In one run, with one load generator (an httpx client per connection, 4 keep-alive
connections, closed loop), it measures side by side:

1. a raw Starlette JSON endpoint under uvicorn (its own process);
2. a trivial Strawberry schema, ``{ __typename }``, through strawberry.asgi.GraphQL on
   the same stack (its own process);
3. Hoist on the test kit's stack (tests/support/stack.py: a scratch Postgres database, a
   private Redis, ``hoist serve``, ``hoist worker``), with ``hoist serve`` talking to
   Postgres through a proxy that counts round trips: ``{ me { id } }``, promoteImage,
   pendingApprovals(first: 20) with the dashboard row, approvePromotionRequests, and
   deployableImages(first: 20) at a small and a large history of promotions;

and prints, per row, req/s and the server process's CPU per call (user + system, from
/proc, its child processes included) against the trivial Strawberry query's. Then:
round trips to Postgres per call; auto-promotion's server ``promotedAt - createdAt``
against a no-op Celery task's dispatch on the same Redis; and an open-loop mixed load
stepped up in rate until its p95 reaches 250 ms.

It prints figures and asserts nothing about time. ``--smoke`` runs everything at toy
sizes in well under a minute (tests/bench/test_bench_smoke.py runs it).
"""

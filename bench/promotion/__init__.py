"""Benchmark: promotions end to end, over HTTP, against a real server, Postgres and Redis.

Run from the project root:
``.venv/bin/python -m bench.promotion [--smoke|--quick] [--explain] [--only PART]``.

It starts everything it measures with the test suite's kit (tests/support/stack.py) and
removes it all at the end, even on error or Ctrl-C:
a Postgres database of its own (``hoist_bench_<pid>`` on 127.0.0.1:5432), a private
``redis-server`` on a free port, ``hoist serve`` (with ``HOIST_BROKER_URL``, so jobs go to
Celery) and ``hoist worker``. Then:

1. set-up through GraphQL: an admin from ``hoist admin bootstrap``, users with tokens,
   applications, environments, workflows, policies;
2. throughput of promoteImage and approvePromotionRequests with a few concurrent clients,
   against the trivial query ``{ me { id } }`` on the same server;
3. pendingApprovals latency with 10,000 and 100,000 AWAITING_APPROVAL requests bulk-loaded
   straight into Postgres (with as many closed ones as history);
4. auto-promotion latency: promoteImage answered -> the worker made the request PROMOTED.

It prints figures and asserts nothing about time. ``--quick`` shrinks every size so the
whole run takes about a minute; ``--smoke`` runs one round at toy sizes, in seconds, to
check that the script still works (tests/bench/test_bench_smoke.py). ``--explain`` also
prints EXPLAIN ANALYZE of the SQL behind pendingApprovals, rebuilt with the app's own
query code.
"""

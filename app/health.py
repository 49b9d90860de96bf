"""Health endpoints: /healthz (liveness) and /readyz (readiness), for orchestrators and
uptime checkers.

Liveness says the process answers HTTP, and nothing more: restarting the API because the
database is down would not bring the database back. Readiness says this instance can
serve requests now, so a load balancer stops sending it traffic while its database is
unreachable (and resumes when it is back).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise import connections

from app import live
from app.outbox.service import dead_job_count

log = logging.getLogger("hoist.health")

# A probe must answer, never hang on a database that stopped answering; long enough that a
# busy but healthy Postgres is not taken for a dead one.
DATABASE_CHECK_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    """The process is up and its event loop answers; with it, how many worker jobs gave up
    (DEAD: a super-admin looks at `outboxJobs` and retries them), and this process's live
    subscriptions (how many; whether Redis feeds them, when it is the broker). The count
    never makes the answer fail: null when the database does not answer in time."""
    return JSONResponse({"status": "ok", "deadJobs": await dead_jobs(), "live": live.HUB.status()})


async def dead_jobs() -> int | None:
    try:
        return await asyncio.wait_for(dead_job_count(), timeout=DATABASE_CHECK_SECONDS)
    except Exception as exc:  # TimeoutError included: liveness must not hang on it
        log.warning("healthz: could not count dead jobs: %s: %s", type(exc).__name__, exc)
        return None


async def database_reachable() -> str | None:
    """None when a trivial query works; otherwise why not, in a few words."""
    try:
        await asyncio.wait_for(
            connections.get("default").execute_query("SELECT 1"), timeout=DATABASE_CHECK_SECONDS
        )
    except TimeoutError:
        return f"no answer within {DATABASE_CHECK_SECONDS} s"
    except Exception as exc:  # any failure means "not ready"; logged, not shown
        log.warning("readiness: the database is unreachable: %s: %s", type(exc).__name__, exc)
        return "unreachable"
    return None


async def readyz(request: Request) -> Response:
    """200 when this instance can serve requests (its database answers), else 503."""
    problem = await database_reachable()
    if problem is not None:
        return JSONResponse({"status": "unavailable", "database": problem}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def health_routes() -> list[BaseRoute]:
    """The health endpoints, for create_app()."""
    return [Route("/healthz", healthz), Route("/readyz", readyz)]

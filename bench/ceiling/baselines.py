"""The two reference servers: a raw Starlette JSON endpoint, and a trivial Strawberry
schema (`{ __typename }`) through strawberry.asgi.GraphQL, each on the stack `hoist
serve` runs (Starlette under uvicorn, same uvicorn options), in a process of its own:
``python -m bench.ceiling.baselines raw|strawberry --port N``.

Both answer POST /graphql (so the one load generator posts the same request to every
row) and GET /healthz (to know they are up).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from tests.support.live_server import _stop, _wait_until_ready
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("raw", "strawberry")
TRIVIAL = "{ __typename }"


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def raw_json(request: Request) -> JSONResponse:
    """Reads the JSON body and answers JSON: the HTTP and JSON work of any GraphQL call."""
    body = await request.json()
    return JSONResponse({"data": {"query": len(body.get("query", ""))}})


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


def create_app(kind: str) -> Starlette:
    graphql = (
        Route("/graphql", raw_json, methods=["POST"])
        if kind == "raw"
        else Route("/graphql", GraphQL(strawberry.Schema(query=Query)))
    )
    return Starlette(routes=[graphql, Route("/healthz", healthz)])


def serve(kind: str, port: int) -> None:
    import uvicorn

    from app.settings import Settings

    # The options `hoist serve` passes to uvicorn.run (app/cli/server.py).
    uvicorn.run(
        create_app(kind),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_keep_alive=Settings.model_fields["keep_alive_seconds"].default,
    )


@contextlib.contextmanager
def running_baseline(kind: str, workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The reference server `kind` on a free port: (its URL, its process); stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"{kind}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.ceiling.baselines", kind, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    # The kit's wait and stop for a server process (its own session, as `hoist serve`).
    try:
        _wait_until_ready(process, url, log)
        yield url, process
    finally:
        _stop(process)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A reference server for bench/ceiling.")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.kind, args.port)

"""API token secrets are shown once and then found nowhere: not in logs, the database or
the audit log (SPEC §2: "shown once at creation, stored only as a hash").

Decided: the secret must never appear in any log record at any level, any table, any
audit event or any answer but the one that creates it. Its SHA-256 hash is no credential
(a token is checked by hashing what the client sends, so the hash cannot be replayed)
and the SQL DEBUG logs (Tortoise's, aiosqlite's) print query parameters, so the hash may
appear there, in DEBUG records of those loggers only; never at INFO or above, never in
the audit log, and in no table but `api_tokens`.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import httpx
import pytest

from app.accounts import tokens
from app.accounts.service import bootstrap_super_admin
from app.cli.policies import POLICY_FIELDS
from app.db import unit_of_work
from tests.security.world import snapshot
from tests.support.catalog import refused
from tests.support.graphql import GraphQLClient
from tests.support.live_server import HOIST, _stop, _wait_until_ready, server_env
from tests.support.services import free_port

# Every logger that sees requests, SQL or tokens on their way: Hoist's, the ORM's and its
# drivers', the HTTP stack's, GraphQL's.
LOGGERS = [
    "",
    "hoist",
    "tortoise",
    "tortoise.db_client",
    "asyncpg",
    "aiosqlite",
    "httpx",
    "httpcore",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "strawberry",
    "graphql",
    "starlette",
    "celery",
    "asyncio",
]
# Loggers of SQL and its parameters: the ORM's, and aiosqlite's (each call it forwards).
SQL_LOGGERS = {"tortoise.db_client", "aiosqlite"}

CREATE_TOKEN = """mutation($name: String!, $email: String) {
  createApiToken(name: $name, email: $email) {
    apiToken { id } token errors { code message field } } }"""
ME = "{ me { email } }"


def everything_in(record: logging.LogRecord) -> str:
    """A record as any handler could write it: message, arguments, traceback, extras."""
    formatted = logging.Formatter("%(name)s %(message)s").format(record)
    return f"{formatted} {record.args!r} {record.__dict__!r}"


async def new_token(
    gql: GraphQLClient, token: str, name: str, email: str | None = None
) -> tuple[str, str]:
    data = await gql(CREATE_TOKEN, {"name": name, "email": email}, token=token)
    payload = data["createApiToken"]
    assert payload["errors"] == [] and payload["token"], payload
    return payload["apiToken"]["id"], payload["token"]


async def test_token_secrets_are_never_logged_or_stored(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)

    # The first super-admin, as `hoist admin bootstrap` makes it: straight in the database.
    async with unit_of_work():
        _, root = await bootstrap_super_admin("root@example.com", "Root")
    created = await gql(
        'mutation { createUser(input: {email: "dev@example.com", name: "Dev"})'
        " { errors { message } } }",
        token=root,
    )
    assert created["createUser"]["errors"] == []
    own_id, own = await new_token(gql, root, "ci")
    _, dev = await new_token(gql, root, "for-dev", "dev@example.com")
    secrets = [root, own, dev]

    # Requests carrying them, in the header's every accepted spelling.
    for secret, header in (
        (own, f"Bearer {own}"),
        (dev, f"bearer   {dev}  "),
        (root, f"BEARER {root}"),
    ):
        response = await gql.http.post(
            "/graphql", json={"query": ME}, headers={"Authorization": header}
        )
        assert response.json()["data"]["me"]["email"], (secret, response.text)
    # What the CLI sends: `hoist get policies`, JSON body and Bearer header, as httpx does.
    response = await gql.http.post(
        "/graphql",
        json={"query": f"{{ promotionPolicies {{ {POLICY_FIELDS} }} }}", "variables": {}},
        headers={"Authorization": f"Bearer {own}", "User-Agent": "python-httpx/0.28.1"},
    )
    assert response.json() == {"data": {"promotionPolicies": []}}
    # Refused ones: unknown, revoked, and a secret sent where a name goes.
    bad = tokens.new_secret()
    secrets.append(bad)
    assert await gql.error_code(ME, token=bad) == "UNAUTHENTICATED"
    revoked = await gql(f'mutation {{ revokeApiToken(id: "{own_id}") {{ deleted }} }}', token=root)
    assert revoked == {"revokeApiToken": {"deleted": True}}
    assert await gql.error_code(ME, token=own) == "UNAUTHENTICATED"
    assert await gql.error_code(ME, token=f"{dev}x") == "UNAUTHENTICATED"
    body = await gql.raw(CREATE_TOKEN, {"name": "x", "email": "root@example.com"}, token=dev)
    assert refused(body, "createApiToken") == "FORBIDDEN"

    hashes = [tokens.hash_secret(s) for s in secrets]
    records = caplog.records
    sql = [r for r in records if r.name in SQL_LOGGERS]
    # The control: the ORM's SQL log was captured, auth queries and their parameters too.
    assert any(hashes[0] in everything_in(r) for r in sql), "the SQL DEBUG log was not seen"
    for record in records:
        text = everything_in(record)
        for secret in secrets:
            assert secret not in text, f"a token secret was logged by {record.name}"
        if record.name not in SQL_LOGGERS or record.levelno >= logging.INFO:
            for hashed in hashes:
                assert hashed not in text, f"a token hash was logged by {record.name}"

    # Stored: the hash in api_tokens only, the secret nowhere; the audit log has neither.
    rows = await snapshot()
    for table, values in rows.items():
        text = "\n".join(values)
        assert not any(secret in text for secret in secrets), table
        if table != "api_tokens":
            assert not any(hashed in text for hashed in hashes), table
    assert sum(hashes[0] in row for row in rows["api_tokens"]) == 1
    audit = await gql(
        "{ auditLog(first: 100) { totalCount edges { node { action data } } } }", token=root
    )
    actions = {e["node"]["action"] for e in audit["auditLog"]["edges"]}
    assert {"token.created", "token.revoked", "user.created"} <= actions
    text = json.dumps(audit)
    assert not any(s in text for s in secrets + hashes)


def test_a_real_server_and_cli_log_no_token(tmp_path: Path) -> None:
    """`hoist admin bootstrap`, `hoist serve` at DEBUG (uvicorn, SQL, everything) and the
    `hoist` client: the secret shows only where it is handed out."""
    env = {**server_env(tmp_path), "HOIST_LOG_LEVEL": "DEBUG"}
    boot = subprocess.run(
        [str(HOIST), "admin", "bootstrap", "--email", "root@example.com"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert boot.returncode == 0, boot.stderr
    root = boot.stdout.strip().splitlines()[-1]
    assert root.startswith(tokens.PREFIX) and boot.stdout.count(root) == 1
    assert root not in boot.stderr

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(HOIST), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    outputs = [boot.stderr]
    try:
        _wait_until_ready(server, url, log)
        answer = httpx.post(
            f"{url}/graphql",
            json={"query": CREATE_TOKEN, "variables": {"name": "cli"}},
            headers={"Authorization": f"Bearer {root}"},
        ).json()
        cli = answer["data"]["createApiToken"]["token"]
        bad = tokens.new_secret()
        for token, status in ((cli, 0), (bad, 3)):
            run = subprocess.run(
                [str(HOIST), "get", "policies"],
                env={**env, "HOIST_URL": url, "HOIST_TOKEN": token},
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert run.returncode == status, run.stderr
            outputs += [run.stdout, run.stderr]
        run = subprocess.run(
            [str(HOIST), "get", "policies", "--url", url, "--token", root],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        outputs += [run.stdout, run.stderr]
    finally:
        _stop(server)
    logged = log.read_text()
    # The control: this log is at DEBUG, with the SQL of the token checks in it.
    assert "api_tokens" in logged and "POST /graphql" in logged, logged[-2000:]
    for secret in (root, cli, bad):
        assert secret not in logged
        assert not any(secret in output for output in outputs)

"""The log formats and their redaction, record by record (the real server's lines are
tests/observability/test_json_logs.py's)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from app.accounts.tokens import new_secret
from app.notifications.providers import OutgoingEmail, make_provider
from app.observability import logs
from app.observability.redaction import scrub
from app.outbox.service import run_job
from app.settings import Settings
from tests.outbox.test_outbox_dead_jobs import write_poison

TOKEN = new_secret()


def _settings(log_format: str, **values: Any) -> Settings:
    return Settings(_env_file=None, log_format=log_format, **values)  # type: ignore[call-arg]


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What Hoist's handler writes, for one test (the handler and level put back after)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = before
    root.setLevel(level)
    logging.captureWarnings(False)


def _configured(output: io.StringIO, log_format: str) -> None:
    logs.configure(_settings(log_format))
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, logs._HoistHandler)]
    handler.setStream(output)


def test_json_lines_have_the_scope_fields_and_scrubbed_secrets(output: io.StringIO) -> None:
    _configured(output, "json")
    log = logging.getLogger("hoist.test")
    with logs.scope(request_id="r-1"):
        logs.bind(operation="PromoteToProd", user_id=7)
        log.info(
            "got Authorization: Bearer %s for /email/approve/%s?sig=abc.def&x=1 from %s",
            TOKEN,
            "eyJhbGciOi.ZXhh.bXBsZQ",
            "postgres://hoist:hunter2@db:5432/hoist",
            extra={"password": "hunter2", "smtp_password": "hunter2", "attempt": 2},
        )
        try:
            raise ValueError(f"refused {TOKEN}")
        except ValueError:
            log.exception("it failed")
    log.warning("outside")
    first, failed, outside = (json.loads(line) for line in output.getvalue().splitlines())
    assert first["message"] == (
        "got Authorization: Bearer <token> for /email/approve/<token>?sig=<redacted>&x=1 "
        "from postgres://hoist:***@db:5432/hoist"
    )
    assert (first["level"], first["logger"]) == ("INFO", "hoist.test")
    assert (first["request_id"], first["operation"], first["user_id"]) == (
        "r-1",
        "PromoteToProd",
        7,
    )
    assert (first["trace_id"], first["span_id"]) == (None, None)  # tracing is off
    assert (first["password"], first["smtp_password"], first["attempt"]) == (
        "<redacted>",
        "<redacted>",
        2,
    )
    assert "timestamp" in first
    assert TOKEN not in output.getvalue() and "hunter2" not in output.getvalue()
    assert "ValueError: refused <token>" in failed["exc_info"]
    assert outside["request_id"] is None and outside["operation"] is None


async def test_a_job_runs_lines_name_the_job(output: io.StringIO, db: str) -> None:
    """A job run's lines (its failure's, here): no request, the job's task and id."""
    job = await write_poison()
    _configured(output, "json")
    assert await run_job(job.id) is False
    [line] = [json.loads(t) for t in output.getvalue().splitlines() if "failed (attempt" in t]
    assert (line["job"], line["job_id"], line["request_id"]) == (job.task, job.id, None)
    assert line["level"] == "WARNING" and "exc_info" in line


def test_the_text_format_is_redacted_too(output: io.StringIO) -> None:
    _configured(output, "text")
    logging.getLogger("hoist.test").warning("header: bearer %s", TOKEN)
    assert output.getvalue().rstrip().endswith("WARNING hoist.test: header: bearer <token>")


async def test_the_console_backend_logs_no_body_in_json(output: io.StringIO) -> None:
    email = OutgoingEmail(1, "hoist@localhost", "a@example.com", "Approve?", "BODY TEXT", "<p>")
    for log_format in ("text", "json"):
        _configured(output, log_format)
        await make_provider(_settings(log_format)).send(email)
    text, json_line = output.getvalue().split("\n{", 1)
    # Text: the whole email, for trying Hoist out (its links must work there).
    assert "BODY TEXT" in text and "Subject: Approve?" in text
    sent = json.loads("{" + json_line)
    assert "Subject: Approve?" in sent["message"] and "BODY TEXT" not in json_line


def test_scrubbed_json_stays_json() -> None:
    line = json.dumps({"message": f'say "Bearer {TOKEN}" and token={TOKEN}\\n', "k": "v"})
    assert json.loads(scrub(line)) == {
        "message": 'say "Bearer <token>" and token=<token>\\n',
        "k": "v",
    }

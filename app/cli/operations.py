"""A super-admin's operations commands: worker jobs that gave up, and emails.

`hoist get jobs [--state DEAD]`, `hoist retry job ID`, `hoist get notifications
[--state FAILED]`, `hoist resend notifications ID...`. API clients like the other client
commands: GraphQL over HTTP with the caller's token, so the server's rules (super-admins
only, what may be retried or resent) apply, written once, in the services.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from app.cli.api import (
    USER_ERRORS,
    Api,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    one_line,
    rows_or_none,
    show,
)
from app.cli.verbs import get

retry = typer.Typer(help="Run again what gave up.", no_args_is_help=True)
resend = typer.Typer(help="Send again what was not delivered.", no_args_is_help=True)


class JobState(StrEnum):
    DEAD = "DEAD"
    PENDING = "PENDING"
    DONE = "DONE"


class EmailState(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


JOB_FIELDS = "id task state attempts lastError createdAt retryAt deadAt doneAt"
EMAIL_FIELDS = (
    "id event recipient subject state attempts unreachableTries error createdAt "
    "sentAt nextAttemptAt"
)
PAGE_INFO = "pageInfo { hasNextPage endCursor }"


@get.command("jobs")
def get_jobs(
    state: Annotated[JobState, typer.Option("--state", help="Which jobs.")] = JobState.DEAD,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Worker jobs, DEAD ones by default, newest first (super-admins)."""
    jobs = Api(url, token).pages(
        f"""query Jobs($state: OutboxJobState, $first: Int, $after: String) {{
              outboxJobs(state: $state, first: $first, after: $after) {{
                edges {{ node {{ {JOB_FIELDS} }} }} {PAGE_INFO} }} }}""",
        {"state": state.value},
        ["outboxJobs"],
    )
    emit(
        output,
        jobs,
        lambda: rows_or_none(
            ["ID", "TASK", "STATE", "ATTEMPTS", "LAST ERROR"],
            [
                [j["id"], j["task"], j["state"], str(j["attempts"]), one_line(j["lastError"], 60)]
                for j in jobs
            ],
            f"no {state.value} jobs",
        ),
    )


@retry.command("job")
def retry_job(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The DEAD job's id.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Run a DEAD job again with a fresh set of attempts (super-admins)."""
    job = Api(url, token).mutate(
        f"""mutation Retry($id: ID!) {{
              retryOutboxJob(id: $id) {{ job {{ {JOB_FIELDS} }} {USER_ERRORS} }} }}""",
        {"id": job_id},
        "retryOutboxJob",
    )["job"]
    emit(output, job, lambda: f"job {job['id']} ({job['task']}) is {job['state']} again")


@get.command("notifications")
def get_notifications(
    state: Annotated[EmailState | None, typer.Option("--state", help="Only these.")] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """The emails Hoist sends, newest first (super-admins)."""
    emails = Api(url, token).pages(
        f"""query Emails($state: NotificationState, $first: Int, $after: String) {{
              notifications(state: $state, first: $first, after: $after) {{
                edges {{ node {{ {EMAIL_FIELDS} }} }} {PAGE_INFO} }} }}""",
        {"state": state.value if state else None},
        ["notifications"],
    )
    emit(
        output,
        emails,
        lambda: rows_or_none(
            ["ID", "STATE", "EVENT", "RECIPIENT", "ATTEMPTS", "ERROR"],
            [
                [
                    e["id"],
                    e["state"],
                    e["event"],
                    e["recipient"],
                    show(e["attempts"]),
                    one_line(e["error"], 50),
                ]
                for e in emails
            ],
            "no emails" if state is None else f"no {state.value} emails",
        ),
    )


@resend.command("notifications")
def resend_notifications(
    ids: Annotated[
        list[str], typer.Argument(metavar="ID...", help="FAILED or UNKNOWN emails, at most 100.")
    ],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Send FAILED or UNKNOWN emails again, all or none (an UNKNOWN one may arrive twice)."""
    emails = Api(url, token).mutate(
        f"""mutation Resend($ids: [ID!]!) {{
              resendNotifications(ids: $ids) {{ notifications {{ {EMAIL_FIELDS} }}
                {USER_ERRORS} }} }}""",
        {"ids": ids},
        "resendNotifications",
    )["notifications"]
    emit(
        output,
        emails,
        lambda: "\n".join(
            f"email {e['id']} to {e['recipient']} is {e['state']} again" for e in emails
        ),
    )


def register(cli: typer.Typer) -> None:
    cli.add_typer(retry, name="retry")
    cli.add_typer(resend, name="resend")

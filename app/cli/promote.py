"""The daily verbs of promotion: `hoist promote`, `hoist approve`, `hoist reject`,
`hoist cancel`, `hoist get requests`, `hoist get attestation`.

Promoting and deciding answer one outcome per target or request: each is printed (a
refused one on stderr), and the command exits 1 when any was refused, after the others
were done, as the API does them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from app.cli.api import (
    EXIT_REFUSED,
    EXIT_USAGE,
    USER_ERRORS,
    Api,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    fail,
    parse_int,
    parse_list,
    rows_or_none,
)
from app.cli.verbs import get, wait

REQUEST_FIELDS = """id status comment createdAt promotedAt policyVersion staleReason
  requiredApprovals canApprove cannotApproveReason
  image { id image } application { name } targetEnvironment { name }
  source { type environment } requestedBy { email } policy { name }
  approvals { at comment user { email } } rejection { at comment user { email } }"""

PROMOTED = ("PROMOTING", "AWAITING_APPROVAL", "QUEUED")
DECIDED = ("APPROVED", "PROMOTING", "QUEUED", "REJECTED")

ImageOption = Annotated[str, typer.Option("--image", help="The image's id.")]
RequestIds = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="REQUEST_ID...", help="Promotion request ids (hoist get requests --pending)."
    ),
]


def source_input(source: str) -> dict[str, Any]:
    """`CI` (the image as built) or the name of an environment it passed all stages of."""
    if source.upper() == "CI":
        return {"type": "CI"}
    return {"type": "ENVIRONMENT", "environment": source}


def source_text(source: dict[str, Any]) -> str:
    return source["environment"] if source["type"] == "ENVIRONMENT" else "CI"


def report(
    results: list[dict[str, Any]],
    ok: tuple[str, ...],
    label: Callable[[dict[str, Any]], str],
    output: Output,
    *,
    name_request: bool = False,
) -> None:
    """Print every outcome; refused ones on stderr; exit 1 when any was refused."""
    refused = [r for r in results if r["outcome"] not in ok]
    if output is Output.json:
        emit(output, results, str)
    else:
        done = [r["request"] for r in results if r["outcome"] in ok and r.get("request")]
        emit(
            output,
            done,
            lambda: "\n".join(
                f"{label(r)}: {r['outcome']}"
                + (f" (request {r['request']['id']})" if name_request and r.get("request") else "")
                + (f": {r['message']}" if r["message"] else "")
                for r in results
                if r["outcome"] in ok
            ),
        )
    for r in refused:
        typer.echo(f"error: {label(r)}: {r['message']} [{r['outcome']}]", err=True)
    if refused:
        raise typer.Exit(EXIT_REFUSED)


def promote(
    image_id: ImageOption,
    targets: Annotated[
        list[str],
        typer.Option("--to", help="Target environment; repeat, or separate with commas, for more."),
    ],
    source: Annotated[
        str, typer.Option("--source", help="CI (the image as built) or an environment it passed.")
    ] = "CI",
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    break_glass: Annotated[
        str | None,
        typer.Option(
            "--breakGlass",
            metavar="REASON",
            help="Go through a closed promotion window, saying why; needs the policy's "
            "breakGlassApproverCount approvals on top.",
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Promote an image to target environments, skipping the stages between.

    Needs BUILD_DEPLOY on each target. One outcome per target, with the request id that
    approvers approve.
    """
    environments = parse_list(targets)
    if not environments:
        fail("name at least one target with --to", EXIT_USAGE)
    results = Api(url, token).mutate(
        f"""mutation Promote($imageId: ID!, $source: ImageSourceInput!, $targets: [String!]!,
                             $comment: String, $breakGlass: BreakGlassInput) {{
              promoteImage(imageId: $imageId, source: $source, targetEnvironments: $targets,
                           comment: $comment, breakGlass: $breakGlass) {{
                results {{ environment outcome message request {{ {REQUEST_FIELDS} }} }}
                {USER_ERRORS} }} }}""",
        {
            "imageId": image_id,
            "source": source_input(source),
            "targets": environments,
            "comment": comment,
            "breakGlass": {"reason": break_glass} if break_glass is not None else None,
        },
        "promoteImage",
    )["results"]
    report(results, PROMOTED, lambda r: r["environment"], output, name_request=True)


def approve(
    request_ids: RequestIds = None,
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    image_id: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Instead of requests: give this image an Image Deployment Approval "
            "(DEPLOYMENT_APPROVER), with --application and --environment.",
        ),
    ] = None,
    application: Annotated[str | None, typer.Option("--application")] = None,
    environment: Annotated[str | None, typer.Option("--environment")] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Approve promotion requests, or with --image an image for deployment.

    Requests need ARTIFACT_PROMOTER on their target, one outcome each. With --image,
    --application and --environment: an Image Deployment Approval (DEPLOYMENT_APPROVER).
    """
    api = Api(url, token)
    if image_id is not None:
        if request_ids or application is None or environment is None:
            fail(
                "--image approves a deployment: give --application and --environment, and "
                "no request ids",
                EXIT_USAGE,
            )
        api.mutate(
            f"""mutation ApproveDeployment($application: String!, $environment: String!,
                                           $imageId: ID!) {{
                  approveDeployment(application: $application, environment: $environment,
                                    imageId: $imageId) {{ approved {USER_ERRORS} }} }}""",
            {"application": application, "environment": environment, "imageId": image_id},
            "approveDeployment",
        )
        emit(
            output,
            {
                "approved": True,
                "imageId": image_id,
                "application": application,
                "environment": environment,
            },
            lambda: f"approved image {image_id} for deployment to {application}/{environment}",
        )
        return
    if not request_ids:
        fail("give the ids of the requests to approve (or --image for a deployment)", EXIT_USAGE)
    decide(api, "approvePromotionRequests", "comment", comment, request_ids, output)


def decide(
    api: Api, mutation: str, note: str, text: str | None, request_ids: list[str], output: Output
) -> None:
    kind = "String!" if note == "reason" else "String"
    results = api.mutate(
        f"""mutation Decide($ids: [ID!]!, $note: {kind}) {{
              {mutation}(requestIds: $ids, {note}: $note) {{
                results {{ requestId outcome message request {{ {REQUEST_FIELDS} }} }}
                {USER_ERRORS} }} }}""",
        {"ids": parse_list(request_ids), "note": text},
        mutation,
    )["results"]
    report(results, DECIDED, lambda r: f"request {r['requestId']}", output)


def reject(
    request_ids: RequestIds = None,
    reason: Annotated[str, typer.Option("--reason", help="Why; the requester is emailed it.")] = "",
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Reject promotion requests with a reason (ARTIFACT_PROMOTER), one outcome each."""
    if not request_ids:
        fail("give the ids of the requests to reject", EXIT_USAGE)
    if not reason.strip():
        fail("--reason is required", EXIT_USAGE)
    decide(Api(url, token), "rejectPromotionRequests", "reason", reason, request_ids, output)


def cancel(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Withdraw a request awaiting approval (its requester, or a super-admin)."""
    request = Api(url, token).mutate(
        f"""mutation Cancel($id: ID!) {{
              cancelPromotionRequest(requestId: $id) {{ request {{ {REQUEST_FIELDS} }}
                {USER_ERRORS} }} }}""",
        {"id": request_id},
        "cancelPromotionRequest",
    )["request"]
    emit(output, request, lambda: f"request {request['id']}: {request['status']}")


STATUSES = (
    "AWAITING_APPROVAL",
    "QUEUED",
    "PROMOTING",
    "PROMOTED",
    "CANCELLED",
    "REJECTED",
    "STALE",
    "EXPIRED",
)


@get.command("requests")
def get_requests(
    pending: Annotated[
        bool,
        typer.Option(
            "--pending", help="Only requests awaiting approval that you could approve now."
        ),
    ] = False,
    everyone: Annotated[
        bool, typer.Option("--all", help="With --pending: awaiting approval, whoever may approve.")
    ] = False,
    application: Annotated[str | None, typer.Option("--application")] = None,
    environment: Annotated[
        str | None, typer.Option("--environment", help="Target environment (with --pending).")
    ] = None,
    statuses: Annotated[
        list[str] | None,
        typer.Option(
            "--status", help="Without --pending: only these states; repeat or separate with commas."
        ),
    ] = None,
    first: Annotated[
        str, typer.Option("--first", metavar="1-100", help="How many, newest first (default 20).")
    ] = "20",
    after: Annotated[
        str | None,
        typer.Option("--after", help="The cursor a previous page printed, for the next page."),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List promotion requests, newest first; --pending: those awaiting your approval."""
    variables: dict[str, Any] = {
        "first": parse_int("--first", first),
        "after": after,
        "application": application,
    }
    if pending:
        if statuses:
            fail("--status lists all requests; --pending only those awaiting approval", EXIT_USAGE)
        field = "pendingApprovals"
        query = f"""query Pending($application: String, $environment: String, $mine: Boolean,
                                  $first: Int, $after: String) {{
              pendingApprovals(application: $application, targetEnvironment: $environment,
                               pendingWithMe: $mine, first: $first, after: $after) {{
                edges {{ node {{ {REQUEST_FIELDS} }} }}
                pageInfo {{ hasNextPage endCursor }} }} }}"""
        variables.update(environment=environment, mine=not everyone)
    else:
        if environment or everyone:
            fail("--environment and --all go with --pending", EXIT_USAGE)
        field = "promotionRequests"
        wanted = [s.upper() for s in parse_list(statuses)]
        if bad := [s for s in wanted if s not in STATUSES]:
            fail(f"--status must be one of {', '.join(STATUSES)} (got {bad[0]!r})", EXIT_USAGE)
        query = f"""query Requests($application: String, $status: [PromotionStatus!],
                                   $first: Int, $after: String) {{
              promotionRequests(application: $application, status: $status, first: $first,
                                after: $after) {{
                edges {{ node {{ {REQUEST_FIELDS} }} }}
                pageInfo {{ hasNextPage endCursor }} }} }}"""
        variables["status"] = wanted or None
    page = Api(url, token).call(query, variables)[field]
    requests = [edge["node"] for edge in page["edges"]]
    emit(
        output,
        requests,
        lambda: rows_or_none(
            ["ID", "STATUS", "APPLICATION", "IMAGE", "SOURCE", "TARGET", "APPROVALS", "REQUESTER"],
            [
                [
                    r["id"],
                    r["status"],
                    r["application"]["name"],
                    f"{r['image']['id']}:{r['image']['image']}",
                    source_text(r["source"]),
                    r["targetEnvironment"]["name"],
                    f"{len(r['approvals'])}/{r['requiredApprovals']}",
                    r["requestedBy"]["email"],
                ]
                for r in requests
            ],
            "no requests",
        ),
    )
    if page["pageInfo"]["hasNextPage"] and output is Output.text:
        typer.echo(f"(more: --after={page['pageInfo']['endCursor']})")


FINAL = ("PROMOTED", "CANCELLED", "REJECTED", "STALE")
POLL_SECONDS = 0.2


@wait.command("request")
def wait_request(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID")],
    status: Annotated[
        str, typer.Option("--for", help="The state to wait for (default PROMOTED).")
    ] = "PROMOTED",
    timeout: Annotated[
        str,
        typer.Option("--timeout", metavar="SECONDS", help="Give up after this long (default 60)."),
    ] = "60",
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Wait until a request reaches a state, as `kubectl wait` does: workers promote
    approved requests after the approval answered, so scripts wait for them here.

    Exits 0 when it is in that state, 1 when it reached another final state or the
    timeout passed first.
    """
    wanted = status.upper()
    if wanted not in STATUSES:
        fail(f"--for must be one of {', '.join(STATUSES)} (got {status!r})", EXIT_USAGE)
    seconds = parse_int("--timeout", timeout) or 0
    if not 1 <= seconds <= 3600:
        fail(f"--timeout must be 1-3600 seconds (got {timeout})", EXIT_USAGE)
    api = Api(url, token)
    deadline = time.monotonic() + seconds
    while True:
        request = api.call(
            f"""query Request($id: ID!) {{ promotionRequest(id: $id) {{ {REQUEST_FIELDS} }} }}""",
            {"id": request_id},
        )["promotionRequest"]
        if request is None:
            fail(f"request {request_id} not found", EXIT_REFUSED)
        if request["status"] == wanted:

            def text(r: dict[str, Any] = request) -> str:
                return f"request {r['id']}: {r['status']}"

            emit(output, request, text)
            return
        if request["status"] in FINAL:
            fail(
                f"request {request_id} is {request['status']}, it will not become {wanted}"
                + (f": {request['staleReason']}" if request.get("staleReason") else ""),
                EXIT_REFUSED,
            )
        if time.monotonic() >= deadline:
            fail(
                f"request {request_id} is still {request['status']} after {seconds} s", EXIT_REFUSED
            )
        time.sleep(POLL_SECONDS)


def register(cli: typer.Typer) -> None:
    cli.command("promote")(promote)
    cli.command("approve")(approve)
    cli.command("reject")(reject)
    cli.command("cancel")(cancel)


@get.command("attestation")
def get_attestation(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST", help="The request's id.")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Print the signed record of a PROMOTED request: its DSSE envelope, as JSON (README:
    Verifying a promotion record)."""
    request = Api(url, token).call(
        """query Attestation($id: ID!) { promotionRequest(id: $id) {
             status attestation { envelope keyId } } }""",
        {"id": request_id},
    )["promotionRequest"]
    if request is None:
        fail(f"no promotion request with id {request_id}", EXIT_REFUSED)
    if request["attestation"] is None:
        fail(
            f"request {request_id} has no promotion record: it is {request['status']}", EXIT_REFUSED
        )
    typer.echo(request["attestation"]["envelope"])

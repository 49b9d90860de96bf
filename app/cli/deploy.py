"""Deploying: `hoist deploy`, `hoist rollback`, `hoist get deployable`, `hoist get history`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from app.cli.api import (
    USER_ERRORS,
    Api,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    parse_int,
    rows_or_none,
)
from app.cli.verbs import get

PROMOTED_FROM = "promotedFrom { sourceType sourceEnvironment requestId approvers { email } }"
DEPLOYMENT_FIELDS = f"""id status createdAt error image {{ id image }} environment {{ name }}
  deployedBy {{ email }} {PROMOTED_FROM} rollbackOf {{ id image {{ id image }} }}
  commit {{ sha repository url }}"""

ApplicationOption = Annotated[str, typer.Option("--application")]
EnvironmentOption = Annotated[str, typer.Option("--environment")]


def promoted_text(promoted: dict[str, Any] | None) -> str:
    """`-` for the normal path; else where from, the request and who approved it."""
    if promoted is None:
        return "-"
    source = promoted["sourceEnvironment"] or promoted["sourceType"]
    approvers = ",".join(a["email"] for a in promoted["approvers"]) or "no approvers"
    return f"from {source} (request {promoted['requestId']}; {approvers})"


def deploy(
    application: ApplicationOption,
    environment: EnvironmentOption,
    image_id: Annotated[str, typer.Option("--image", help="The image's id.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Deploy an image to an environment (BUILD_DEPLOY); the executor runs its stages."""
    deployment = Api(url, token).mutate(
        f"""mutation Deploy($application: String!, $environment: String!, $imageId: ID!) {{
              deployImage(application: $application, environment: $environment,
                          imageId: $imageId) {{ deployment {{ {DEPLOYMENT_FIELDS} }}
                {USER_ERRORS} }} }}""",
        {"application": application, "environment": environment, "imageId": image_id},
        "deployImage",
    )["deployment"]
    emit(
        output,
        deployment,
        lambda: (
            f"deployment {deployment['id']}: {deployment['image']['image']} to "
            f"{application}/{environment}, {deployment['status']}"
        ),
    )


def rollback(
    application: ApplicationOption,
    environment: EnvironmentOption,
    image_id: Annotated[
        str,
        typer.Option("--image", help="The image to bring back: one that SUCCEEDED there before."),
    ],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Roll back: deploy again an image that SUCCEEDED in the environment before, in place
    of the one there now (BUILD_DEPLOY)."""
    deployment = Api(url, token).mutate(
        f"""mutation Rollback($application: String!, $environment: String!, $toImage: ID!) {{
              rollbackDeployment(application: $application, environment: $environment,
                                 toImage: $toImage) {{ deployment {{ {DEPLOYMENT_FIELDS} }}
                {USER_ERRORS} }} }}""",
        {"application": application, "environment": environment, "toImage": image_id},
        "rollbackDeployment",
    )["deployment"]
    replaced = deployment["rollbackOf"]
    emit(
        output,
        deployment,
        lambda: (
            f"deployment {deployment['id']}: rolling {application}/{environment} back to "
            f"{deployment['image']['image']} (replacing deployment {replaced['id']}, "
            f"{replaced['image']['image']}), {deployment['status']}"
        ),
    )


def history_note(deployment: dict[str, Any]) -> str:
    """The history's NOTE column: the rollback it is and the commit that carried it."""
    notes = []
    if deployment["rollbackOf"] is not None:
        notes.append(f"rollback of {deployment['rollbackOf']['id']}")
    if deployment["commit"] is not None:
        notes.append(
            f"commit {deployment['commit']['sha'][:12]} in {deployment['commit']['repository']}"
        )
    return "; ".join(notes) or "-"


@get.command("deployable")
def get_deployable(
    application: ApplicationOption,
    environment: EnvironmentOption,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Every image that may go to the environment, and why or why not."""
    images = Api(url, token).pages(
        f"""query Deployable($application: String!, $environment: String!, $first: Int,
                             $after: String) {{
              deployableImages(application: $application, environment: $environment,
                               first: $first, after: $after) {{
                edges {{ node {{ image {{ id image }} deployable reasons deploymentApprovals
                                 requiredDeploymentApprovals {PROMOTED_FROM} }} }}
                pageInfo {{ hasNextPage endCursor }} }} }}""",
        {"application": application, "environment": environment},
        ["deployableImages"],
    )
    emit(
        output,
        [{"id": i["image"]["id"], **i} for i in images] if output is Output.id else images,
        lambda: rows_or_none(
            ["IMAGE", "DEPLOYABLE", "APPROVALS", "PROMOTED", "REASONS"],
            [
                [
                    f"{i['image']['id']}:{i['image']['image']}",
                    "yes" if i["deployable"] else "no",
                    f"{i['deploymentApprovals']}/{i['requiredDeploymentApprovals']}",
                    promoted_text(i["promotedFrom"]),
                    "; ".join(i["reasons"]) or "-",
                ]
                for i in images
            ],
            f"no image may go to {application}/{environment}",
        ),
    )


@get.command("history")
def get_history(
    application: ApplicationOption,
    environment: Annotated[str | None, typer.Option("--environment")] = None,
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
    """Deployments newest first, with where promoted images came from."""
    page = Api(url, token).call(
        f"""query History($application: String!, $environment: String, $first: Int,
                          $after: String) {{
              deploymentHistory(application: $application, environment: $environment,
                                first: $first, after: $after) {{
                edges {{ node {{ {DEPLOYMENT_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}
              }} }}""",
        {
            "application": application,
            "environment": environment,
            "first": parse_int("--first", first),
            "after": after,
        },
    )["deploymentHistory"]
    deployments = [edge["node"] for edge in page["edges"]]
    emit(
        output,
        deployments,
        lambda: rows_or_none(
            ["ID", "WHEN", "ENVIRONMENT", "IMAGE", "STATUS", "BY", "PROMOTED", "NOTE"],
            [
                [
                    d["id"],
                    d["createdAt"],
                    d["environment"]["name"],
                    f"{d['image']['id']}:{d['image']['image']}",
                    d["status"],
                    (d["deployedBy"] or {}).get("email") or "hoist",
                    promoted_text(d["promotedFrom"]),
                    history_note(d),
                ]
                for d in deployments
            ],
            f"no deployments of {application}",
        ),
    )
    if page["pageInfo"]["hasNextPage"] and output is Output.text:
        typer.echo(f"(more: --after={page['pageInfo']['endCursor']})")


def register(cli: typer.Typer) -> None:
    cli.command("deploy")(deploy)
    cli.command("rollback")(rollback)

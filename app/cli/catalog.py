"""The catalog: `hoist create application|environment`, `hoist get
applications|environments|workflows`, `hoist update gitTarget`, and for CI scripts `hoist
register image` and `hoist record stage`. Workflows are made from a file: `hoist apply -f`
(app/cli/apply.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from app.catalog.kinds import Stage, StageStatus
from app.cli.api import (
    BOOL,
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
    parse_bool,
    rows_or_none,
    show,
)
from app.cli.verbs import create, get, record, register, update

GIT_TARGET_FIELDS = "repository branch path edit image key container credential"
PIPELINE_FIELDS = f"""environment {{ name }} parentEnvironment {{ name }} preStage postStage
  trigger deploymentApprovalCount filterPassCondition filterFailCondition policy {{ name }}
  gitTarget {{ {GIT_TARGET_FIELDS} }}"""
WORKFLOW_FIELDS = f"id name ciPipeline cdPipelines {{ {PIPELINE_FIELDS} }}"
IMAGE_FIELDS = """id image digest repository tag labels createdAt builtBy { email }
  registeredBy { email } gitCommits { repo branch commitHash commitMessage author }"""

ApplicationOption = Annotated[str, typer.Option("--application", help="The application.")]


@create.command("application")
def create_application(
    name: Annotated[str, typer.Option("--name", help="2-50 of a-z, 0-9, '-'.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create an application (super-admins only)."""
    created = Api(url, token).mutate(
        f"""mutation CreateApplication($name: String!) {{
              createApplication(name: $name) {{ application {{ id name }} {USER_ERRORS} }} }}""",
        {"name": name},
        "createApplication",
    )["application"]
    emit(output, created, lambda: f"created application {created['name']}")


@create.command("environment")
def create_environment(
    name: Annotated[str, typer.Option("--name", help="2-50 of a-z, 0-9, '-'.")],
    production: Annotated[
        str | None,
        typer.Option(
            "--production", metavar=BOOL, help="A production environment (default false)."
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create an environment (super-admins only)."""
    created = Api(url, token).mutate(
        f"""mutation CreateEnvironment($name: String!, $production: Boolean) {{
              createEnvironment(name: $name, production: $production) {{
                environment {{ id name production }} {USER_ERRORS} }} }}""",
        {"name": name, "production": bool(parse_bool("--production", production))},
        "createEnvironment",
    )["environment"]
    kind = " (production)" if created["production"] else ""
    emit(output, created, lambda: f"created environment {created['name']}{kind}")


@get.command("applications")
def get_applications(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List the applications you hold a role on, with their workflows."""
    apps = Api(url, token).call(
        "query Applications { applications { id name workflows { name } } }"
    )["applications"]
    emit(
        output,
        apps,
        lambda: rows_or_none(
            ["NAME", "WORKFLOWS"],
            [[a["name"], ", ".join(w["name"] for w in a["workflows"]) or "-"] for a in apps],
            "no applications",
        ),
    )


@get.command("environments")
def get_environments(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List every environment."""
    envs = Api(url, token).call("query Environments { environments { id name production } }")[
        "environments"
    ]
    emit(
        output,
        envs,
        lambda: rows_or_none(
            ["NAME", "PRODUCTION"],
            [[e["name"], show(e["production"])] for e in envs],
            "no environments",
        ),
    )


def pipeline_line(pipeline: dict[str, Any]) -> str:
    follows = (pipeline["parentEnvironment"] or {}).get("name") or "CI"
    extras = [pipeline["trigger"]]
    if pipeline["deploymentApprovalCount"]:
        extras.append(f"{pipeline['deploymentApprovalCount']} deployment approval(s)")
    if pipeline["policy"]:
        extras.append(f"policy {pipeline['policy']['name']}")
    if target := pipeline.get("gitTarget"):
        extras.append(f"git {git_target_text(target)}")
    return f"  {pipeline['environment']['name']} (after {follows}; {', '.join(extras)})"


def git_target_text(target: dict[str, Any]) -> str:
    """`repository@branch:path (EDIT what)`, one line."""
    what = target.get("image") or target.get("key") or target.get("container")
    return f"{target['repository']}@{target['branch']}:{target['path']} ({target['edit']} {what})"


@update.command("gitTarget")
def update_git_target(
    application: ApplicationOption,
    environment: Annotated[str, typer.Option("--environment", help="Its CD pipeline's.")],
    repository: Annotated[
        str | None, typer.Option("--repository", help="https://, ssh://, file:// or a path.")
    ] = None,
    branch: Annotated[str, typer.Option("--branch", help="The branch (default main).")] = "main",
    path: Annotated[
        str | None, typer.Option("--path", help="The file, inside the repository.")
    ] = None,
    edit: Annotated[
        str | None, typer.Option("--edit", help="KUSTOMIZE, HELM_VALUES or MANIFEST.")
    ] = None,
    image: Annotated[
        str | None, typer.Option("--image", help="KUSTOMIZE: the images: entry's name.")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="HELM_VALUES: the dotted key, e.g. image.tag.")
    ] = None,
    container: Annotated[
        str | None, typer.Option("--container", help="MANIFEST: the container's name.")
    ] = None,
    credential: Annotated[
        str | None,
        typer.Option("--credential", help="A file of the server's HOIST_GIT_CREDENTIALS_DIR."),
    ] = None,
    clear: Annotated[
        str | None,
        typer.Option(
            "--clear", metavar=BOOL, help="Take the target away (the installation's executor)."
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Make each deployment to a CD pipeline a commit to a Git repository, for Argo CD or
    Flux to deploy (super-admins). The server checks every field."""
    target: dict[str, Any] | None = None
    if parse_bool("--clear", clear):
        if repository or path or edit:
            fail("--clear takes no --repository, --path or --edit", EXIT_USAGE)
    else:
        missing = [
            f"--{n}"
            for n, v in (("repository", repository), ("path", path), ("edit", edit))
            if not v
        ]
        if missing:
            fail(f"give {', '.join(missing)} (or --clear true)", EXIT_USAGE)
        assert edit is not None
        target = {
            "repository": repository,
            "branch": branch,
            "path": path,
            "edit": edit.upper().replace("-", "_"),
            **{
                name: value
                for name, value in (
                    ("image", image),
                    ("key", key),
                    ("container", container),
                    ("credential", credential),
                )
                if value is not None
            },
        }
    pipeline = Api(url, token).mutate(
        f"""mutation SetGitTarget($app: String!, $env: String!, $target: GitTargetInput) {{
              setGitTarget(application: $app, environment: $env, gitTarget: $target) {{
                cdPipeline {{ id gitTarget {{ {GIT_TARGET_FIELDS} }} }} {USER_ERRORS} }} }}""",
        {"app": application, "env": environment, "target": target},
        "setGitTarget",
    )["cdPipeline"]
    emit(
        output,
        pipeline,
        lambda: (
            f"{application}/{environment} deploys through git "
            f"{git_target_text(pipeline['gitTarget'])}"
            if pipeline["gitTarget"]
            else f"{application}/{environment} deploys with the installation's executor"
        ),
    )


@get.command("workflows")
def get_workflows(
    application: ApplicationOption,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show an application's workflows and their CD pipelines, parents first."""
    app = Api(url, token).call(
        f"""query Workflows($name: String!) {{
              application(name: $name) {{ workflows {{ {WORKFLOW_FIELDS} }} }} }}""",
        {"name": application},
    )["application"]
    if app is None:
        fail(f"no application named {application!r} (or you hold no role on it)", EXIT_REFUSED)
    workflows = app["workflows"]
    emit(
        output,
        workflows,
        lambda: (
            "\n".join(
                f"{w['name']} (CI {w['ciPipeline']})\n"
                + "\n".join(map(pipeline_line, w["cdPipelines"]))
                for w in workflows
            )
            or f"{application} has no workflows"
        ),
    )


def git_commit(value: str) -> dict[str, Any]:
    """One --gitCommit: a JSON object such as {"repo": "...", "commitHash": "..."}."""
    try:
        commit = json.loads(value)
    except ValueError:
        commit = None
    if not isinstance(commit, dict):
        fail(
            f'--gitCommit must be a JSON object like {{"repo": "https://...", '
            f'"branch": "main", "commitHash": "..."}} (got {value[:60]!r})',
            EXIT_USAGE,
        )
    return commit


@register.command("image")
def register_image(
    application: ApplicationOption,
    workflow: Annotated[str, typer.Option("--workflow", help="The workflow whose CI built it.")],
    image: Annotated[str, typer.Option("--image", help="registry/repository:tag")],
    digest: Annotated[str | None, typer.Option("--digest")] = None,
    labels: Annotated[
        list[str] | None, typer.Option("--label", help="A release label; repeat the flag for more.")
    ] = None,
    git_commits: Annotated[
        list[str] | None,
        typer.Option(
            "--gitCommit",
            help='JSON: {"repo", "branch", "commitHash", "commitMessage", '
            '"author", "committedAt"}; repeat for more.',
        ),
    ] = None,
    built_by: Annotated[
        str | None,
        typer.Option(
            "--builtBy",
            help="Email of who triggered the build (default: you); naming someone "
            "else needs a CI identity or a super-admin.",
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Record an image a workflow's CI built (BUILD_DEPLOY); prints its id."""
    image_input: dict[str, Any] = {
        "application": application,
        "workflow": workflow,
        "image": image,
        "labels": labels or [],
        "gitCommits": [git_commit(c) for c in git_commits or []],
    }
    if digest is not None:
        image_input["digest"] = digest
    if built_by is not None:
        image_input["builtBy"] = built_by
    created = Api(url, token).mutate(
        f"""mutation RegisterImage($input: RegisterImageInput!) {{
              registerImage(input: $input) {{ image {{ {IMAGE_FIELDS} }} {USER_ERRORS} }} }}""",
        {"input": image_input},
        "registerImage",
    )["image"]
    emit(output, created, lambda: f"registered image {created['id']}: {created['image']}")


@record.command("stage")
def record_stage(
    image_id: Annotated[str, typer.Option("--image", help="The image's id.")],
    environment: Annotated[str, typer.Option("--environment")],
    stage: Annotated[Stage, typer.Option("--stage", case_sensitive=False)],
    status: Annotated[StageStatus, typer.Option("--status", case_sensitive=False)],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Report one stage's outcome for an image in an environment (BUILD_DEPLOY)."""
    run = Api(url, token).mutate(
        f"""mutation RecordStage($input: StageResultInput!) {{
              recordStageResult(input: $input) {{
                stageRun {{ id stage status environment {{ name }} image {{ id image }} }}
                {USER_ERRORS} }} }}""",
        {
            "input": {
                "imageId": image_id,
                "environment": environment,
                "stage": stage.value,
                "status": status.value,
            }
        },
        "recordStageResult",
    )["stageRun"]
    emit(
        output,
        run,
        lambda: (
            f"recorded {run['stage']} {run['status']} for image "
            f"{run['image']['id']} in {run['environment']['name']}"
        ),
    )

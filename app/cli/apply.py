"""`hoist apply -f FILE`: a YAML manifest, by its `kind`; `hoist apply policy -p FILE`,
`hoist apply window -p FILE`.

Kinds: `artifactPromotionPolicy` (SPEC §3; the server reads it), `promotionWindow`
(app/windows/manifest.py; checked here, applied by the server) and `workflow`
(app/catalog/manifest.py; read here, then created with createWorkflow). Either way the
file is all or nothing: one bad field and nothing is written, every error with its line.

A workflow that exists already is refused (CONFLICT on spec.name), not updated: its CD
pipelines carry stage runs, deployments and policy bindings, which an edited file must not
silently re-shape. Make a workflow under a new name instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.catalog import manifest as workflow_manifest
from app.cli import windows
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
    print_user_errors,
    read_file,
    refused_status,
)
from app.cli.catalog import WORKFLOW_FIELDS
from app.cli.policies import apply_manifest_text, apply_policy
from app.errors import DomainError
from app.manifests import compose, kind_of
from app.policies import manifest as policy_manifest
from app.windows import manifest as window_manifest

KINDS = (policy_manifest.KIND, workflow_manifest.KIND, window_manifest.KIND)

apply = typer.Typer(
    help=f"Apply a YAML manifest: hoist apply -f FILE (kind {' or '.join(KINDS)}).",
    invoke_without_command=True,
)
apply.command("policy")(apply_policy)
apply.command("window")(windows.apply_window)


def refuse(exc: DomainError) -> None:
    print_user_errors([{"message": exc.message, "code": exc.code.value, "field": exc.field}])
    raise typer.Exit(EXIT_REFUSED)


def create_workflow(api: Api, text: str, output: Output) -> None:
    try:
        parsed = workflow_manifest.read(text)
    except DomainError as exc:
        refuse(exc)

    payload = api.call(
        f"""mutation CreateWorkflow($input: CreateWorkflowInput!) {{
              createWorkflow(input: $input) {{ workflow {{ {WORKFLOW_FIELDS} }} {USER_ERRORS} }}
            }}""",
        {"input": parsed.input},
    )["createWorkflow"]
    if payload["errors"]:
        # The server names createWorkflow's input fields (`cdPipelines[1].environment`):
        # shown as the manifest's fields, with their lines.
        print_user_errors(
            [
                {**e, "field": f"spec.{e['field']}" if e.get("field") else None}
                for e in payload["errors"]
            ],
            lambda field: parsed.line(field.removeprefix("spec.") if field else None),
        )
        raise typer.Exit(refused_status(payload["errors"]))
    workflow: dict[str, Any] = {"application": parsed.input["application"], **payload["workflow"]}
    pipelines = ", ".join(p["environment"]["name"] for p in workflow["cdPipelines"])
    emit(
        output,
        workflow,
        lambda: (
            f"created workflow {workflow['application']}/{workflow['name']} "
            f"with CD pipelines {pipelines}"
        ),
    )


@apply.callback()
def apply_file(
    ctx: typer.Context,
    filename: Annotated[
        Path | None,
        typer.Option(
            "--filename",
            "-f",
            help="The YAML manifest (kind workflow, artifactPromotionPolicy or promotionWindow).",
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Apply a manifest, all or nothing.

    kind workflow: the workflow is created (an existing one is refused, CONFLICT).
    kind artifactPromotionPolicy: its policy governs the listed pairs.
    kind promotionWindow: its window (created or updated) applies to the listed pairs.
    """
    if ctx.invoked_subcommand is not None:
        if filename is not None:
            fail("give either -f FILE or a subcommand, not both", EXIT_USAGE)
        return
    if filename is None:
        typer.echo(ctx.get_help(), err=True)
        raise typer.Exit(EXIT_USAGE)
    text = read_file(filename)
    try:
        kind = kind_of(compose(text))
    except DomainError as exc:
        refuse(exc)
    api = Api(url, token)
    if kind == policy_manifest.KIND:
        apply_manifest_text(api, text, output)
    elif kind == workflow_manifest.KIND:
        create_workflow(api, text, output)
    elif kind == window_manifest.KIND:
        windows.apply_manifest_text(api, text, output)
    else:
        fail(
            f"{str(filename)!r}: unknown kind {kind[:60]!r}; known kinds: {', '.join(KINDS)}",
            EXIT_REFUSED,
        )

"""The `hoist` client commands: promotion policies over the GraphQL API.

These commands are an API client like any script: they POST GraphQL to `<url>/graphql`
with `Authorization: Bearer <token>` and never touch the database, so they work against a
remote server and obey the same permissions. Hence no import of services or the ORM here.

Exit status: 0 done; 1 the server refused (its messages on stderr); 2 bad usage (a flag
value, an unreadable file); 3 not signed in or not allowed; 4 no usable answer from the
server. Errors are one line each, `error: ...`, on stderr, never a traceback.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import pydantic
import typer
import yaml

from app.settings import get_settings

EXIT_REFUSED = 1
EXIT_USAGE = 2  # click's own usage errors exit 2 as well
EXIT_AUTH = 3
EXIT_UNREACHABLE = 4

TIMEOUT_SECONDS = 30.0

POLICY_FIELDS = """
  name description version passCondition failCondition approverCount
  allowRequestFromApprove allowImageBuilderFromApprove allowApproverFromDeploy
  bindings { appName envName }
"""
USER_ERRORS = "errors { code message field }"


class Output(StrEnum):
    text = "text"
    json = "json"


# Help texts avoid square brackets: typer's rich help would read them as markup.
UrlOption = Annotated[str | None, typer.Option(
    "--url", help="Server to talk to (default: HOIST_URL, else http://127.0.0.1:8000).")]
TokenOption = Annotated[str | None, typer.Option(
    "--token", help="API token (default: HOIST_TOKEN; prefer it, options show in ps).")]
OutputOption = Annotated[Output, typer.Option(
    "--output", "-o", help="text for people, json for scripts.")]


def fail(message: str, status: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(status)


class Api:
    """One server and token; `call` answers a query's `data` or exits with the errors."""

    def __init__(self, url: str | None, token: str | None) -> None:
        try:
            settings = get_settings()
        except pydantic.ValidationError as exc:
            fail(f"bad HOIST_ setting: {' '.join(str(exc).split())}", EXIT_USAGE)
        self.url = (url or settings.url).rstrip("/")
        self.token = token or settings.token

    def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        endpoint = f"{self.url}/graphql"
        try:
            response = httpx.post(endpoint, json={"query": query, "variables": variables},
                                  headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.TimeoutException:
            fail(f"the Hoist server at {self.url} did not answer within "
                 f"{TIMEOUT_SECONDS:.0f} seconds", EXIT_UNREACHABLE)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # ConnectError's text is the OS's ("[Errno 111] Connection refused").
            fail(f"cannot reach the Hoist server at {self.url}: {exc}", EXIT_UNREACHABLE)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            fail(f"{endpoint} did not answer with GraphQL (HTTP {response.status_code}); "
                 "is that a Hoist server?", EXIT_UNREACHABLE)
        if body.get("errors"):
            self._top_level_errors(body["errors"])
        if not isinstance(body.get("data"), dict):
            fail(f"{endpoint} answered without data (HTTP {response.status_code})",
                 EXIT_UNREACHABLE)
        return body["data"]

    def _top_level_errors(self, errors: list[dict[str, Any]]) -> NoReturn:
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        for error in errors:
            code = (error.get("extensions") or {}).get("code")
            typer.echo(f"error: {error.get('message')}" + (f" ({code})" if code else ""),
                       err=True)
        if "UNAUTHENTICATED" in codes:
            hint = ("the server did not accept the token; check HOIST_TOKEN or --token"
                    if self.token else "no token given; set HOIST_TOKEN or pass --token "
                    "(`hoist admin bootstrap` prints the first one)")
            typer.echo(f"hint: {hint}", err=True)
        raise typer.Exit(EXIT_AUTH if codes & {"UNAUTHENTICATED", "FORBIDDEN"} else EXIT_REFUSED)


def print_user_errors(errors: list[dict[str, Any]]) -> None:
    for error in errors:
        where = f", field {error['field']}" if error.get("field") else ""
        typer.echo(f"error: {error['message']} [{error['code']}{where}]", err=True)


def refuse_if_errors(payload: dict[str, Any]) -> None:
    """Print a payload's UserErrors and exit 1; nothing was written when there are any."""
    if payload.get("errors"):
        print_user_errors(payload["errors"])
        raise typer.Exit(EXIT_REFUSED)


def parse_bool(flag: str, value: str | None) -> bool | None:
    """`true`/`false` (any case); the CLI asks for explicit values, nothing is guessed."""
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    fail(f"{flag} must be true or false (got {value!r})", EXIT_USAGE)


def parse_int(flag: str, value: str | None) -> int | None:
    """A whole number; its range is the server's rule, so the server checks it."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        fail(f"{flag} must be a whole number (got {value!r})", EXIT_USAGE)


def read_manifest(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"manifest file {str(path)!r} does not exist", EXIT_USAGE)
    except UnicodeDecodeError:
        fail(f"manifest file {str(path)!r} is not UTF-8 text", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot read manifest file {str(path)!r}: {exc.strerror or exc}", EXIT_USAGE)


def manifest_policy_name(text: str) -> str | None:
    """The policy a manifest names, when it can be read; the server judges the rest."""
    try:
        document = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        # Constructing can fail beyond YAMLError: "2001-13-45" is a timestamp with a bad
        # month (ValueError), "[[[[..." exhausts the stack. The server will say what is wrong.
        return None
    try:
        name = document["spec"]["payload"]["applyToPolicyName"]
    except (TypeError, KeyError):
        return None
    return name if isinstance(name, str) else None


def applied_line(bindings: list[dict[str, Any]], fallback: str) -> str:
    policy = bindings[0]["policy"]["name"] if bindings else fallback
    pairs = ", ".join(f"{b['appName']}/{b['envName']}" for b in bindings)
    return f"applied {policy} to {pairs}"


APPLY_MANIFEST = f"""
mutation ApplyManifest($manifest: String!) {{
  applyPolicyManifest(manifest: $manifest) {{
    bindings {{ appName envName policy {{ name }} }} {USER_ERRORS}
  }}
}}"""

BOOL = "true|false"  # every boolean flag takes one, default false

create = typer.Typer(help="Create objects on the server.", no_args_is_help=True)
apply = typer.Typer(help="Apply a policy manifest.", no_args_is_help=True)
get = typer.Typer(help="Show objects.", no_args_is_help=True)
delete = typer.Typer(help="Delete objects.", no_args_is_help=True)


@create.command("imagePromotionPolicy")
def create_policy(
    name: Annotated[str, typer.Option("--name", help="3-50 of a-z, 0-9, '-'.")],
    description: Annotated[str | None, typer.Option("--description")] = None,
    pass_condition: Annotated[str | None, typer.Option(
        "--passCondition", help="CEL an image must meet.")] = None,
    fail_condition: Annotated[str | None, typer.Option(
        "--failCondition", help="CEL that blocks an image (wins over pass).")] = None,
    approver_count: Annotated[str | None, typer.Option(
        "--approverCount", metavar="0-6", help="Approvals needed (default 0).")] = None,
    allow_request_from_approve: Annotated[str | None, typer.Option(
        "--allowRequestFromApprove", metavar=BOOL, help="The requester may approve.")] = None,
    allow_image_builder_from_approve: Annotated[str | None, typer.Option(
        "--allowImageBuilderFromApprove", metavar=BOOL,
        help="The image's builder may approve.")] = None,
    allow_approver_from_deploy: Annotated[str | None, typer.Option(
        "--allowApproverFromDeploy", metavar=BOOL,
        help="An approver may deploy the image.")] = None,
    apply_path: Annotated[Path | None, typer.Option(
        "--applyPath", help="Apply this manifest too; on failure the policy is not kept.")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a promotion policy (version 1), and apply it with --applyPath."""
    flags = {
        "approverCount": parse_int("--approverCount", approver_count),
        "allowRequestFromApprove": parse_bool(
            "--allowRequestFromApprove", allow_request_from_approve),
        "allowImageBuilderFromApprove": parse_bool(
            "--allowImageBuilderFromApprove", allow_image_builder_from_approve),
        "allowApproverFromDeploy": parse_bool(
            "--allowApproverFromDeploy", allow_approver_from_deploy),
        "description": description,
        "passCondition": pass_condition,
        "failCondition": fail_condition,
    }
    # Unset flags are left out, so the server's defaults apply.
    policy_input = {"name": name, **{k: v for k, v in flags.items() if v is not None}}
    manifest = None
    if apply_path is not None:
        # Read and checked before anything is created: a typo in the path or a manifest
        # for another policy must not leave a half-done policy behind.
        manifest = read_manifest(apply_path)
        named = manifest_policy_name(manifest)
        if named is not None and named != name:
            fail(f"{str(apply_path)!r} applies policy {named!r}, not {name!r}", EXIT_USAGE)
    api = Api(url, token)
    created = api.call(
        f"""mutation Create($input: PromotionPolicyInput!) {{
              createPromotionPolicy(input: $input) {{ policy {{ name version }} {USER_ERRORS} }}
            }}""",
        {"input": policy_input},
    )["createPromotionPolicy"]
    refuse_if_errors(created)
    done = f"created policy {name} (version {created['policy']['version']})"
    if manifest is None:
        typer.echo(done)
        return
    try:
        applied = api.call(APPLY_MANIFEST, {"manifest": manifest})["applyPolicyManifest"]
    except typer.Exit as exc:  # no answer, or a top-level error: already on stderr
        status = exc.exit_code
    else:
        if not applied["errors"]:
            typer.echo(done)
            typer.echo(applied_line(applied["bindings"], name))
            return
        print_user_errors(applied["errors"])
        status = EXIT_REFUSED
    # One command, one outcome: a user who fixes the manifest and runs the same command
    # again expects it to work, not "already exists". So the new policy is deleted again;
    # it governs nothing yet, so that affects no request.
    if undo_create(api, name):
        fail(f"the manifest was not applied, so policy {name} was not kept; "
             "fix the manifest and run the command again", status)
    fail(f"policy {name} was created but not applied; fix the manifest and run "
         f"`hoist apply policy -p {apply_path}`", status)


def undo_create(api: Api, name: str) -> bool:
    try:
        removed = api.call(
            f"""mutation Undo($name: String!) {{
                  deletePromotionPolicy(name: $name) {{ deleted {USER_ERRORS} }}
                }}""",
            {"name": name},
        )["deletePromotionPolicy"]
    except typer.Exit:
        return False
    return bool(removed["deleted"])


@apply.command("policy")
def apply_policy(
    path: Annotated[Path, typer.Option("--path", "-p", help="The YAML apply manifest.")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Apply a manifest: its policy governs the listed pairs (all or nothing)."""
    manifest = read_manifest(path)
    applied = Api(url, token).call(APPLY_MANIFEST, {"manifest": manifest})["applyPolicyManifest"]
    refuse_if_errors(applied)
    typer.echo(applied_line(applied["bindings"], manifest_policy_name(manifest) or "policy"))


def _one_line(text: str | None, width: int = 40) -> str:
    if not text:
        return "-"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@get.command("policies")
def get_policies(
    output: OutputOption = Output.text, url: UrlOption = None, token: TokenOption = None,
) -> None:
    """List every promotion policy."""
    policies = Api(url, token).call(f"{{ promotionPolicies {{ {POLICY_FIELDS} }} }}", {})[
        "promotionPolicies"]
    if output is Output.json:
        typer.echo(json.dumps(policies, indent=2))
        return
    rows = [["NAME", "VERSION", "APPROVERS", "PASS", "FAIL", "BINDINGS"]]
    rows += [[p["name"], str(p["version"]), str(p["approverCount"]),
              _one_line(p["passCondition"]), _one_line(p["failCondition"]),
              str(len(p["bindings"]))] for p in policies]
    typer.echo(table(rows))


@get.command("policy")
def get_policy(
    name: Annotated[str, typer.Argument(help="The policy's name.")],
    output: OutputOption = Output.text, url: UrlOption = None, token: TokenOption = None,
) -> None:
    """Show one promotion policy and the pairs it governs."""
    policy = Api(url, token).call(
        f"query Policy($name: String!) {{ promotionPolicy(name: $name) {{ {POLICY_FIELDS} }} }}",
        {"name": name},
    )["promotionPolicy"]
    if policy is None:
        fail(f"no promotion policy named {name!r}", EXIT_REFUSED)
    if output is Output.json:
        typer.echo(json.dumps(policy, indent=2))
        return
    shown = {k: v for k, v in policy.items() if k != "bindings"}
    shown["bindings"] = ", ".join(f"{b['appName']}/{b['envName']}"
                                  for b in policy["bindings"]) or None
    width = max(len(k) for k in shown) + 1
    for key, value in shown.items():
        text = "-" if value is None else str(value).lower() if isinstance(value, bool) else value
        typer.echo(f"{key + ':':<{width}} {text}")


@delete.command("policy")
def delete_policy(
    name: Annotated[str, typer.Argument(help="The policy's name.")],
    url: UrlOption = None, token: TokenOption = None,
) -> None:
    """Delete a policy; pending requests it governed turn STALE."""
    deleted = Api(url, token).call(
        f"""mutation Delete($name: String!) {{
              deletePromotionPolicy(name: $name) {{ deleted {USER_ERRORS} }}
            }}""",
        {"name": name},
    )["deletePromotionPolicy"]
    refuse_if_errors(deleted)
    typer.echo(f"deleted policy {name}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(create, name="create")
    cli.add_typer(apply, name="apply")
    cli.add_typer(get, name="get")
    cli.add_typer(delete, name="delete")

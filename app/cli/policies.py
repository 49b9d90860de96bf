"""`hoist create|update|get|delete imagePromotionPolicy`, `hoist apply policy`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

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
    one_line,
    parse_bool,
    parse_int,
    print_user_errors,
    read_file,
    refused_status,
    rows_or_none,
    show,
)
from app.cli.verbs import create, delete, get, update
from app.errors import DomainError
from app.policies import manifest as policy_manifest

POLICY_FIELDS = """
  name description version passCondition failCondition approverCount
  allowRequestFromApprove allowImageBuilderFromApprove allowApproverFromDeploy
  requestTimeout approvalMaxAge remindAfter maxReminders breakGlassApproverCount
  enforcement bindings { appName envName }
"""

APPLY_MANIFEST = f"""
mutation ApplyManifest($manifest: String!) {{
  applyPolicyManifest(manifest: $manifest) {{
    bindings {{ appName envName policy {{ name }} }} {USER_ERRORS}
  }}
}}"""

DescriptionOption = Annotated[str | None, typer.Option("--description")]
PassOption = Annotated[str | None, typer.Option("--passCondition", help="CEL an image must meet.")]
FailOption = Annotated[
    str | None, typer.Option("--failCondition", help="CEL that blocks an image (wins over pass).")
]
CountOption = Annotated[
    str | None, typer.Option("--approverCount", metavar="0-6", help="Approvals needed (default 0).")
]
RequesterOption = Annotated[
    str | None,
    typer.Option("--allowRequestFromApprove", metavar=BOOL, help="The requester may approve."),
]
BuilderOption = Annotated[
    str | None,
    typer.Option(
        "--allowImageBuilderFromApprove", metavar=BOOL, help="The image's builder may approve."
    ),
]
DeployerOption = Annotated[
    str | None,
    typer.Option(
        "--allowApproverFromDeploy", metavar=BOOL, help="An approver may deploy the image."
    ),
]

TimeoutOption = Annotated[
    str | None,
    typer.Option(
        "--requestTimeout",
        metavar="DURATION",
        help='Requests not approved in time expire, e.g. 72h ("" for none).',
    ),
]
MaxAgeOption = Annotated[
    str | None,
    typer.Option(
        "--approvalMaxAge",
        metavar="DURATION",
        help='Approvals older than this stop counting, e.g. 24h ("" for none).',
    ),
]
RemindOption = Annotated[
    str | None,
    typer.Option(
        "--remindAfter",
        metavar="DURATION",
        help='Remind undecided approvers once per period, e.g. 8h ("" for none).',
    ),
]
RemindersOption = Annotated[
    str | None,
    typer.Option("--maxReminders", metavar="0-10", help="Reminders per approver (default 2)."),
]
BreakGlassOption = Annotated[
    str | None,
    typer.Option(
        "--breakGlassApproverCount",
        metavar="0-6",
        help="Extra approvals a break-glass promotion needs (default 1).",
    ),
]

EnforcementOption = Annotated[
    str | None,
    typer.Option(
        "--enforcement",
        metavar="ENFORCE|WARN",
        help="WARN: failing conditions do not block; the request carries them as warnings "
        "(default ENFORCE).",
    ),
]


def parse_enforcement(flag: str, value: str | None) -> str | None:
    if value is None:
        return None
    if value.upper() in ("ENFORCE", "WARN"):
        return value.upper()
    fail(f"{flag} must be ENFORCE or WARN (got {value!r})", EXIT_USAGE)


# Each option's API name and how its text is read; durations go as written (the server
# reads them and names the field when one is not a duration).
_FLAGS: dict[str, tuple[str, Callable[[str, str | None], Any]]] = {
    "approver_count": ("approverCount", parse_int),
    "allow_request_from_approve": ("allowRequestFromApprove", parse_bool),
    "allow_image_builder_from_approve": ("allowImageBuilderFromApprove", parse_bool),
    "allow_approver_from_deploy": ("allowApproverFromDeploy", parse_bool),
    "max_reminders": ("maxReminders", parse_int),
    "break_glass_approver_count": ("breakGlassApproverCount", parse_int),
    "enforcement": ("enforcement", parse_enforcement),
}
_TEXTS = {
    "description": "description",
    "pass_condition": "passCondition",
    "fail_condition": "failCondition",
    "request_timeout": "requestTimeout",
    "approval_max_age": "approvalMaxAge",
    "remind_after": "remindAfter",
}


def policy_flags(**options: str | None) -> dict[str, Any]:
    """The given options (by parameter name) under their API names; unset ones left out
    (server defaults apply)."""
    flags: dict[str, Any] = {}
    for option, value in options.items():
        if value is None:
            continue
        if option in _TEXTS:
            flags[_TEXTS[option]] = value
        else:
            api_name, parse = _FLAGS[option]
            flags[api_name] = parse(f"--{api_name}", value)
    return flags


def check_manifest(path: Path, name: str) -> str:
    """The manifest's text, read and checked as the server will check it: a file that
    does not parse, or applies another policy, must not leave a new policy behind."""
    text = read_file(path)
    try:
        parsed = policy_manifest.read(text)
    except DomainError as exc:
        print_user_errors([{"message": exc.message, "code": exc.code.value, "field": exc.field}])
        fail(f"{str(path)!r} is not a valid manifest; nothing was created", EXIT_REFUSED)
    if parsed.policy_name != name:
        fail(f"{str(path)!r} applies policy {parsed.policy_name!r}, not {name!r}", EXIT_USAGE)
    return text


def applied_line(bindings: list[dict[str, Any]], fallback: str) -> str:
    policy = bindings[0]["policy"]["name"] if bindings else fallback
    pairs = ", ".join(f"{b['appName']}/{b['envName']}" for b in bindings)
    return f"applied {policy} to {pairs}"


@create.command("imagePromotionPolicy")
def create_policy(
    name: Annotated[str, typer.Option("--name", help="3-50 of a-z, 0-9, '-'.")],
    description: DescriptionOption = None,
    pass_condition: PassOption = None,
    fail_condition: FailOption = None,
    approver_count: CountOption = None,
    allow_request_from_approve: RequesterOption = None,
    allow_image_builder_from_approve: BuilderOption = None,
    allow_approver_from_deploy: DeployerOption = None,
    request_timeout: TimeoutOption = None,
    approval_max_age: MaxAgeOption = None,
    remind_after: RemindOption = None,
    max_reminders: RemindersOption = None,
    break_glass_approver_count: BreakGlassOption = None,
    enforcement: EnforcementOption = None,
    apply_path: Annotated[
        Path | None,
        typer.Option(
            "--applyPath", help="Apply this manifest too; on failure the policy is not kept."
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a promotion policy (version 1), and apply it with --applyPath."""
    policy_input = {
        "name": name,
        **policy_flags(
            description=description,
            pass_condition=pass_condition,
            fail_condition=fail_condition,
            approver_count=approver_count,
            allow_request_from_approve=allow_request_from_approve,
            allow_image_builder_from_approve=allow_image_builder_from_approve,
            allow_approver_from_deploy=allow_approver_from_deploy,
            request_timeout=request_timeout,
            approval_max_age=approval_max_age,
            remind_after=remind_after,
            max_reminders=max_reminders,
            break_glass_approver_count=break_glass_approver_count,
            enforcement=enforcement,
        ),
    }
    manifest = check_manifest(apply_path, name) if apply_path is not None else None
    api = Api(url, token)
    created = api.mutate(
        f"""mutation CreatePolicy($input: PromotionPolicyInput!) {{
              createPromotionPolicy(input: $input) {{ policy {{ {POLICY_FIELDS} }} {USER_ERRORS} }}
            }}""",
        {"input": policy_input},
        "createPromotionPolicy",
    )["policy"]
    done = f"created policy {name} (version {created['version']})"
    if manifest is None:
        emit(output, created, lambda: done)
        return
    try:
        applied = api.call(APPLY_MANIFEST, {"manifest": manifest})["applyPolicyManifest"]
    except typer.Exit as exc:  # no answer, or a top-level error: already on stderr
        status = exc.exit_code
    else:
        if not applied["errors"]:
            created["bindings"] = [
                {"appName": b["appName"], "envName": b["envName"]} for b in applied["bindings"]
            ]
            emit(output, created, lambda: f"{done}\n{applied_line(applied['bindings'], name)}")
            return
        print_user_errors(applied["errors"])
        status = refused_status(applied["errors"])
    # The file was checked first, so this is the server refusing a pair (no CD pipeline
    # there, an unknown application). One command, one outcome: a user who fixes the
    # manifest and runs the same command again expects it to work, not "already exists".
    # So the new policy is deleted again; it governs nothing yet, so no request is affected.
    if undo_create(api, name):
        fail(
            f"the manifest was not applied, so policy {name} was not kept; "
            "fix the manifest and run the command again",
            status,
        )
    fail(
        f"policy {name} was created but not applied; fix the manifest and run "
        f"`hoist apply policy -p {apply_path}`",
        status,
    )


def undo_create(api: Api, name: str) -> bool:
    try:
        removed = api.call(
            f"""mutation UndoCreatePolicy($name: String!) {{
                  deletePromotionPolicy(name: $name) {{ deleted {USER_ERRORS} }}
                }}""",
            {"name": name},
        )["deletePromotionPolicy"]
    except typer.Exit:
        return False
    return bool(removed["deleted"])


@update.command("imagePromotionPolicy")
def update_policy(
    name: Annotated[str, typer.Option("--name", help="The policy to change.")],
    description: DescriptionOption = None,
    pass_condition: PassOption = None,
    fail_condition: FailOption = None,
    approver_count: CountOption = None,
    allow_request_from_approve: RequesterOption = None,
    allow_image_builder_from_approve: BuilderOption = None,
    allow_approver_from_deploy: DeployerOption = None,
    request_timeout: TimeoutOption = None,
    approval_max_age: MaxAgeOption = None,
    remind_after: RemindOption = None,
    max_reminders: RemindersOption = None,
    break_glass_approver_count: BreakGlassOption = None,
    enforcement: EnforcementOption = None,
    if_version: Annotated[
        str | None,
        typer.Option(
            "--ifVersion",
            metavar="N",
            help="Change it only if it is still at version N (the "
            "one you read); otherwise nothing changes (CONFLICT).",
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Change the given fields of a policy (version + 1).

    Its requests awaiting approval are re-evaluated at once.
    """
    patch = policy_flags(
        description=description,
        pass_condition=pass_condition,
        fail_condition=fail_condition,
        approver_count=approver_count,
        allow_request_from_approve=allow_request_from_approve,
        allow_image_builder_from_approve=allow_image_builder_from_approve,
        allow_approver_from_deploy=allow_approver_from_deploy,
        request_timeout=request_timeout,
        approval_max_age=approval_max_age,
        remind_after=remind_after,
        max_reminders=max_reminders,
        break_glass_approver_count=break_glass_approver_count,
        enforcement=enforcement,
    )
    if not patch:
        fail("name at least one field to change (see --help)", EXIT_USAGE)
    policy = Api(url, token).mutate(
        f"""mutation UpdatePolicy($name: String!, $input: PromotionPolicyPatch!,
                                  $ifVersion: Int) {{
              updatePromotionPolicy(name: $name, input: $input, ifVersion: $ifVersion) {{
                policy {{ {POLICY_FIELDS} }} {USER_ERRORS} }}
            }}""",
        {"name": name, "input": patch, "ifVersion": parse_int("--ifVersion", if_version)},
        "updatePromotionPolicy",
    )["policy"]
    emit(output, policy, lambda: f"updated policy {name} (version {policy['version']})")


def apply_manifest_text(api: Api, manifest: str, output: Output) -> None:
    applied = api.mutate(APPLY_MANIFEST, {"manifest": manifest}, "applyPolicyManifest")
    name = policy_name(manifest)
    emit(output, applied["bindings"], lambda: applied_line(applied["bindings"], name))


def policy_name(manifest: str) -> str:
    try:
        return policy_manifest.read(manifest).policy_name
    except DomainError:
        return "policy"


def apply_policy(
    path: Annotated[Path, typer.Option("--path", "-p", help="The YAML apply manifest.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Apply a manifest: its policy governs the listed pairs (all or nothing)."""
    apply_manifest_text(Api(url, token), read_file(path), output)


@get.command("policies")
def get_policies(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List every promotion policy."""
    policies = Api(url, token).call(
        f"query Policies {{ promotionPolicies {{ {POLICY_FIELDS} }} }}"
    )["promotionPolicies"]
    emit(
        output,
        [{"id": p["name"], **p} for p in policies] if output is Output.id else policies,
        lambda: rows_or_none(
            ["NAME", "VERSION", "APPROVERS", "PASS", "FAIL", "BINDINGS"],
            [
                [
                    p["name"],
                    str(p["version"]),
                    str(p["approverCount"]),
                    one_line(p["passCondition"]),
                    one_line(p["failCondition"]),
                    str(len(p["bindings"])),
                ]
                for p in policies
            ],
            "no promotion policies",
        ),
    )


@get.command("policy")
def get_policy(
    name: Annotated[str, typer.Argument(help="The policy's name.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show one promotion policy and the pairs it governs."""
    policy = Api(url, token).call(
        f"query Policy($name: String!) {{ promotionPolicy(name: $name) {{ {POLICY_FIELDS} }} }}",
        {"name": name},
    )["promotionPolicy"]
    if policy is None:
        fail(f"no promotion policy named {name!r}", EXIT_REFUSED)

    def text() -> str:
        shown = {k: v for k, v in policy.items() if k != "bindings"}
        shown["bindings"] = (
            ", ".join(f"{b['appName']}/{b['envName']}" for b in policy["bindings"]) or None
        )
        width = max(len(k) for k in shown) + 1
        return "\n".join(f"{key + ':':<{width}} {show(value)}" for key, value in shown.items())

    emit(output, policy, text)


@delete.command("policy")
def delete_policy(
    name: Annotated[str, typer.Argument(help="The policy's name.")],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a policy; pending requests it governed turn STALE."""
    Api(url, token).mutate(
        f"""mutation DeletePolicy($name: String!) {{
              deletePromotionPolicy(name: $name) {{ deleted {USER_ERRORS} }}
            }}""",
        {"name": name},
        "deletePromotionPolicy",
    )
    emit(output, {"deleted": True, "name": name}, lambda: f"deleted policy {name}")

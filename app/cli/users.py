"""People, roles and tokens: `hoist create user|token`, `hoist get users|tokens`,
`hoist grant role`, `hoist revoke role|token`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from app.cli.api import (
    BOOL,
    USER_ERRORS,
    Api,
    Output,
    OutputOption,
    TokenOption,
    UrlOption,
    emit,
    parse_bool,
    rows_or_none,
    show,
)
from app.cli.verbs import create, get, grant, revoke

USER_FIELDS = "id email name superAdmin ciIdentity roles { role application environment }"
TOKEN_FIELDS = "id name createdAt expiresAt revoked revokedAt"


class Role(StrEnum):
    VIEWER = "VIEWER"
    BUILD_DEPLOY = "BUILD_DEPLOY"
    ARTIFACT_PROMOTER = "ARTIFACT_PROMOTER"
    DEPLOYMENT_APPROVER = "DEPLOYMENT_APPROVER"


EmailOption = Annotated[str, typer.Option("--email", help="The user's email.")]
RoleOption = Annotated[Role, typer.Option("--role", case_sensitive=False)]
ApplicationScope = Annotated[
    str, typer.Option("--application", help="An application, or * for all (the default).")
]
EnvironmentScope = Annotated[
    str, typer.Option("--environment", help="An environment, or * for all (the default).")
]


def roles_text(user: dict[str, Any]) -> str:
    return (
        ", ".join(f"{r['role']}@{r['application']}/{r['environment']}" for r in user["roles"])
        or "-"
    )


@create.command("user")
def create_user(
    email: EmailOption,
    name: Annotated[str, typer.Option("--name", help="Display name, 1-100 characters.")],
    super_admin: Annotated[
        str | None,
        typer.Option("--superAdmin", metavar=BOOL, help="May do everything (default false)."),
    ] = None,
    ci_identity: Annotated[
        str | None,
        typer.Option(
            "--ciIdentity",
            metavar=BOOL,
            help="A CI system's own account: it may register "
            "images naming another user as builder (default false; only at creation).",
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a user (super-admins only); give them roles with `hoist grant role`."""
    user_input = {
        "email": email,
        "name": name,
        "superAdmin": bool(parse_bool("--superAdmin", super_admin)),
        "ciIdentity": bool(parse_bool("--ciIdentity", ci_identity)),
    }
    user = Api(url, token).mutate(
        f"""mutation CreateUser($input: CreateUserInput!) {{
              createUser(input: $input) {{ user {{ {USER_FIELDS} }} {USER_ERRORS} }} }}""",
        {"input": user_input},
        "createUser",
    )["user"]
    kind = " (super-admin)" if user["superAdmin"] else ""
    kind += " (CI identity)" if user["ciIdentity"] else ""
    emit(output, user, lambda: f"created user {user['email']}{kind} (id {user['id']})")


@get.command("users")
def get_users(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List every user with their roles (super-admins only)."""
    users = Api(url, token).pages(
        f"""query Users($first: Int, $after: String) {{
              users(first: $first, after: $after) {{
                edges {{ node {{ {USER_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}""",
        {},
        ["users"],
    )
    users.sort(key=lambda u: u["email"])
    emit(
        output,
        users,
        lambda: rows_or_none(
            ["ID", "EMAIL", "NAME", "SUPER-ADMIN", "CI", "ROLES"],
            [
                [
                    u["id"],
                    u["email"],
                    u["name"],
                    show(u["superAdmin"]),
                    show(u["ciIdentity"]),
                    roles_text(u),
                ]
                for u in users
            ],
            "no users",
        ),
    )


def binding_variables(email: str, role: Role, application: str, environment: str) -> dict[str, Any]:
    return {
        "email": email,
        "role": role.value,
        "application": application,
        "environment": environment,
    }


ROLE_ARGS = "$email: String!, $role: Role!, $application: String, $environment: String"
ROLE_PARAMS = "email: $email, role: $role, application: $application, environment: $environment"


@grant.command("role")
def grant_role(
    email: EmailOption,
    role: RoleOption,
    application: ApplicationScope = "*",
    environment: EnvironmentScope = "*",
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Grant a role on an application and environment (granting it again changes nothing)."""
    binding = Api(url, token).mutate(
        f"""mutation GrantRole({ROLE_ARGS}) {{
              grantRole({ROLE_PARAMS}) {{
                roleBinding {{ role application environment }} {USER_ERRORS} }} }}""",
        binding_variables(email, role, application, environment),
        "grantRole",
    )["roleBinding"]
    emit(
        output,
        {"email": email, **binding},
        lambda: (
            f"granted {binding['role']} on {binding['application']}/{binding['environment']} "
            f"to {email}"
        ),
    )


@revoke.command("role")
def revoke_role(
    email: EmailOption,
    role: RoleOption,
    application: ApplicationScope = "*",
    environment: EnvironmentScope = "*",
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Remove one role binding (the exact application and environment it was granted on)."""
    Api(url, token).mutate(
        f"""mutation RevokeRole({ROLE_ARGS}) {{
              revokeRole({ROLE_PARAMS}) {{ deleted {USER_ERRORS} }} }}""",
        binding_variables(email, role, application, environment),
        "revokeRole",
    )
    emit(
        output,
        {
            "deleted": True,
            "email": email,
            "role": role.value,
            "application": application,
            "environment": environment,
        },
        lambda: f"revoked {role.value} on {application}/{environment} from {email}",
    )


@create.command("token")
def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    email: Annotated[
        str | None, typer.Option("--email", help="Whose token (super-admins; default: yours).")
    ] = None,
    expires_at: Annotated[
        str | None,
        typer.Option(
            "--expiresAt", help="ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z (default: never)."
        ),
    ] = None,
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create an API token; its secret is printed once, as the last line."""
    variables: dict[str, Any] = {"name": name, "email": email, "expiresAt": expires_at}
    payload = Api(url, token).mutate(
        f"""mutation CreateToken($name: String!, $email: String, $expiresAt: DateTime) {{
              createApiToken(name: $name, email: $email, expiresAt: $expiresAt) {{
                token apiToken {{ {TOKEN_FIELDS} }} {USER_ERRORS} }} }}""",
        {k: v for k, v in variables.items() if v is not None},
        "createApiToken",
    )
    created = payload["apiToken"]
    owner = email or "you"
    emit(
        output,
        {**created, "token": payload["token"]},
        lambda: (
            f"created token {created['name']} (id {created['id']}) for {owner}; "
            f"API token (shown once):\n{payload['token']}"
        ),
    )


@get.command("tokens")
def get_tokens(
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List your API tokens, revoked ones included (never their secrets)."""
    tokens = (
        Api(url, token).call(f"query MyTokens {{ me {{ apiTokens {{ {TOKEN_FIELDS} }} }} }}")["me"][
            "apiTokens"
        ]
        or []
    )
    emit(
        output,
        tokens,
        lambda: rows_or_none(
            ["ID", "NAME", "CREATED", "EXPIRES", "REVOKED"],
            [
                [
                    t["id"],
                    t["name"],
                    t["createdAt"],
                    show(t["expiresAt"]),
                    show(t["revokedAt"] or False),
                ]
                for t in tokens
            ],
            "no tokens",
        ),
    )


@revoke.command("token")
def revoke_token(
    token_id: Annotated[
        str, typer.Argument(metavar="ID", help="The token's id (hoist get tokens).")
    ],
    output: OutputOption = Output.text,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke one of your tokens (super-admins: any token); it is refused from then on."""
    Api(url, token).mutate(
        f"""mutation RevokeToken($id: ID!) {{
              revokeApiToken(id: $id) {{ deleted {USER_ERRORS} }} }}""",
        {"id": token_id},
        "revokeApiToken",
    )
    emit(output, {"deleted": True, "id": token_id}, lambda: f"revoked token {token_id}")

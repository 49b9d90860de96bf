"""GraphQL queries and mutations of accounts: thin doors onto the accounts service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app import limits
from app.accounts import service
from app.accounts.models import WILDCARD
from app.accounts.types import ApiToken, Role, RoleBinding, User
from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, parse_id, unset_to_none
from app.graphql.pagination import DEFAULT_PAGE, After, Connection, First, paginate


@strawberry.input(description="A new user.")
class CreateUserInput:
    email: str = strawberry.field(
        description="Their email, unique (kept lowercase). " + limits.text_note(limits.EMAIL)
    )
    name: str = strawberry.field(
        description="The name shown to people. " + limits.text_note(limits.USER_NAME)
    )
    super_admin: bool | None = strawberry.field(
        default=False, description="Make them a super-admin, who may do everything."
    )
    ci_identity: bool | None = strawberry.field(
        default=False,
        description="Make a dedicated account for a CI system (only at "
        "creation): it may name another user as an image's builtBy.",
    )


@strawberry.type(description="What createUser did.")
class UserPayload:
    user: User | None = strawberry.field(
        default=None, description="The new user; null when refused."
    )
    errors: list[UserError] = error_list(
        "Why no user was made.",
        ErrorCode.FORBIDDEN,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What grantRole did.")
class RoleBindingPayload:
    role_binding: RoleBinding | None = strawberry.field(
        default=None,
        description="The binding, new or already held (granting it again changes nothing); "
        "null when refused.",
    )
    errors: list[UserError] = error_list(
        "Why the role was not granted.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What createApiToken did.")
class ApiTokenPayload:
    api_token: ApiToken | None = strawberry.field(
        default=None, description="The new token; null when refused."
    )
    token: str | None = strawberry.field(
        default=None, description="The secret; shown only in this answer, never again."
    )
    errors: list[UserError] = error_list(
        "Why no token was made.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    )


@strawberry.type(description="What a removal (a role, a token, a policy) did.")
class DeletePayload:
    deleted: bool = strawberry.field(
        default=False, description="True when it is gone (also when it was revoked already)."
    )
    errors: list[UserError] = error_list(
        "Why nothing was deleted.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
    )


def deleted_payload(errors: list[UserError]) -> DeletePayload:
    return DeletePayload(deleted=False, errors=errors)


_EMAIL = Annotated[str, strawberry.argument(description="The user's email.")]
_ROLE = Annotated[Role, strawberry.argument(description="The role.")]
_APPLICATION = Annotated[
    str | None,
    strawberry.argument(description="An application's name; `*` or null: every application."),
]
_ENVIRONMENT = Annotated[
    str | None,
    strawberry.argument(description="An environment's name; `*` or null: every environment."),
]


def _scope(name: str | None) -> str:
    """Null means the default, `*`; an empty name stays empty (unknown), never a wildcard."""
    return WILDCARD if name is None else name


@strawberry.type
class Query:
    @strawberry.field(description="The caller.")
    async def me(self, info: Info) -> User:
        # Only the user: the fields that need their roles (roles, apiTokens) load them.
        return User.of(info.context.caller())

    @strawberry.field(description="Every user, newest first (super-admins only).")
    async def users(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = UNSET
    ) -> Connection[User]:
        access = await info.context.access()
        return await paginate(service.list_users(access), first, unset_to_none(after), User.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a user (super-admins only).")
    async def create_user(
        self,
        info: Info,
        input: Annotated[CreateUserInput, strawberry.argument(description="The new user.")],
    ) -> UserPayload | None:
        access = await info.context.access()

        async def run() -> UserPayload:
            user = await service.create_user(
                access,
                input.email,
                input.name,
                bool(input.super_admin),
                ci_identity=bool(input.ci_identity),
            )
            return UserPayload(user=User.of(user))

        return await mutate(run, lambda errors: UserPayload(errors=errors))

    @strawberry.mutation(
        description="Grant a role (super-admins only); `*` stands for every "
        "application/environment."
    )
    async def grant_role(
        self,
        info: Info,
        email: _EMAIL,
        role: _ROLE,
        application: _APPLICATION = "*",
        environment: _ENVIRONMENT = "*",
    ) -> RoleBindingPayload | None:
        access = await info.context.access()

        async def run() -> RoleBindingPayload:
            binding = await service.grant_role(
                access, email, role, _scope(application), _scope(environment)
            )
            return RoleBindingPayload(role_binding=RoleBinding.of(binding))

        return await mutate(run, lambda errors: RoleBindingPayload(errors=errors))

    @strawberry.mutation(
        description="Remove one role binding, named as it was granted (super-admins only)."
    )
    async def revoke_role(
        self,
        info: Info,
        email: _EMAIL,
        role: _ROLE,
        application: _APPLICATION = "*",
        environment: _ENVIRONMENT = "*",
    ) -> DeletePayload | None:
        access = await info.context.access()

        async def run() -> DeletePayload:
            await service.revoke_role(access, email, role, _scope(application), _scope(environment))
            return DeletePayload(deleted=True)

        return await mutate(run, deleted_payload)

    @strawberry.mutation(
        description="Create an API token for yourself (super-admins: for anyone by email)."
    )
    async def create_api_token(
        self,
        info: Info,
        name: Annotated[
            str,
            strawberry.argument(
                description="What the token is for. " + limits.text_note(limits.TOKEN_NAME)
            ),
        ],
        email: Annotated[
            str | None,
            strawberry.argument(description="Whose token (super-admins only); default: yours."),
        ] = UNSET,
        expires_at: Annotated[
            datetime | None,
            strawberry.argument(
                description="When the token stops working; in the future (no time zone: "
                "UTC). Default: never."
            ),
        ] = UNSET,
    ) -> ApiTokenPayload | None:
        access = await info.context.access()

        async def run() -> ApiTokenPayload:
            token, secret = await service.create_api_token(
                access, name, unset_to_none(email), unset_to_none(expires_at)
            )
            return ApiTokenPayload(api_token=ApiToken.of(token), token=secret)

        return await mutate(run, lambda errors: ApiTokenPayload(errors=errors))

    @strawberry.mutation(description="Revoke one of your tokens (super-admins: any token).")
    async def revoke_api_token(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The token's id.")],
    ) -> DeletePayload | None:
        access = await info.context.access()

        async def run() -> DeletePayload:
            await service.revoke_api_token(access, parse_id(id, "id", "ApiToken"))
            return DeletePayload(deleted=True)

        return await mutate(run, deleted_payload)

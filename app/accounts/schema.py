"""GraphQL queries and mutations of accounts: thin doors onto the accounts service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app import limits
from app.accounts import service
from app.accounts.models import WILDCARD
from app.accounts.types import ApiToken, Role, RoleBinding, User
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, mutate, parse_id, unset_to_none
from app.graphql.pagination import DEFAULT_PAGE, Connection, paginate


@strawberry.input
class CreateUserInput:
    email: str = strawberry.field(description=limits.text_note(limits.EMAIL))
    name: str = strawberry.field(description=limits.text_note(limits.USER_NAME))
    super_admin: bool | None = False
    ci_identity: bool | None = strawberry.field(
        default=False,
        description="Make a dedicated account for a CI system (only at "
        "creation): it may name another user as an image's builtBy.",
    )


@strawberry.type
class UserPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RoleBindingPayload:
    role_binding: RoleBinding | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiTokenPayload:
    api_token: ApiToken | None = None
    token: str | None = strawberry.field(
        default=None, description="The secret; shown only in this answer, never again."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePayload:
    deleted: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def deleted_payload(errors: list[UserError]) -> DeletePayload:
    return DeletePayload(deleted=False, errors=errors)


def _scope(name: str | None) -> str:
    """Null means the default, `*`; an empty name stays empty (unknown), never a wildcard."""
    return WILDCARD if name is None else name


@strawberry.type
class Query:
    @strawberry.field(description="The caller.")
    async def me(self, info: Info) -> User:
        access = await info.context.access()
        assert access.user is not None
        return User.of(access.user)

    @strawberry.field(description="Every user, newest first (super-admins only).")
    async def users(
        self, info: Info, first: int | None = DEFAULT_PAGE, after: str | None = UNSET
    ) -> Connection[User]:
        access = await info.context.access()
        return await paginate(service.list_users(access), first, unset_to_none(after), User.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a user (super-admins only).")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload | None:
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

    @strawberry.mutation(description="Grant a role; `*` stands for every application/environment.")
    async def grant_role(
        self,
        info: Info,
        email: str,
        role: Role,
        application: str | None = "*",
        environment: str | None = "*",
    ) -> RoleBindingPayload | None:
        access = await info.context.access()

        async def run() -> RoleBindingPayload:
            binding = await service.grant_role(
                access, email, role, _scope(application), _scope(environment)
            )
            return RoleBindingPayload(role_binding=RoleBinding.of(binding))

        return await mutate(run, lambda errors: RoleBindingPayload(errors=errors))

    @strawberry.mutation(description="Remove a role binding.")
    async def revoke_role(
        self,
        info: Info,
        email: str,
        role: Role,
        application: str | None = "*",
        environment: str | None = "*",
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
        email: str | None = UNSET,
        expires_at: datetime | None = UNSET,
    ) -> ApiTokenPayload | None:
        access = await info.context.access()

        async def run() -> ApiTokenPayload:
            token, secret = await service.create_api_token(
                access, name, unset_to_none(email), unset_to_none(expires_at)
            )
            return ApiTokenPayload(api_token=ApiToken.of(token), token=secret)

        return await mutate(run, lambda errors: ApiTokenPayload(errors=errors))

    @strawberry.mutation(description="Revoke one of your tokens (super-admins: any token).")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> DeletePayload | None:
        access = await info.context.access()

        async def run() -> DeletePayload:
            await service.revoke_api_token(access, parse_id(id, "id", "ApiToken"))
            return DeletePayload(deleted=True)

        return await mutate(run, deleted_payload)

"""GraphQL types of people, tokens and roles."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.accounts import models, repository
from app.accounts.access import Access
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.loaders import rows_by_id, rows_grouped
from app.graphql.nodes import visible_nodes

# strawberry.enum registers the GraphQL enum on the class itself (and returns it).
Role = models.Role
strawberry.enum(Role, description="What a role binding lets its holder do.")
describe_values(
    Role,
    {
        Role.VIEWER: "Read the application's data: images, requests, deployments.",
        Role.BUILD_DEPLOY: "Register images and stage results, promote images to the "
        "environment and deploy there; implies VIEWER.",
        Role.ARTIFACT_PROMOTER: "Approve or reject promotion requests that target the "
        "environment; implies VIEWER.",
        Role.DEPLOYMENT_APPROVER: "Give an image the environment's deployment approval "
        "(approveDeployment); implies VIEWER.",
    },
)


def user_by_id(info: Info) -> DataLoader[int, models.User | None]:
    return info.context.loaders.get("user_by_id", lambda: rows_by_id(repository.users_by_ids))


async def _self_or_super_admin(access: Access, rows: list[models.User]) -> list[models.User]:
    """A user by id: yourself, or anyone for a super-admin (as `me` and `users` show)."""
    return rows if access.is_super_admin else [u for u in rows if u.id == access.user_id]


async def _own_or_super_admin(access: Access, rows: list[models.ApiToken]) -> list[models.ApiToken]:
    """A token by id: one of yours, or anyone's for a super-admin (as revokeApiToken)."""
    return rows if access.is_super_admin else [t for t in rows if t.user_id == access.user_id]


@strawberry.type(description="A role held on an application and environment (`*`: all).")
class RoleBinding:
    role: Role = strawberry.field(description="The role held.")
    application: str = strawberry.field(
        description="The application's name, or `*` for every application."
    )
    environment: str = strawberry.field(
        description="The environment's name, or `*` for every environment."
    )

    @classmethod
    def of(cls, row: models.RoleBinding) -> RoleBinding:
        return cls(role=row.role, application=row.application, environment=row.environment)


@strawberry.type(description="A person who uses Hoist.")
class User(relay.Node):
    id: relay.NodeID[int]
    email: str = strawberry.field(
        description="Unique, lowercase; names the user in roles, tokens and builtBy."
    )
    name: str = strawberry.field(description="The name shown to people.")
    super_admin: bool = strawberry.field(
        description="May do everything, including managing users, roles, the catalog and policies."
    )
    ci_identity: bool = strawberry.field(
        description="A dedicated account for a CI system: it may register images naming "
        "another user as builtBy, and does not count as their builder itself."
    )

    @classmethod
    def of(cls, row: models.User) -> User:
        return cls(
            id=row.id,
            email=row.email,
            name=row.name,
            super_admin=row.super_admin,
            ci_identity=row.ci_identity,
        )

    resolve_nodes = visible_nodes(repository.users_by_ids, _self_or_super_admin)

    @strawberry.field(
        description="The user's role bindings on applications you may see (yours: all of them)."
    )
    async def roles(self, info: Info) -> list[RoleBinding]:
        access = await info.context.access()
        loader = info.context.loaders.get(
            "role_bindings_by_user",
            lambda: rows_grouped(repository.role_bindings_of_users, "user_id"),
        )
        # Reads are filtered (SPEC §2): another user's bindings must not name applications
        # the caller holds no role on. Each of the caller's own bindings passes this check.
        rows = await loader.load(self.id)
        return [RoleBinding.of(r) for r in rows if access.can_view(r.application)]

    @strawberry.field(
        description="The user's API tokens, oldest first, revoked ones included (never a "
        "secret); null unless they are yours or you are a super-admin."
    )
    async def api_tokens(self, info: Info) -> list[ApiToken] | None:
        access = await info.context.access()
        if access.user_id != self.id and not access.is_super_admin:
            return None
        loader = info.context.loaders.get(
            "api_tokens_by_user", lambda: rows_grouped(repository.api_tokens_of_users, "user_id")
        )
        return [ApiToken.of(t) for t in await loader.load(self.id)]


async def load_user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await user_by_id(info).load(user_id)
    return User.of(row) if row else None


@strawberry.type(description="An API token; its secret is shown only once, at creation.")
class ApiToken(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="What the token is for.")
    expires_at: datetime | None = strawberry.field(
        description="From then on the token is refused; null: it does not expire."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")

    @classmethod
    def of(cls, row: models.ApiToken) -> ApiToken:
        return cls(
            id=row.id,
            name=row.name,
            expires_at=row.expires_at,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )

    resolve_nodes = visible_nodes(repository.tokens_by_ids, _own_or_super_admin)

    @strawberry.field(description="True once revoked; a revoked token is refused.")
    def revoked(self) -> bool:
        return self.revoked_at is not None

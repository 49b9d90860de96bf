"""Who may do what: a caller's role bindings, read once per request (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.accounts.models import WILDCARD, Role, RoleBinding, User
from app.errors import Forbidden

# Every role implies VIEWER.
_VIEW_ROLES = frozenset(Role)


def _matches(pattern: str, value: str) -> bool:
    return pattern in (WILDCARD, value)


@dataclass(frozen=True)
class Binding:
    role: Role
    application: str
    environment: str

    def covers(self, application: str, environment: str | None) -> bool:
        """True when this binding names the pair (environment None: any environment)."""
        if not _matches(self.application, application):
            return False
        return environment is None or _matches(self.environment, environment)


@dataclass(frozen=True)
class Access:
    """The caller and their bindings; `system` is Hoist itself acting (workers, auto-deploy)."""

    user: User | None
    bindings: tuple[Binding, ...] = field(default_factory=tuple)
    # How the caller came, when not through the API with a token: "email_link" for a
    # signed link from an approval email. The audit log records it (data.via).
    via: str | None = None

    @classmethod
    async def of(cls, user: User, *, via: str | None = None) -> Access:
        rows = await RoleBinding.filter(user_id=user.id).all()
        return cls(user, tuple(Binding(r.role, r.application, r.environment) for r in rows), via)

    @property
    def is_super_admin(self) -> bool:
        return self.user is None or self.user.super_admin

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    def has_role(self, role: Role, application: str, environment: str | None = None) -> bool:
        """Super-admins hold every role; `environment=None` means on any environment."""
        if self.is_super_admin:
            return True
        return any(b.role == role and b.covers(application, environment) for b in self.bindings)

    def can_view(self, application: str) -> bool:
        if self.is_super_admin:
            return True
        return any(b.role in _VIEW_ROLES and b.covers(application, None) for b in self.bindings)

    def visible_applications(self) -> set[str] | None:
        """Names of the applications the caller may read; None means all of them."""
        if self.is_super_admin or any(b.application == WILDCARD for b in self.bindings):
            return None
        return {b.application for b in self.bindings}

    def require_super_admin(self) -> None:
        if not self.is_super_admin:
            raise Forbidden("only a super-admin may do this")

    def require_role(self, role: Role, application: str, environment: str | None = None) -> None:
        if not self.has_role(role, application, environment):
            where = f"{application}/{environment}" if environment else application
            raise Forbidden(f"you need the {role.value} role on {where}")

    def require_view(self, application: str) -> None:
        if not self.can_view(application):
            raise Forbidden(f"you have no role on application {application!r}")


SYSTEM = Access(user=None)

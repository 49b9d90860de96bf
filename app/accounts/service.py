"""Users, API tokens and role bindings (SPEC §2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from app import ids, limits
from app.accounts import repository, tokens
from app.accounts.access import SYSTEM, Access
from app.accounts.models import ApiToken, Role, RoleBinding, User
from app.audit.service import record
from app.errors import ErrorCollector, Forbidden, conflict, not_found, validation
from app.events import RoleScopeNamed, publish
from app.validation import check_moment, utc

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


async def authenticate(secret: str | None) -> User | None:
    """The active user a token belongs to, or None when missing, unknown, revoked or expired."""
    if not secret:
        return None
    token = await ApiToken.get_or_none(token_hash=tokens.hash_secret(secret)).select_related("user")
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        return None
    return token.user if token.user.active else None


def list_users(access: Access) -> QuerySet[User]:
    """Every user, for a super-admin (FORBIDDEN for anyone else)."""
    access.require_super_admin()
    return repository.all_users()


async def get_user_by_email(email: str, field: str = "email") -> User:
    user = await User.get_or_none(email=email.strip().lower())
    if user is None:
        raise not_found(f"no user with email {email!r}", field)
    return user


async def create_user(
    access: Access, email: str, name: str, super_admin: bool = False, *, ci_identity: bool = False
) -> User:
    """Create a user (with `ci_identity`: a CI system's account); only super-admins may."""
    access.require_super_admin()
    email = email.strip().lower()
    errors = ErrorCollector()
    if error := limits.check_text(email, "email", limits.EMAIL):
        errors.add(error)  # said apart: the value is not echoed when it is this long
    elif not _EMAIL.match(email):
        errors.add(validation(f"email {email!r} is not an email address", "email"))
    if not name.strip() or len(name) > limits.USER_NAME:
        errors.add(validation(f"name must be 1-{limits.USER_NAME} characters long", "name"))
    errors.raise_if_any()
    if await User.exists(email=email):
        raise conflict(f"a user with email {email!r} already exists", "email")
    user = await User.create(
        email=email, name=name.strip(), super_admin=super_admin, ci_identity=ci_identity
    )
    await record(
        access, "user.created", user=email, super_admin=super_admin, ci_identity=ci_identity
    )
    return user


async def bootstrap_super_admin(email: str, name: str | None) -> tuple[User, str]:
    """The first super-admin, made from the command line, and a token for them."""
    user = await User.get_or_none(email=email.strip().lower())
    if user is None:
        user = await create_user(SYSTEM, email, name or email.split("@")[0], super_admin=True)
    elif not user.super_admin or not user.active:
        # Bootstrap is also the way back in: a deactivated admin's new token must work.
        user.super_admin = user.active = True
        await user.save(update_fields=["super_admin", "active"])
        await record(SYSTEM, "user.promoted_to_super_admin", user=user.email)
    _, secret = await create_api_token(Access(user), "bootstrap", None, None)
    return user, secret


async def grant_role(
    access: Access, email: str, role: Role, application: str, environment: str
) -> RoleBinding:
    """Bind a role on (application, environment); granting a held role again changes nothing."""
    access.require_super_admin()
    user = await get_user_by_email(email)
    await publish(RoleScopeNamed(application, environment))  # the catalog refuses unknown names
    binding, created = await RoleBinding.get_or_create(
        user_id=user.id, role=role, application=application, environment=environment
    )
    if created:
        await record(
            access,
            "role.granted",
            application=application,
            environment=environment,
            user=user.email,
            role=role.value,
        )
    return binding


async def revoke_role(
    access: Access, email: str, role: Role, application: str, environment: str
) -> None:
    """Remove one role binding."""
    access.require_super_admin()
    user = await get_user_by_email(email)
    deleted = await RoleBinding.filter(
        user_id=user.id, role=role, application=application, environment=environment
    ).delete()
    if not deleted:
        raise not_found(
            f"{email} does not hold {role.value} on {application}/{environment}", "role"
        )
    await record(
        access,
        "role.revoked",
        application=application,
        environment=environment,
        user=user.email,
        role=role.value,
    )


async def create_api_token(
    access: Access, name: str, email: str | None, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """A new token for the caller (super-admins: for `email`); the secret is returned once."""
    if access.user is None:
        raise Forbidden("the system has no tokens")
    owner = access.user
    if email is not None and email.strip().lower() != owner.email:
        access.require_super_admin()
        owner = await get_user_by_email(email)
    errors = ErrorCollector()
    if not name.strip() or len(name) > limits.TOKEN_NAME:
        errors.add(validation(f"name must be 1-{limits.TOKEN_NAME} characters long", "name"))
    if expires_at is not None:
        if error := check_moment(expires_at, "expiresAt"):
            errors.add(error)
        else:
            expires_at = utc(expires_at)
            if expires_at <= datetime.now(UTC):
                errors.add(validation("expiresAt must be in the future", "expiresAt"))
    errors.raise_if_any()
    secret = tokens.new_secret()
    try:
        token = await ApiToken.create(
            user_id=owner.id,
            name=name.strip(),
            token_hash=tokens.hash_secret(secret),
            expires_at=expires_at,
        )
    except IntegrityError as exc:  # a 256-bit collision: practically impossible
        raise conflict("token could not be created, try again") from exc
    await record(access, "token.created", user=owner.email, token_id=token.id, name=token.name)
    return token, secret


async def revoke_api_token(access: Access, token_id: int) -> None:
    """Revoke a token of the caller's own, or any token for a super-admin."""
    token = await ApiToken.get_or_none(id=token_id)
    if token is None or (token.user_id != access.user_id and not access.is_super_admin):
        # Someone else's token is reported as unknown rather than leaking that it exists.
        raise not_found(f"no token with id {ids.global_id('ApiToken', token_id)}", "id")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await token.save(update_fields=["revoked_at"])
        await record(access, "token.revoked", token_id=token.id)

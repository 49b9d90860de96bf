"""Queries of accounts (users, their role bindings and API tokens)."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from app.accounts.models import ApiToken, RoleBinding, User


def all_users() -> QuerySet[User]:
    """Every user (the caller pages and orders it)."""
    return User.all()


async def users_by_ids(ids: Sequence[int]) -> list[User]:
    return await User.filter(id__in=list(ids))


async def role_bindings_of_users(user_ids: Sequence[int]) -> list[RoleBinding]:
    return await RoleBinding.filter(user_id__in=list(user_ids)).order_by("id")


async def api_tokens_of_users(user_ids: Sequence[int]) -> list[ApiToken]:
    return await ApiToken.filter(user_id__in=list(user_ids)).order_by("id")


async def tokens_by_ids(ids: Sequence[int]) -> list[ApiToken]:
    return await ApiToken.filter(id__in=list(ids))

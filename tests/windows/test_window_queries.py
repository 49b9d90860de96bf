"""The window lists send as many SQL statements for 100 windows as for one (STYLE.md
rule 4), relations (pairs' names) and each window's state included."""

from __future__ import annotations

from app.accounts.access import SYSTEM
from app.db import unit_of_work
from app.policies.pairs import Pair
from app.windows import service as windows
from app.windows.calendar import WindowKind
from app.windows.models import PromotionWindow
from tests.graphql.test_list_query_counts import ENVIRONMENTS, shop_with_environments
from tests.support.graphql import GraphQLClient
from tests.support.queries import assert_flat


async def windows_on_shop(size: int) -> None:
    """`size` windows, window i applied to shop/env-i."""
    async with unit_of_work():
        for i in range(await PromotionWindow.all().count(), size):
            await windows.create_window(
                SYSTEM,
                windows.WindowFields(
                    name=f"window-{i:03d}",
                    kind=WindowKind.DENY,
                    time_zone="Europe/Paris",
                    rrule="FREQ=WEEKLY;BYDAY=FR;BYHOUR=16",
                    duration_seconds=64 * 3600,
                ),
            )
            await windows.apply_window(SYSTEM, f"window-{i:03d}", [Pair("shop", ENVIRONMENTS[i])])


async def test_promotion_windows(gql: GraphQLClient, admin: str) -> None:
    await shop_with_environments()

    async def read(size: int) -> int:
        data = await gql(
            """{ promotionWindows { name state { open opensAt closesAt }
            bindings { appName envName windowName } } }""",
            token=admin,
        )
        return len(data["promotionWindows"])

    await assert_flat(read, windows_on_shop)


async def test_window_bindings(gql: GraphQLClient, admin: str) -> None:
    await shop_with_environments()

    async def read(size: int) -> int:
        data = await gql("{ windowBindings { appName envName windowName } }", token=admin)
        return len(data["windowBindings"])

    await assert_flat(read, windows_on_shop)

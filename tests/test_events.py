"""Domain events (app/events.py): listeners run inside the publisher's transaction, and every
event a domain publishes has the listeners the dependency order relies on."""

from __future__ import annotations

import dataclasses

import pytest

from app import events
from app.accounts.access import SYSTEM
from app.audit.models import AuditEvent
from app.db import unit_of_work


class Rollback(Exception):
    pass


async def test_a_listener_commits_and_rolls_back_with_the_publisher(db: str) -> None:
    with pytest.raises(Rollback):
        async with unit_of_work():
            await events.publish(events.PolicyDeleted(SYSTEM, "gone"))
            assert await AuditEvent.filter(action="policy.deleted").count() == 1
            raise Rollback
    assert await AuditEvent.filter(action="policy.deleted").count() == 0

    async with unit_of_work():
        await events.publish(events.PolicyDeleted(SYSTEM, "gone"))
    entry = await AuditEvent.get(action="policy.deleted")
    assert entry.data == {"policy": "gone"} and entry.actor_id is None


def _listeners_of(event_type: type) -> list[str]:
    events.load_listeners()
    return [f"{h.__module__}.{h.__qualname__}" for h in events._listeners.get(event_type, [])]


def test_every_event_has_its_listeners_in_order() -> None:
    published = {
        name: value
        for name, value in vars(events).items()
        if dataclasses.is_dataclass(value) and isinstance(value, type)
    }
    expected = {
        # A veto: the catalog refuses a role on a name it does not have, before the grant.
        "RoleScopeNamed": ["app.catalog.listeners.refuse_unknown_scope"],
        "ImageBuilt": ["app.deployments.listeners.image_built"],
        "StageReported": ["app.deployments.listeners.stage_reported"],
        "PolicyCreated": ["app.audit.listeners.policy_created"],
        # Audit first: the policy's entry precedes the STALE entries of its requests.
        "PolicyChanged": [
            "app.audit.listeners.policy_changed",
            "app.promotions.listeners.policy_changed",
        ],
        "PolicyDeleted": ["app.audit.listeners.policy_deleted"],
        "PairsLostPolicy": ["app.promotions.listeners.pairs_lost_policy"],
        "PairPolicyChanged": ["app.audit.listeners.pair_policy_changed"],
        "PromotionRequested": ["app.audit.listeners.promotion_requested"],
        # The replaced promotion's requester is emailed (issue 18's rollback).
        "DeploymentRolledBack": ["app.notifications.listeners.rolled_back"],
        "RequestApproved": ["app.audit.listeners.request_approved"],
        # A request's emails are written before its AUTOMATIC deployment starts.
        "RequestStatusChanged": [
            "app.audit.listeners.request_status_changed",
            "app.notifications.listeners.status_changed",
            "app.deployments.listeners.request_promoted",
        ],
    }
    assert set(published) == set(expected)
    assert {name: _listeners_of(cls) for name, cls in published.items()} == expected

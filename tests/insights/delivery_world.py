"""A delivery history with known timestamps for the insights tests (and the Insights page's
browser test, through `python -m tests.insights.delivery_world <database url>`).

App `shop`, workflow `main`: dev → staging → prod. Every row is written with explicit
timestamps across three ISO weeks of November 2026 (W0 = Nov 2-8, W1 = Nov 9-15,
W2 = Nov 16-22), plus rows just outside the range [Nov 2, Nov 23) that must not count.
The expected figures below are computed by hand from these rows; percentiles are
nearest-rank: the value at rank ceil(p/100 * n) of the n sorted durations.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise

from app import db
from app.accounts.models import User
from app.catalog.models import (
    Application,
    CdPipeline,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Workflow,
)
from app.deployments.models import Deployment, DeploymentStatus
from app.promotions.models import (
    DecisionKind,
    PromotionDecision,
    PromotionRequest,
    PromotionStatus,
    SourceType,
)

START = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 11, 23, tzinfo=UTC)
WEEKS = ["2026-11-02", "2026-11-09", "2026-11-16"]
H, M = 3600, 60


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


OK, FAILED = StageStatus.SUCCEEDED, StageStatus.FAILED
PRE, DEPLOY = Stage.PRE, Stage.DEPLOY
Run = tuple[datetime, Stage, StageStatus]


@dataclass(frozen=True)
class D:
    """A deployment: its environment, its image (by key; the image's commit times are
    given where it first appears), when it was made, its stage runs, its final status,
    and the deployment it rolls back (by key)."""

    key: str
    env: str
    image: str
    commits: list[datetime]
    created: datetime
    runs: list[Run]
    status: DeploymentStatus = DeploymentStatus.SUCCEEDED
    rolls_back: str | None = None


# fmt: off
DEPLOYMENTS = [
    # Outside: before the range.
    D("D0", "prod", "I0", [at(30, 8, month=10)], at(30, 9, month=10),
      [(at(30, 9, 30, month=10), DEPLOY, OK)]),
    # W0. D1: two commits (the newest counts) and two stage runs (the last counts): 1 h.
    D("D1", "prod", "I1", [at(2, 8), at(2, 9)], at(2, 9, 30),
      [(at(2, 9, 40), PRE, OK), (at(2, 10), DEPLOY, OK)]),
    D("D2", "prod", "I2", [at(3, 10)], at(3, 11), [(at(3, 12), DEPLOY, OK)]),  # 2 h
    D("D3", "prod", "I3", [at(4, 8)], at(4, 11), [(at(4, 12), DEPLOY, OK)]),  # 4 h
    D("D4", "prod", "I4", [at(5, 9)], at(5, 11), [(at(5, 12), DEPLOY, FAILED)],
      DeploymentStatus.FAILED),
    # Made on W0's last evening, running in W1: 30 min, a W1 lead time, a W0 deployment.
    D("D5", "prod", "I5", [at(8, 23, 40)], at(8, 23, 45), [(at(9, 0, 10), DEPLOY, OK)]),
    # W1: 10 min, 50 min, 5 h.
    D("D6", "prod", "I6", [at(10, 10)], at(10, 10, 5), [(at(10, 10, 10), DEPLOY, OK)]),
    D("D7", "prod", "I7", [at(11, 10)], at(11, 10, 20), [(at(11, 10, 50), DEPLOY, OK)]),
    D("D8", "prod", "I8", [at(12, 6)], at(12, 10, 30), [(at(12, 11), DEPLOY, OK)]),
    # A rollback of D2 (bringing I1 back): no lead time; D2 counts as rolled back.
    D("R1", "prod", "I1", [], at(13, 9), [(at(13, 9, 5), DEPLOY, OK)], rolls_back="D2"),
    # An image without a commit time: no lead time.
    D("D9", "prod", "I9", [], at(14, 10), [(at(14, 10, 10), DEPLOY, OK)]),
    # Staging (counted only when no environment is asked): I6 there 15 min after its commit.
    D("S1", "staging", "I6", [], at(10, 10, 12), [(at(10, 10, 15), DEPLOY, OK)]),
    # W2: 1 day; a rollback of D6; I1 again (its lead time was its first arrival, D1).
    D("D10", "prod", "I10", [at(16, 9)], at(17, 8), [(at(17, 9), DEPLOY, OK)]),
    D("R2", "prod", "I5", [], at(18, 10), [(at(18, 10, 5), DEPLOY, OK)], rolls_back="D6"),
    D("D11", "prod", "I1", [], at(19, 10), [(at(19, 10, 10), DEPLOY, OK)]),
    # Outside: made at the range's end (excluded).
    D("D12", "prod", "I11", [at(22, 23)], at(23, 0), [(at(23, 0, 30), DEPLOY, OK)]),
]
# fmt: on

S = PromotionStatus
APPROVE, REJECT = DecisionKind.APPROVE, DecisionKind.REJECT

# Promotion requests: target, source environment (None: CI), status, approvals needed,
# created, decisions (minutes after creation, kind; by a different approver each).
# fmt: off
REQUESTS: list[tuple[str, str | None, S, int, datetime, list[tuple[int, DecisionKind]]]] = [
    ("prod", "staging", S.PROMOTED, 1, at(31, 9, month=10), [(60, APPROVE)]),  # outside
    # W0: waits 30 min, 1 h, 3 h; the CI and dev sources skip stages (3 of 5).
    ("prod", "staging", S.PROMOTED, 1, at(2, 9), [(30, APPROVE)]),
    ("prod", None, S.PROMOTED, 1, at(3, 9), [(60, APPROVE)]),
    ("prod", "dev", S.PROMOTED, 1, at(4, 9), [(180, APPROVE)]),
    ("prod", "staging", S.REJECTED, 2, at(5, 9), [(10, APPROVE), (20, REJECT)]),
    ("prod", None, S.CANCELLED, 1, at(6, 9), []),
    # W1: waits 2 h (the second approval) and 20 min; skips 1 of 4 (2 of 6 with staging's).
    ("prod", "staging", S.PROMOTED, 2, at(9, 9), [(10, APPROVE), (120, APPROVE)]),
    ("prod", "staging", S.QUEUED, 1, at(10, 9), [(20, APPROVE)]),
    ("prod", None, S.PROMOTED, 0, at(11, 9), []),
    ("prod", "staging", S.EXPIRED, 1, at(12, 9), []),
    ("staging", "dev", S.PROMOTED, 0, at(13, 9), []),
    ("staging", None, S.CANCELLED, 1, at(14, 9), []),
    # W2: no quorum reached; skips 1 of 3.
    ("prod", "dev", S.STALE, 1, at(16, 9), [(30, APPROVE)]),
    ("prod", "staging", S.AWAITING_APPROVAL, 2, at(17, 9), [(5, APPROVE)]),
    ("prod", "staging", S.REJECTED, 1, at(18, 9), [(60, REJECT)]),
    ("prod", "staging", S.PROMOTED, 1, at(23, 0), [(10, APPROVE)]),  # outside: at the end
]
# fmt: on


def _statuses(**counts: int) -> dict[str, int]:
    return {s.value: counts.get(s.value, 0) for s in PromotionStatus}


def _figures(
    lead: tuple[int, Any, Any],
    wait: tuple[int, Any, Any],
    promotions: dict[str, int],
    skipped: int,
    deployments: int,
    rolled_back: int,
) -> dict[str, Any]:
    count = sum(promotions.values())
    return {
        "leadTime": dict(zip(("samples", "p50Seconds", "p90Seconds"), lead, strict=True)),
        "approvalWait": dict(zip(("samples", "p50Seconds", "p90Seconds"), wait, strict=True)),
        "promotions": promotions,
        "promotionCount": count,
        "skippedStages": skipped,
        "skipShare": skipped / count if count else None,
        "deployments": deployments,
        "rolledBack": rolled_back,
        "rollbackShare": rolled_back / deployments if deployments else None,
    }


# prod. Lead times: W0 [1 h, 2 h, 4 h] → p50 rank 2 = 2 h, p90 rank 3 = 4 h;
# W1 [10 min, 30 min, 50 min, 5 h] → p50 rank 2 = 30 min, p90 rank 4 = 5 h; W2 [1 day];
# all 8 → p50 rank 4 = 1 h, p90 rank 8 = 1 day. Approval waits: W0 [30 min, 1 h, 3 h] →
# 1 h, 3 h; W1 [20 min, 2 h] → p50 rank 1 = 20 min, p90 rank 2 = 2 h; all 5 → p50 rank 3
# = 1 h, p90 rank 5 = 3 h. Deployments by creation: W0 D1-D5 (D2 rolled back), W1 D6-D9
# and R1 (D6 rolled back), W2 D10, R2, D11.
PROD = {
    "weeks": [
        _figures(
            (3, 2 * H, 4 * H),
            (3, 1 * H, 3 * H),
            _statuses(PROMOTED=3, REJECTED=1, CANCELLED=1),
            3,
            5,
            1,
        ),
        _figures(
            (4, 30 * M, 5 * H),
            (2, 20 * M, 2 * H),
            _statuses(PROMOTED=2, QUEUED=1, EXPIRED=1),
            1,
            5,
            1,
        ),
        _figures(
            (1, 24 * H, 24 * H),
            (0, None, None),
            _statuses(STALE=1, AWAITING_APPROVAL=1, REJECTED=1),
            1,
            3,
            0,
        ),
    ],
    "total": _figures(
        (8, 1 * H, 24 * H),
        (5, 1 * H, 3 * H),
        _statuses(
            PROMOTED=5, REJECTED=2, CANCELLED=1, QUEUED=1, EXPIRED=1, STALE=1, AWAITING_APPROVAL=1
        ),
        5,
        13,
        2,
    ),
}
# Every environment: prod's plus S1 (15 min in W1) and the two staging requests (the one
# from CI skips: staging is not a first stage). W1's lead times [10, 15, 30, 50 min, 5 h]
# → p50 rank 3 = 30 min, p90 rank 5 = 5 h; all 9 → p50 rank 5 = 1 h, p90 rank 9 = 1 day.
ALL = {
    "weeks": [
        PROD["weeks"][0],
        _figures(
            (5, 30 * M, 5 * H),
            (2, 20 * M, 2 * H),
            _statuses(PROMOTED=3, QUEUED=1, EXPIRED=1, CANCELLED=1),
            2,
            6,
            1,
        ),
        PROD["weeks"][2],
    ],
    "total": _figures(
        (9, 1 * H, 24 * H),
        (5, 1 * H, 3 * H),
        _statuses(
            PROMOTED=6, REJECTED=2, CANCELLED=2, QUEUED=1, EXPIRED=1, STALE=1, AWAITING_APPROVAL=1
        ),
        6,
        14,
        2,
    ),
}


async def build() -> None:
    """Write the rows above (into an empty, migrated database)."""
    app = await Application.create(name="shop")
    envs = {
        name: await Environment.create(name=name, production=name == "prod")
        for name in ("dev", "staging", "prod")
    }
    workflow = await Workflow.create(application=app, name="main", ci_pipeline="ci")
    parent = None
    for position, name in enumerate(("dev", "staging", "prod")):
        parent = await CdPipeline.create(
            workflow=workflow,
            application=app,
            environment=envs[name],
            parent=parent,
            position=position,
        )
    requester = await User.create(email="dev@example.com", name="Dev")
    approvers = [
        await User.create(email=f"approver{i}@example.com", name=f"Approver {i}") for i in range(2)
    ]
    images: dict[str, Image] = {}
    deployments: dict[str, Deployment] = {}
    for d in DEPLOYMENTS:
        if d.image not in images:
            images[d.image] = await Image.create(
                application=app,
                workflow=workflow,
                image=f"registry.example.com/shop:{d.image.lower()}",
                git_commits=[
                    {
                        "repo": "https://git.example.com/shop",
                        "commitHash": f"{i:040x}",
                        "committedAt": moment.isoformat(),
                    }
                    for i, moment in enumerate(d.commits)
                ],
                newest_commit_at=max(d.commits, default=None),
            )
        deployment = await Deployment.create(
            application=app,
            environment=envs[d.env],
            image=images[d.image],
            status=d.status,
            rollback_of=deployments[d.rolls_back] if d.rolls_back else None,
            created_at=d.created,
        )
        deployments[d.key] = deployment
        for moment, stage, run_status in d.runs:
            await StageRun.create(
                image=images[d.image],
                environment=envs[d.env],
                stage=stage,
                status=run_status,
                deployment=deployment,
                created_at=moment,
            )
    any_image = images["I1"]
    for target, source, status, needed, created, decisions in REQUESTS:
        request = await PromotionRequest.create(
            image=any_image,
            application=app,
            workflow=workflow,
            source_type=SourceType.ENVIRONMENT if source else SourceType.CI,
            source_environment=envs[source] if source else None,
            target_environment=envs[target],
            status=status,
            requested_by=requester,
            policy_name="careful",
            policy_version=1,
            required_approvals=needed,
            created_at=created,
        )
        for approver, (minutes, kind) in zip(approvers, decisions, strict=False):
            await PromotionDecision.create(
                request=request,
                user=approver,
                kind=kind,
                at=created + timedelta(minutes=minutes),
            )


async def _main(url: str) -> None:
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        async with db.unit_of_work():
            await build()
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))

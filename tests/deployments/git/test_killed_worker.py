"""A real worker (`hoist worker` on a private Redis) SIGKILLed mid-deployment, with its
commit made in the working copy and its push held by the remote: the copy it leaves
behind does not break the deployment's next run, which pushes exactly one commit."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.deployments.git import workcopy
from app.deployments.models import Deployment
from app.outbox import service as outbox
from app.settings import Settings
from tests.conftest import People
from tests.deployments.conftest import deploy
from tests.deployments.git.conftest import gitops_world, promote_tag, target_for
from tests.promotions.world import drain
from tests.support.git_remote import Remote, git
from tests.support.graphql import GraphQLClient
from tests.support.ids import row
from tests.support.processes import celery_worker, stop_group
from tests.support.waiting import eventually
from workers.celery_app import CeleryDispatcher, make_celery


@pytest.fixture
def dispatch_to() -> Iterator[None]:
    yield
    outbox.set_dispatcher(None)


async def test_a_worker_killed_mid_push_leaves_a_copy_the_next_run_cleans(
    gql: GraphQLClient,
    people: People,
    admin: str,
    remote: Remote,
    git_settings: Settings,
    db_url: str,
    redis_url: str,
    tmp_path: Path,
    dispatch_to: None,
) -> None:
    hold, arrived, fifo = tmp_path / "hold", tmp_path / "arrived", tmp_path / "fifo"
    os.mkfifo(fifo)
    hold.touch()
    # While `hold` exists, a push waits on the fifo (for ever: nobody writes to it).
    remote.hook("pre-receive", f'[ -e "{hold}" ] && touch "{arrived}" && cat "{fifo}"\nexit 0\n')
    world = await gitops_world(gql, people, admin, target_for(str(remote.path)))
    image, _ = await promote_tag(world, "1.0")
    assert git_settings.git_workdir is not None
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))
    with celery_worker(
        tmp_path, db_url, redis_url, HOIST_GIT_WORKDIR=str(git_settings.git_workdir)
    ) as worker:
        result = await deploy(world, world.tokens["dev"], image)
        eventually(arrived.exists, "the worker's push reaching the remote", 60)
        stop_group(worker, sig=signal.SIGKILL)
    outbox.set_dispatcher(None)
    deployment = await Deployment.get(id=row(result["deployment"]["id"], "Deployment"))
    assert deployment.status == "QUEUED", "killed before its database commit"
    copy = workcopy.copy_path(git_settings.git_workdir, str(remote.path), "main")
    # What the kill left: a commit of Hoist's that never reached the remote.
    assert git(copy, "rev-parse", "HEAD") != git(copy, "rev-parse", "origin/main")
    assert remote.count() == 1
    # And what a kill a moment earlier leaves: a half-written file, git's index.lock.
    (copy / "deploy/kustomization.yaml").write_text("images:\n  - name: regi")
    (copy / ".git/index.lock").write_text("")
    hold.unlink()
    await drain()  # the job again (the relay would hand it to a worker)
    await deployment.refresh_from_db()
    assert deployment.status == "SUCCEEDED", deployment.error
    assert remote.count() == 2, "exactly one commit"
    assert remote.changed_lines() == [
        '-      newTag: "0.9"    # the tag in production',
        '+      newTag: "1.0"    # the tag in production',
    ]
    assert git(copy, "status", "--porcelain") == ""

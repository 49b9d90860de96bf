"""The rule "passed all stages" has one home and its forms agree (app/catalog/stages.py;
issue 13, item 1): the one-image form, the SQL form (many images of one pipeline), the
batch form (one image across many pipelines), and the pure form that a deployment's
status follows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.catalog import stages
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
from tests.fuzz.budget import examples
from tests.support.rollback import rolled_back

BASE = 1000
# (image index, environment index 0 = the pipeline's, stage, status), in report order.
_runs = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 1),
        st.sampled_from(list(Stage)),
        st.sampled_from(list(StageStatus)),
    ),
    max_size=14,
)


@dataclass
class Place:
    pipeline: CdPipeline
    envs: list[int]
    workflows: list[int]
    application: int


@pytest.fixture
async def place(db: str) -> Place:
    app = await Application.create(name="shop")
    envs = [(await Environment.create(name=name)).id for name in ("dev", "prod")]
    workflows = [
        (await Workflow.create(application_id=app.id, name=name, ci_pipeline="ci")).id
        for name in ("main", "other")
    ]
    pipeline = await CdPipeline.create(
        workflow_id=workflows[0], application_id=app.id, environment_id=envs[0]
    )
    return Place(pipeline, envs, workflows, app.id)


@settings(
    max_examples=examples(60),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(runs=_runs, pre=st.booleans(), post=st.booleans())
async def test_one_image_and_batch_forms_agree(
    place: Place, runs: list[tuple[int, int, Stage, StageStatus]], pre: bool, post: bool
) -> None:
    pipeline = place.pipeline
    pipeline.pre_stage, pipeline.post_stage = pre, post  # the forms read the object's flags
    # A pipeline in the other environment, configured the other way round.
    other = CdPipeline(environment_id=place.envs[1], pre_stage=post, post_stage=pre)
    async with rolled_back():
        # Image 3 belongs to another workflow: the batch form must leave it out.
        await Image.bulk_create(
            [
                Image(
                    id=BASE + i,
                    application_id=place.application,
                    workflow_id=place.workflows[1 if i == 3 else 0],
                    image=f"r.example.com/x:{i}",
                )
                for i in range(4)
            ]
        )
        await StageRun.bulk_create(
            [
                StageRun(
                    id=BASE + n,
                    image_id=BASE + i,
                    environment_id=place.envs[e],
                    stage=stage,
                    status=status,
                )
                for n, (i, e, stage, status) in enumerate(runs)
            ]
        )
        expected = set()
        for i in range(4):
            mine = [(s.value, st_.value) for j, e, s, st_ in runs if j == i and e == 0]
            one = await stages.passed_all_stages(BASE + i, pipeline)
            assert one == stages.passed(stages.latest_by_stage(mine), pipeline)
            if one and i != 3:
                expected.add(BASE + i)
            across = {
                p.environment_id
                for p in (pipeline, other)
                if await stages.passed_all_stages(BASE + i, p)
            }
            assert await stages.environments_passed(BASE + i, [pipeline, other]) == across
        workflow_images = Image.filter(workflow_id=place.workflows[0])
        passed = stages.passed_images(workflow_images, pipeline)
        assert set(await passed.values_list("id", flat=True)) == expected
        # The SQL form pages and counts in the database as the lists use it.
        assert await passed.count() == len(expected)
        newest = await passed.order_by("-id").limit(1).values_list("id", flat=True)
        assert newest == sorted(expected, reverse=True)[:1]


def test_the_latest_run_of_each_configured_stage_decides() -> None:
    pipeline = CdPipeline(pre_stage=True, post_stage=False)
    latest = stages.latest_by_stage(
        [("PRE", "FAILED"), ("DEPLOY", "SUCCEEDED"), ("PRE", "SUCCEEDED"), ("POST", "FAILED")]
    )
    # POST is not configured: its failure counts for nothing.
    assert stages.passed(latest, pipeline) and not stages.failed(latest, pipeline)
    running = stages.latest_by_stage([("PRE", "SUCCEEDED"), ("DEPLOY", "RUNNING")])
    assert not stages.passed(running, pipeline) and not stages.failed(running, pipeline)
    broken = stages.latest_by_stage([("PRE", "SUCCEEDED"), ("DEPLOY", "FAILED")])
    assert stages.failed(broken, pipeline) and not stages.passed(broken, pipeline)

"""Compiled condition programs of policy versions and CD pipeline filters, cached (SPEC §3)."""

from __future__ import annotations

from app import cel
from app.catalog.models import CdPipeline
from app.policies.models import PromotionPolicy


def policy_program(policy: PromotionPolicy) -> cel.CompiledConditions:
    """The policy version's conditions, compiled once and reused."""
    return cel.compile_conditions(
        ("policy", policy.id, policy.version), policy.pass_condition, policy.fail_condition
    )


def filter_program(pipeline: CdPipeline) -> cel.CompiledConditions:
    """A CD pipeline's filter conditions, compiled once per pipeline and text."""
    return cel.compile_conditions(
        ("pipeline", pipeline.id), pipeline.filter_pass_condition, pipeline.filter_fail_condition
    )

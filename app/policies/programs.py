"""Compiled condition programs of policy versions and CD pipeline filters, cached (SPEC §3)."""

from __future__ import annotations

from app import cel
from app.catalog.models import CdPipeline
from app.policies.models import Enforcement, PromotionPolicy


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


def blocks(policy: PromotionPolicy, evaluation: cel.Evaluation) -> bool:
    """Whether the policy's conditions keep the image back: they failed and the policy
    enforces them (a WARN policy lets it through, its failures recorded as warnings)."""
    return not evaluation.eligible and policy.enforcement != Enforcement.WARN

"""The YAML apply manifest of SPEC §3, read with line numbers for every error.

The YAML reading itself is shared with the workflow manifest (app/manifests.py). `read`
imports nothing of the ORM, so the CLI checks a file before it creates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.manifests import MAX_BYTES as MAX_BYTES  # the limit, for callers and tests
from app.manifests import check_kind, child, compose, sequence, string

if TYPE_CHECKING:
    from app.policies.service import Pair

KIND = "artifactPromotionPolicy"


@dataclass(frozen=True)
class Manifest:
    policy_name: str
    pairs: list[Pair]


@dataclass(frozen=True)
class PolicyManifest:
    """What a manifest says, as names: (application, environment) per pair."""

    policy_name: str
    pairs: list[tuple[str, str]]


def read(text: str) -> PolicyManifest:
    """The policy name and pairs of a manifest, or an INVALID_MANIFEST error."""
    root = compose(text)
    check_kind(root, KIND)
    payload = child(child(root, "spec", ""), "payload", "spec")
    policy_name = string(
        child(payload, "applyToPolicyName", "spec.payload"), "spec.payload.applyToPolicyName"
    )
    items = child(payload, "applicationEnvironments", "spec.payload")
    field = "spec.payload.applicationEnvironments"
    pairs = []
    for i, item in enumerate(sequence(items, field)):
        at = f"{field}[{i}]"
        pairs.append(
            (
                string(child(item, "appName", at), f"{at}.appName"),
                string(child(item, "envName", at), f"{at}.envName"),
            )
        )
    return PolicyManifest(policy_name=policy_name, pairs=pairs)


def parse(text: str) -> Manifest:
    """The policy name and pairs of a manifest, as the policy service takes them."""
    # Imported here, not above: `read` must stay loadable without the ORM (the CLI uses it).
    from app.policies.service import Pair

    manifest = read(text)
    return Manifest(
        policy_name=manifest.policy_name,
        pairs=[Pair(application=a, environment=e) for a, e in manifest.pairs],
    )

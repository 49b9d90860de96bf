"""The workflow manifest (`kind: workflow`), read with a line number for every error.

Its `spec` is createWorkflow's input, field for field (API names), so a manifest means
exactly what the mutation means and the server's checks (names, environments, the
pipeline tree, CEL filters) stay in the catalog service. This module checks the shape
only, and remembers the line of every field so that the server's errors, which name
fields, can be shown with the line too. Like app/policies/manifest.py it loads no ORM:
the CLI runs it before it sends anything.

    apiVersion: v1
    kind: workflow
    spec:
      application: shop
      name: main
      ciPipeline: shop-ci
      cdPipelines:
        - environment: staging
          trigger: AUTOMATIC
        - environment: prod
          parentEnvironment: staging
          deploymentApprovalCount: 1
          gitTarget:                      # optional: deploy by committing to Git
            repository: https://git.example.com/shop/deploy.git
            branch: main
            path: envs/prod/kustomization.yaml
            edit: KUSTOMIZE
            image: registry.example.com/shop
            credential: gitops
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import Node

from app.catalog.git_target import GitEdit
from app.manifests import (
    boolean,
    check_kind,
    child,
    compose,
    error,
    integer,
    line_of,
    only_keys,
    optional_child,
    sequence,
    string,
)

KIND = "workflow"
SPEC_FIELDS = ("application", "name", "ciPipeline", "cdPipelines")
TRIGGERS = ("AUTOMATIC", "MANUAL")
GIT_EDITS = tuple(edit.value for edit in GitEdit)
# Each optional field of a CD pipeline and how its YAML value is read.
_PIPELINE_FIELDS = {
    "parentEnvironment": string,
    "preStage": boolean,
    "postStage": boolean,
    "trigger": string,
    "deploymentApprovalCount": integer,
    "filterPassCondition": string,
    "filterFailCondition": string,
}
PIPELINE_FIELDS = ("environment", *_PIPELINE_FIELDS, "gitTarget")
# A Git target's keys (GitTargetInput's): each a string; their checks are the server's.
GIT_TARGET_FIELDS = (
    "repository",
    "branch",
    "path",
    "edit",
    "image",
    "key",
    "container",
    "credential",
)
GIT_TARGET_REQUIRED = ("repository", "branch", "path", "edit")
MAX_PIPELINES = 100  # the API's bound on an input list
_LAST_PART = re.compile(r"(\.[^.\[]*|\[\d+\])$")  # ".environment" or "[1]"


@dataclass(frozen=True)
class WorkflowManifest:
    """createWorkflow's `input`, and the manifest line of each of its fields."""

    input: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, api_field: str | None) -> int | None:
        """The line of an input field the server named (`cdPipelines[1].environment`), or of
        the nearest enclosing field it has a line for."""
        while api_field:
            if api_field in self.lines:
                return self.lines[api_field]
            shorter = _LAST_PART.sub("", api_field)
            if shorter == api_field:
                break
            api_field = shorter
        return None


def read(text: str) -> WorkflowManifest:
    """The workflow a manifest describes, or an INVALID_MANIFEST error naming line and field."""
    root = compose(text)
    check_kind(root, KIND)
    only_keys(root, ("apiVersion", "kind", "spec"), "")
    spec = child(root, "spec", "")
    only_keys(spec, SPEC_FIELDS, "spec")
    lines: dict[str, int] = {}

    def take(node: Node, api_field: str) -> Node:
        lines[api_field] = line_of(node)
        return node

    workflow: dict[str, Any] = {
        name: string(take(child(spec, name, "spec"), name), f"spec.{name}")
        for name in ("application", "name", "ciPipeline")
    }
    items = sequence(take(child(spec, "cdPipelines", "spec"), "cdPipelines"), "spec.cdPipelines")
    if len(items) > MAX_PIPELINES:
        raise error(
            f"spec.cdPipelines may list at most {MAX_PIPELINES} pipelines",
            "spec.cdPipelines",
            items[MAX_PIPELINES],
        )
    pipelines = []
    for i, item in enumerate(items):
        at = f"cdPipelines[{i}]"
        take(item, at)
        only_keys(item, PIPELINE_FIELDS, f"spec.{at}")
        pipeline: dict[str, Any] = {
            "environment": string(
                take(child(item, "environment", f"spec.{at}"), f"{at}.environment"),
                f"spec.{at}.environment",
            )
        }
        for name, read_value in _PIPELINE_FIELDS.items():
            node = optional_child(item, name, f"spec.{at}")
            if node is not None:
                pipeline[name] = read_value(take(node, f"{at}.{name}"), f"spec.{at}.{name}")
        target = optional_child(item, "gitTarget", f"spec.{at}")
        if target is not None:
            pipeline["gitTarget"] = _git_target(take(target, f"{at}.gitTarget"), at, take)
        if pipeline.get("trigger", "MANUAL") not in TRIGGERS:
            raise error(
                f"spec.{at}.trigger must be AUTOMATIC or MANUAL",
                f"spec.{at}.trigger",
                child(item, "trigger", f"spec.{at}"),
            )
        pipelines.append(pipeline)
    workflow["cdPipelines"] = pipelines
    return WorkflowManifest(input=workflow, lines=lines)


def _git_target(node: Node, at: str, take: Callable[[Node, str], Node]) -> dict[str, str]:
    """A pipeline's `gitTarget` mapping, as GitTargetInput (edit upper-cased, as the
    enum's values are)."""
    path = f"spec.{at}.gitTarget"
    only_keys(node, GIT_TARGET_FIELDS, path)
    target: dict[str, str] = {}
    nodes: dict[str, Node] = {}
    for name in GIT_TARGET_FIELDS:
        found = (child if name in GIT_TARGET_REQUIRED else optional_child)(node, name, path)
        if found is not None:
            nodes[name] = take(found, f"{at}.gitTarget.{name}")
            target[name] = string(nodes[name], f"{path}.{name}")
    edit = target["edit"].upper().replace("-", "_")
    if edit not in GIT_EDITS:
        raise error(
            f"{path}.edit must be one of {', '.join(GIT_EDITS)}", f"{path}.edit", nodes["edit"]
        )
    target["edit"] = edit
    return target

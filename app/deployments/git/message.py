"""The commit message of a git deployment: HOIST_GIT_COMMIT_MESSAGE, then trailers that
link the commit back to Hoist (`git interpret-trailers --parse` reads them).

Placeholders: {application}, {environment}, {image} (the full reference), {tag} (its tag,
or its digest when it has none), {deployment} (the deployment's API id), {request} (the
promotion request's API id, or "none"), {approvers} (the emails of the request's
approvers, comma-separated, or "none"), {deployer} (who deployed: an email, or "hoist"
for an AUTOMATIC trigger). A literal `\\n` in the setting is a line break.

Trailers: `Hoist-Request: <id>` (when the image came by promotion) and
`Hoist-Deployment: <id>`, the ids the API gives (`node(id:)` finds them).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from app.images import digest_of, split_reference

PLACEHOLDERS = (
    "application",
    "environment",
    "image",
    "tag",
    "deployment",
    "request",
    "approvers",
    "deployer",
)


class TemplateError(Exception):
    """HOIST_GIT_COMMIT_MESSAGE cannot be filled in."""


@dataclass(frozen=True)
class CommitFacts:
    application: str
    environment: str
    image: str
    deployment: str
    request: str | None
    approvers: tuple[str, ...]
    deployer: str | None


def commit_message(template: str, facts: CommitFacts) -> str:
    """The message: the template filled in, a blank line, the trailers."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise TemplateError(f"HOIST_GIT_COMMIT_MESSAGE is not a template: {exc}") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise TemplateError(
            f"HOIST_GIT_COMMIT_MESSAGE: unknown placeholder {{{unknown[0]}}}; "
            f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        )
    values = {
        "application": facts.application,
        "environment": facts.environment,
        "image": facts.image,
        "tag": split_reference(facts.image)[1] or digest_of(facts.image),
        "deployment": facts.deployment,
        "request": facts.request or "none",
        "approvers": ", ".join(facts.approvers) or "none",
        "deployer": facts.deployer or "hoist",
    }
    body = template.replace("\\n", "\n").format_map(values).strip()
    trailers = [f"Hoist-Request: {facts.request}"] if facts.request else []
    trailers.append(f"Hoist-Deployment: {facts.deployment}")
    return f"{body}\n\n" + "\n".join(trailers) + "\n"

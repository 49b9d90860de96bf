"""A CD pipeline's Git target: where the `git` executor writes the image it deploys.

GitOps tools (Argo CD, Flux) deploy whatever image a Git repository declares; a pipeline
with a Git target makes each Hoist deployment a commit to that repository
(app/deployments/git). The target is the pipeline's configuration, kept with it as JSON
(`cd_pipelines.git_target`), and checked here, where the catalog service and the
manifest reader find it. It never holds a secret: `credential` names one the server reads
from its own settings (HOIST_GIT_CREDENTIALS_DIR), so the database, the API and the audit
log carry the name only.

    repository: https://git.example.com/shop/deploy.git   (or ssh://, file://, a path)
    branch: main
    path: envs/prod/kustomization.yaml
    edit: KUSTOMIZE | HELM_VALUES | MANIFEST
    image: registry.example.com/shop      KUSTOMIZE: the `images:` entry's name
    key: image.tag                        HELM_VALUES: the dotted key path of the value
    container: shop                       MANIFEST: the container whose `image:` is set
    credential: gitops                    optional: a file in HOIST_GIT_CREDENTIALS_DIR
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from app import limits
from app.errors import DomainError, validation


class GitEdit(StrEnum):
    KUSTOMIZE = "KUSTOMIZE"  # the `images:` entry of a kustomization.yaml
    HELM_VALUES = "HELM_VALUES"  # a value at a dotted key path of a Helm values file
    MANIFEST = "MANIFEST"  # a container's `image:` in a Kubernetes manifest


# What each edit needs besides repository, branch and path.
REQUIRED = {GitEdit.KUSTOMIZE: "image", GitEdit.HELM_VALUES: "key", GitEdit.MANIFEST: "container"}

_SCHEMES = ("https", "http", "ssh", "file")
# A branch name git accepts (git check-ref-format, simplified to what is safe to pass on).
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,255}(?<![./])$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # its length: limits.NAME
_LONGEST = {
    "repository": limits.GIT_REPO,
    "branch": limits.GIT_BRANCH,
    "path": limits.GIT_PATH,
    "image": limits.IMAGE,
    "key": limits.GIT_KEY,
    "container": limits.NAME,
    "credential": limits.NAME,
}
_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,19}$")


@dataclass(frozen=True)
class GitTarget:
    repository: str
    branch: str
    path: str
    edit: GitEdit
    image: str | None = None
    key: str | None = None
    container: str | None = None
    credential: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, GitEdit) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> GitTarget | None:
        if not data:
            return None
        return cls(**{**data, "edit": GitEdit(data["edit"])})


def check(target: GitTarget, at: str) -> list[DomainError]:
    """Every problem of `target`, each naming its field under `at` (e.g.
    `cdPipelines[1].gitTarget`); empty when it can be saved."""
    errors: list[DomainError] = []
    for name, most in _LONGEST.items():
        value = getattr(target, name)
        if value is not None and (error := limits.check_text(value, f"{at}.{name}", most)):
            errors.append(error)
    if errors:
        return errors
    if message := repository_problem(target.repository):
        errors.append(validation(message, f"{at}.repository"))
    if not _BRANCH.match(target.branch):
        errors.append(validation(f"branch {target.branch!r} is not a branch name", f"{at}.branch"))
    parts = target.path.split("/")
    if not target.path or target.path.startswith("/") or ".." in parts or "" in parts:
        errors.append(
            validation(
                "path must be a file's path inside the repository (no leading /, no ..)",
                f"{at}.path",
            )
        )
    needed = REQUIRED[target.edit]
    if not getattr(target, needed):
        errors.append(validation(f"edit {target.edit.value} needs {needed}", f"{at}.{needed}"))
    if target.key is not None and not _KEY.match(target.key):
        errors.append(validation("key must be a dotted path of names, e.g. image.tag", f"{at}.key"))
    if target.credential is not None and not _NAME.match(target.credential):
        errors.append(
            validation(
                "credential must name a file of HOIST_GIT_CREDENTIALS_DIR (letters, digits, . _ -)",
                f"{at}.credential",
            )
        )
    return errors


def repository_problem(url: str) -> str | None:
    """Why `url` cannot be a target's repository; None when it can. A URL that carries a
    password or token is refused: secrets go in HOIST_GIT_CREDENTIALS_DIR, never in the
    database or the API."""
    if url.startswith("/"):
        return None  # a local path (a repository on this host or a mounted volume)
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        return "repository must be an https://, ssh:// or file:// URL, or an absolute path"
    if parts.password is not None or (parts.scheme.startswith("http") and parts.username):
        return (
            "repository must not carry credentials; name a credential (a file of "
            "HOIST_GIT_CREDENTIALS_DIR) instead"
        )
    if parts.scheme != "file" and not parts.hostname:
        return "repository must name a host"
    return None

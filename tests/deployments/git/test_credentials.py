"""An https remote that needs a password (git http-backend behind Basic auth): with a
wrong token the deployment fails, with the right one it succeeds, and the token is in no
log line, no Deployment.error, no argv and nothing the working copy keeps."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.settings import Settings
from tests.conftest import People
from tests.deployments.git.conftest import deploy_promoted, gitops_world, target_for
from tests.support.git_http import git_http_server
from tests.support.git_remote import Remote
from tests.support.graphql import GraphQLClient

TOKEN = "glpat-s3cr3t-T0ken-4711"
WRONG = "not-the-token-0815"


async def test_no_credential_appears_in_logs_or_errors(
    gql: GraphQLClient,
    people: People,
    admin: str,
    remote: Remote,
    git_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert git_settings.git_credentials_dir is not None
    secret = git_settings.git_credentials_dir / "forge"
    with git_http_server(remote.path.parent, "deployer", TOKEN) as server:
        url = server.url(remote.path.name)
        world = await gitops_world(
            gql, people, admin, target_for(url, credential="forge"), approvals=0
        )
        secret.write_text(f"deployer:{WRONG}\n")
        with caplog.at_level(logging.DEBUG):
            refused = await deploy_promoted(world, "1.0")
            secret.write_text(f"deployer:{TOKEN}\n")
            accepted = await deploy_promoted(world, "1.1")
    assert refused.status == "FAILED" and refused.error is not None
    assert "Authentication failed" in refused.error, refused.error
    assert accepted.status == "SUCCEEDED", accepted.error
    assert accepted.commit_repository == url and accepted.commit_sha == remote.head()
    assert 'newTag: "1.1"' in remote.show("deploy/kustomization.yaml")
    # The server saw both tokens: git sent them, through Hoist's askpass only.
    assert any(WRONG in _basic(a) for a in server.authorizations)
    assert any(TOKEN in _basic(a) for a in server.authorizations)
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "deployment" in logged  # the executor did log
    for word in (TOKEN, WRONG):
        assert word not in logged
        assert word not in (refused.error or "")
        assert not _files_holding(git_settings.git_workdir, word)


def _basic(header: str) -> str:
    import base64

    return base64.b64decode(header.removeprefix("Basic ")).decode()


def _files_holding(folder: Path | None, word: str) -> list[Path]:
    assert folder is not None
    return [p for p in folder.rglob("*") if p.is_file() and word.encode() in p.read_bytes()]

"""README "Verifying a promotion record", followed exactly against the real server: the
commands that fetch the envelope (`hoist get attestation`) and the key (curl), then the
Python and the openssl recipes, which accept the record and refuse it once one byte of
its payload or signature changes; and `hoist update imagePromotionPolicy --enforcement`."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.runner import failed, hoist, succeeded
from tests.support.live_server import LiveServer, live_server
from tests.support.waiting import eventually

__all__ = ["live_server"]

README = Path(__file__).parents[2] / "README.md"
SECTION = README.read_text().split("### Verifying a promotion record", 1)[1].split("\n## ", 1)[0]
FETCH, PYTHON, OPENSSL = (
    re.findall(r"```sh\n(.*?)```", SECTION, re.S)[0],
    re.search(r"<!-- verify-python -->\n```python\n(.*?)```", SECTION, re.S).group(1),  # type: ignore[union-attr]
    re.search(r"<!-- verify-openssl -->\n```sh\n(.*?)```", SECTION, re.S).group(1),  # type: ignore[union-attr]
)
DIGEST = "ab" * 32


def graphql(server: LiveServer, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.fixture(scope="module")
def request_id(live_server: LiveServer) -> str:
    """A request promoted by the server's embedded worker."""
    graphql(
        live_server,
        """mutation {
          a: createApplication(name: "shop") { errors { message } }
          e: createEnvironment(name: "prod", production: true) { errors { message } }
          w: createWorkflow(input: {application: "shop", name: "main", ciPipeline: "ci",
              cdPipelines: [{environment: "prod"}]}) { errors { message } }
          p: createPromotionPolicy(input: {name: "fast-lane"}) { errors { message } }
          b: applyPromotionPolicy(policy: "fast-lane",
              applicationEnvironments: [{appName: "shop", envName: "prod"}]) {
              errors { message } }
        }""",
    )
    image = graphql(
        live_server,
        """mutation($digest: String) { registerImage(input: {application: "shop",
             workflow: "main", image: "registry.example.com/shop:1.0", digest: $digest}) {
             image { id } errors { message } } }""",
        {"digest": f"sha256:{DIGEST}"},
    )["registerImage"]["image"]["id"]
    [result] = graphql(
        live_server,
        """mutation($image: ID!) { promoteImage(imageId: $image, source: {type: CI},
             targetEnvironments: ["prod"]) { results { outcome request { id } } } }""",
        {"image": image},
    )["promoteImage"]["results"]
    assert result["outcome"] == "PROMOTING"
    rid = str(result["request"]["id"])

    def promoted() -> bool:
        query = "query($id: ID!) { promotionRequest(id: $id) { status } }"
        status = graphql(live_server, query, {"id": rid})["promotionRequest"]["status"]
        return bool(status == "PROMOTED")

    eventually(promoted, "the embedded worker promoting the request")
    return rid


def run(
    script: str, folder: Path, server: LiveServer, request: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **server.env(REQUEST=request),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def verify_python(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PYTHON],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tamper(folder: Path, field: str) -> None:
    """One byte of the envelope's payload or signature changed."""
    path = folder / "envelope.json"
    envelope = json.loads(path.read_text())
    holder = envelope if field == "payload" else envelope["signatures"][0]
    key = "payload" if field == "payload" else "sig"
    data = bytearray(base64.b64decode(holder[key]))
    data[len(data) // 2] ^= 0x01
    holder[key] = base64.b64encode(bytes(data)).decode()
    path.write_text(json.dumps(envelope))


def test_the_readme_recipes_and_the_cli_on_a_promoted_request(
    live_server: LiveServer, request_id: str, tmp_path: Path
) -> None:
    fetched = run(FETCH, tmp_path, live_server, request_id)
    assert fetched.returncode == 0, fetched.stderr
    envelope = json.loads((tmp_path / "envelope.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert (tmp_path / "hoist-signing-key.pem").read_text().startswith("-----BEGIN PUBLIC KEY")
    # The server made its key at first start, in its data folder, readable by it alone.
    key_file = live_server.data_dir / "hoist-signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    python = verify_python(tmp_path)
    assert python.returncode == 0, python.stderr
    assert python.stdout.split() == [DIGEST, "prod"]
    openssl = run(OPENSSL, tmp_path, live_server, request_id)
    assert openssl.returncode == 0, openssl.stderr
    assert openssl.stdout.strip() == "Verified OK"

    original = (tmp_path / "envelope.json").read_text()
    for field in ("payload", "sig"):
        (tmp_path / "envelope.json").write_text(original)
        tamper(tmp_path, field)
        python = verify_python(tmp_path)
        assert python.returncode != 0 and "InvalidSignature" in python.stderr, field
        openssl = run(OPENSSL, tmp_path, live_server, request_id)
        assert openssl.returncode != 0 and "Verified OK" not in openssl.stdout, field

    # The CLI's side here too: one test, so the module starts one server whatever the -n.
    check_the_cli(live_server, request_id, tmp_path)


def check_the_cli(live_server: LiveServer, request_id: str, tmp_path: Path) -> None:
    """`hoist get attestation` (which the recipe ran already) and `--enforcement`."""
    envelope = json.loads(succeeded(hoist(live_server, tmp_path, "get", "attestation", request_id)))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicate"]["requestId"] == request_id
    # No such request: refused, exit 1, no traceback.
    failed(
        hoist(live_server, tmp_path, "get", "attestation", "UHJvbW90aW9uUmVxdWVzdDo5OTk="),
        1,
        "no promotion request",
    )
    changed = json.loads(
        succeeded(
            hoist(
                live_server,
                tmp_path,
                "update",
                "imagePromotionPolicy",
                "--name=fast-lane",
                "--enforcement=warn",
                "--output=json",
            )
        )
    )
    assert (changed["enforcement"], changed["version"]) == ("WARN", 2)
    failed(
        hoist(
            live_server,
            tmp_path,
            "update",
            "imagePromotionPolicy",
            "--name=fast-lane",
            "--enforcement=maybe",
        ),
        2,
        "--enforcement must be ENFORCE or WARN",
    )

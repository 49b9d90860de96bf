"""The README's tour (examples/tour.sh) runs as written against a real `hoist serve`: from an
empty server to a promoted, approved and deployed image whose history names its origin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from app.ids import global_id
from tests.support.live_server import HOIST, running_server

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "examples" / "tour.sh"

HISTORY = """query History { deploymentHistory(application: "shop", environment: "prod") {
  edges { node { status image { image } deployedBy { email }
    promotedFrom { sourceType sourceEnvironment approvers { email } } } } } }"""


def test_the_tour_ends_in_a_promoted_deployment(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        env = server.env(HOIST=str(HOIST))
        del env["HOIST_TOKEN"]  # the tour bootstraps its own admin, as a reader would
        result = subprocess.run(
            ["bash", str(TOUR)],
            env=env,
            cwd=server.data_dir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        answer = httpx.post(
            f"{server.url}/graphql",
            json={"query": HISTORY},
            headers={"Authorization": f"Bearer {server.token}"},
        ).json()
    deployments = [edge["node"] for edge in answer["data"]["deploymentHistory"]["edges"]]
    assert deployments == [
        {
            "status": "SUCCEEDED",
            "image": {"image": "registry.example.com/shop:1.4.2"},
            "deployedBy": {"email": "dev@example.com"},
            "promotedFrom": {
                "sourceType": "CI",
                "sourceEnvironment": None,
                "approvers": [{"email": "lead@example.com"}],
            },
        }
    ]
    # The history names the request by its global id, as the tour printed it at step 6.
    request = global_id("PromotionRequest", 1)
    assert f"\nrequest {request}\n" in result.stdout
    assert f"from CI (request {request}; lead@example.com)" in result.stdout

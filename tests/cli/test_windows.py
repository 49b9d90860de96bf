"""`hoist create promotionWindow`, `hoist get windows`, `hoist apply window -p=FILE` and
promoting through a closed window, against one real `hoist serve` (issue 16 item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.runner import as_json, failed, hoist, succeeded
from tests.support.live_server import LiveServer

WORKFLOW = """\
apiVersion: v1
kind: workflow
spec:
  application: win-app
  name: main
  ciPipeline: win-app-ci
  cdPipelines:
    - environment: win-prod
"""

WINDOW = """\
apiVersion: v1
kind: promotionWindow
spec:
  window:
    name: win-freeze
    kind: DENY
    timeZone: UTC
    dateRanges:
      - start: "{start}"
        end: "{end}"
  payload:
    applyToWindowName: win-freeze
    applicationEnvironments:
      - appName: win-app
        envName: win-prod
"""


def _local(instant: datetime) -> str:
    return instant.replace(tzinfo=None).isoformat(timespec="seconds")


def test_windows_from_the_command_line(live_server: LiveServer, tmp_path: Path) -> None:
    run = lambda *args, **env: hoist(live_server, tmp_path, *args, **env)  # noqa: E731
    succeeded(run("create", "application", "--name=win-app"))
    succeeded(run("create", "environment", "--name=win-prod", "--production=true"))
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    succeeded(run("apply", "-f", "workflow.yaml"))

    # A weekly freeze, created from flags; a bad rule is refused, naming the field.
    created = as_json(
        run(
            "create",
            "promotionWindow",
            "--name=win-weekend",
            "--kind=DENY",
            "--timeZone=Europe/Paris",
            "--rrule=FREQ=WEEKLY;BYDAY=FR;BYHOUR=16",
            "--duration=64h",
            "-o",
            "json",
        )
    )
    assert (created["kind"], created["timeZone"], created["duration"]) == (
        "DENY",
        "Europe/Paris",
        "2d16h",
    )
    failed(
        run(
            "create",
            "promotionWindow",
            "--name=win-bad",
            "--kind=DENY",
            "--timeZone=Europe/Paris",
            "--rrule=FREQ=MINUTELY",
            "--duration=1h",
        ),
        1,
        "FREQ must be YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY",
        "field rrule",
    )
    failed(
        run("create", "promotionWindow", "--name=win-bad", "--kind=DENY", "--timeZone=Mars/Base"),
        1,
        "is not an IANA time zone",
        "field timeZone",
    )
    failed(
        run(
            "create",
            "promotionWindow",
            "--name=win-bad",
            "--kind=SOMETIMES",
            "--timeZone=UTC",
        ),
        2,
        "--kind must be DENY or ALLOW",
    )

    # A freeze from an hour ago to tomorrow, defined and applied by one manifest.
    now = datetime.now(UTC)
    path = tmp_path / "window.yaml"
    good = WINDOW.format(
        start=_local(now - timedelta(hours=1)), end=_local(now + timedelta(days=1))
    )
    path.write_text(good.replace("    timeZone: UTC\n", "    timeZone: UTC\n    color: red\n"))
    failed(
        run("apply", "window", f"-p={path}"), 1, "unknown field 'color' in spec.window", "line 8"
    )
    path.write_text(good.replace("envName: win-prod", "envName: win-qa"))
    failed(
        run("apply", "window", f"-p={path}"),
        1,
        "no environment named 'win-qa'",
        "field spec.payload.applicationEnvironments[0].envName",
    )
    # All or nothing: the window the refused manifest defined was not kept.
    names = [w["name"] for w in as_json(run("get", "windows", "-o", "json"))]
    assert names == ["win-weekend"]
    path.write_text(good)
    assert succeeded(run("apply", "window", f"-p={path}")) == (
        "applied window win-freeze to win-app/win-prod\n"
    )
    assert as_json(run("apply", "-f", str(path), "-o", "json")) == [
        {"appName": "win-app", "envName": "win-prod", "windowName": "win-freeze"}
    ]
    shown = succeeded(run("get", "window", "win-freeze"))
    assert "closed, opens at" in shown and "win-app/win-prod" in shown

    # Promoting to the frozen pair queues the request; break glass asks for an approval.
    succeeded(run("create", "imagePromotionPolicy", "--name=win-policy"))
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: v1\nkind: artifactPromotionPolicy\nspec:\n  payload:\n"
        "    applyToPolicyName: win-policy\n    applicationEnvironments:\n"
        "      - appName: win-app\n        envName: win-prod\n"
    )
    succeeded(run("apply", "policy", f"-p={policy}"))
    image = succeeded(
        run(
            "register",
            "image",
            "--application=win-app",
            "--workflow=main",
            "--image=registry.example.com/win:1",
            "-o",
            "id",
        )
    ).strip()
    queued = succeeded(run("promote", f"--image={image}", "--to=win-prod"))
    assert queued.startswith("win-prod: QUEUED (request ")
    assert "the promotion window is closed (win-freeze)" in queued
    other = succeeded(
        run(
            "register",
            "image",
            "--application=win-app",
            "--workflow=main",
            "--image=registry.example.com/win:2",
            "-o",
            "id",
        )
    ).strip()
    glass = succeeded(
        run("promote", f"--image={other}", "--to=win-prod", "--breakGlass=payments are down")
    )
    assert "AWAITING_APPROVAL" in glass and "1 approval(s) (break glass)" in glass

    # Without the freeze, the embedded worker's sweep promotes the queued request.
    request_id = queued.split("(request ", 1)[1].split(")", 1)[0]
    succeeded(run("delete", "window", "win-freeze"))
    assert [w["name"] for w in as_json(run("get", "windows", "-o", "json"))] == ["win-weekend"]
    succeeded(run("wait", "request", request_id, "--for", "PROMOTED", "--timeout", "90"))

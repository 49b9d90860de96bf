"""The CLI side of issue 16's policy fields: time limits, approval age, reminders and the
break-glass count, set on create and update and shown back."""

from __future__ import annotations

from pathlib import Path

from tests.cli.runner import as_json, failed, hoist
from tests.support.live_server import LiveServer


def test_lifecycle_fields_are_set_shown_and_checked(
    live_server: LiveServer, tmp_path: Path
) -> None:
    run = lambda *args: hoist(live_server, tmp_path, *args)  # noqa: E731
    created = as_json(
        run(
            "create",
            "imagePromotionPolicy",
            "--name=timed-policy",
            "--requestTimeout=72h",
            "--approvalMaxAge=90m",
            "--remindAfter=8h",
            "--maxReminders=3",
            "--breakGlassApproverCount=2",
            "-o",
            "json",
        )
    )
    assert {k: created[k] for k in ("requestTimeout", "approvalMaxAge", "remindAfter")} == {
        "requestTimeout": "3d",
        "approvalMaxAge": "1h30m",
        "remindAfter": "8h",
    }
    assert (created["maxReminders"], created["breakGlassApproverCount"]) == (3, 2)

    # "" drops a limit; the others stay as they were.
    patch = ("update", "imagePromotionPolicy", "--name=timed-policy")
    updated = as_json(run(*patch, "--requestTimeout=", "--maxReminders=0", "-o", "json"))
    assert updated["requestTimeout"] is None and updated["maxReminders"] == 0
    assert updated["remindAfter"] == "8h"

    failed(run(*patch, "--remindAfter=soon"), 1, "VALIDATION", "field remindAfter")
    failed(run(*patch, "--remindAfter=1m"), 1, "between 5m and 30d", "field remindAfter")
    failed(run(*patch, "--maxReminders=many"), 2, "--maxReminders must be a whole number")

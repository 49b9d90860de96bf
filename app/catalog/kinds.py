"""The catalog's enumerations: pure, so the CLI (an HTTP client, no ORM) shares them with
the models instead of spelling them again."""

from __future__ import annotations

from enum import StrEnum


class Trigger(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


class Stage(StrEnum):
    PRE = "PRE"
    DEPLOY = "DEPLOY"
    POST = "POST"


class StageStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

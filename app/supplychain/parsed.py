"""What reading one evidence document yields, whatever its type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.dsse import PublicKey

# Registered keys as the parsers see them: (name, public key).
Keys = list[tuple[str, PublicKey]]


@dataclass(frozen=True)
class Parsed:
    """The summary kept for conditions and the dashboard, and what binds it to an image."""

    format: str  # cosign, trivy, grype, in-toto, cyclonedx, spdx
    digests: list[str]  # every image digest the document names
    digest_field: str  # where it names them (for the refusal's message)
    summary: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    key_name: str | None = None

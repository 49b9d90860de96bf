"""How hard the fuzz tests try: modest by default (the suite stays fast), deeper on demand.

`HOIST_FUZZ_SCALE=20 make test PYTEST_ARGS=tests/fuzz` runs twenty times the examples.
"""

from __future__ import annotations

import os

SCALE = max(1, int(os.environ.get("HOIST_FUZZ_SCALE", "1")))


def examples(count: int) -> int:
    """`count` examples, times the scale asked for."""
    return count * SCALE

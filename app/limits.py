"""Size limits of client input: one table for the services, the schema and the tests.

Every free-text field and every input list a client sends is bounded here. Services check
these first, before any lookup or evaluation, so a 5 MB comment or 30,000 targets is
refused at the cost of a `len()`; the GraphQL descriptions quote the same constants (via
`text_note` / `list_note`), and tests/graphql/test_input_limits.py walks the schema so a
new list or text argument without a limit fails. Lengths count characters (code points),
except the manifest's, which counts UTF-8 bytes like the HTTP body.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import DomainError, validation

# Every input list: targetEnvironments, requestIds, applicationEnvironments, labels,
# gitCommits, cdPipelines, status. 100 is more than any real use (a workflow has a handful
# of environments) and little enough that one request's work stays small.
MAX_ITEMS = 100
# A page of a connection (`first`).
MAX_PAGE = 100

# Names of applications, environments, workflows and policies (their columns' size).
NAME = 50
# An object id (app/ids.py): base64 of the longest type name, ':' and a 10-digit row id
# is 40 characters; anything longer is no id this API gave out.
ID = 64
# Free text people write. Comments and reasons are copied into every notification email
# about the request, so they are kept to a few paragraphs.
COMMENT = 2_000
REASON = 2_000
DESCRIPTION = 300
USER_NAME = 100
EMAIL = 254  # RFC 5321's limit on a forward path
TOKEN_NAME = 100
CI_PIPELINE = 100
# What CI sends with an image (the image and digest columns' size).
IMAGE = 500
DIGEST = 100
LABEL = 100
GIT_REPO = 500
GIT_BRANCH = 255  # git's own limit on a ref name component
GIT_COMMIT_HASH = 100  # a SHA-256 object name is 64 hex digits
GIT_COMMIT_MESSAGE = 4_000
GIT_AUTHOR = 400  # "Name <email>"
GIT_PATH = 1_000  # a file's path in a Git target's repository
GIT_KEY = 200  # a Helm values key path (image.tag)
# CEL condition text. Only the length is checked here, before the text reaches the CEL
# parser; app/cel/__init__.py bounds what a condition may cost beyond that.
CONDITION = 2_000
# A webhook endpoint's URL, and a secret given for it (a generated one is 43 characters).
URL = 2_000
WEBHOOK_SECRET = 200
# A duration as written (`72h`, `1h30m`): app/durations.py refuses a longer text unread.
DURATION = 32
# Promotion windows: an RFC 5545 RRULE's text (a real one is under 100 characters; the
# parser's work grows with it), an IANA zone name, a local ISO date-time.
RRULE = 500
TIME_ZONE = 64
LOCAL_TIME = 32
# A YAML manifest (policy: applyPolicyManifest and the CLI; workflow: the CLI), in UTF-8
# bytes. A real one (100 pairs) is under 10 KB; PyYAML composes about 250 KB a second
# here, on the event loop, so the former 1 MB held the server for 4 s.
MANIFEST_BYTES = 64 * 1024
# An evidence document (attachEvidence), in UTF-8 bytes: HOIST_MAX_EVIDENCE_BYTES' default.
# A Trivy report of a large image is a few hundred KB; the request body must hold it.
EVIDENCE_BYTES = 512 * 1024


def text_note(max_len: int) -> str:
    """The sentence a schema description carries for a text field."""
    return f"At most {max_len} characters."


def list_note(max_items: int = MAX_ITEMS, item_len: int | None = None) -> str:
    """The sentence a schema description carries for a list argument."""
    each = f", each at most {item_len} characters" if item_len is not None else ""
    return f"At most {max_items} items{each}."


def check_text(value: str | None, field: str, max_len: int) -> DomainError | None:
    """A VALIDATION error naming `field` when `value` is longer than `max_len` characters."""
    if value is None or len(value) <= max_len:
        return None
    # The value is not echoed: it may be megabytes long.
    return validation(f"{field} may be at most {max_len} characters long (got {len(value)})", field)


def check_list(
    values: Sequence[object] | None,
    field: str,
    max_items: int = MAX_ITEMS,
    *,
    item_len: int | None = None,
) -> DomainError | None:
    """A VALIDATION error naming `field` (or `field[i]`) for a list that is too long, or,
    with `item_len`, whose first too-long string item is `field[i]`."""
    if values is None:
        return None
    if len(values) > max_items:
        return validation(f"{field} may hold at most {max_items} items (got {len(values)})", field)
    if item_len is not None:
        for i, item in enumerate(values):
            if isinstance(item, str) and (error := check_text(item, f"{field}[{i}]", item_len)):
                return error
    return None


def refuse(*errors: DomainError | None) -> None:
    """Raise the first error given, if any. For doors whose answer to bad input is one
    top-level error (promoteImage, the decisions, promotionPreview): graphql-core shows
    one exception per field, and DomainErrors would be masked there as a crash."""
    for error in errors:
        if error is not None:
            raise error

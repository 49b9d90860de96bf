"""What no log line or span may carry: secrets scrubbed from text and from named fields.

A safety net. Hoist's own code logs no API token, email-link token, password or email
body on purpose; this catches one that slips in anyway: an exception's message, an
access-log line with a path or query string, a library's debug output, a field passed
with `extra=`. Scrubbed text keeps its shape (`Bearer <token>`, `sig=<redacted>`), so a
reader still sees that something was there.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from app.accounts.tokens import PREFIX as API_TOKEN_PREFIX

REDACTED = "<redacted>"

# The characters a secret may be made of in the places below: never a quote, backslash or
# separator, so scrubbing a JSON log line leaves it valid JSON.
_SECRET = r"[^\s\"'\\&#,;<>]+"

# An email link's token, in its path (app/notifications/links.py): until it is used or
# expires, a link is a credential, and a log reader must not be able to use it.
_LINK_TOKEN = re.compile(r"(/email/(?:approve|reject)/)[^/?\s\"'\\<>]+")


def hide_link_tokens(text: str) -> str:
    """`/email/approve/<token>` for every email link in `text`."""
    return _LINK_TOKEN.sub(r"\1<token>", text)


_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # An Authorization header's credentials, wherever the header is quoted.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2<token>"),
    # An API token secret (app/accounts/tokens.py: the prefix and 43 URL-safe characters).
    (re.compile(re.escape(API_TOKEN_PREFIX) + r"[A-Za-z0-9_-]{20,}"), "<token>"),
    (_LINK_TOKEN, r"\1<token>"),
    # Secret-looking query parameters and key=value pairs.
    (
        re.compile(
            r"(?i)\b((?:sig|signature|token|access_token|refresh_token|password|passwd|pwd|"
            r"secret|secret_key|api_key|apikey|key)=)" + _SECRET
        ),
        r"\1" + REDACTED,
    ),
    # A password in a URL: scheme://user:password@host.
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s\"'\\]*:)[^@/\s\"'\\]+@"), r"\1***@"),
)

# Fields (passed with `extra=`, or a record attribute a library sets) whose value is
# never shown, by a word in their name.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "authorization", "signature", "cookie")

# A LogRecord's own attributes: never taken for extra fields.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def scrub(text: str) -> str:
    """`text` with every secret-looking part replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def scrub_value(name: str, value: Any) -> Any:
    """A field's value as it may be shown: hidden for a secret's name, scrubbed if text."""
    if is_secret_field(name):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    return value


def scrub_record(record: logging.LogRecord) -> None:
    """Scrub a record in place: its message (arguments merged in first, so a secret passed
    as one is caught) and its extra fields."""
    if record.args or not isinstance(record.msg, str):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that don't fit: shown as logging would
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = message, None
    record.msg = scrub(record.msg)
    for name, value in list(vars(record).items()):
        if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
            setattr(record, name, scrub_value(name, value))

"""Content negotiation of GraphQL answers (GraphQL over HTTP): which of the two JSON media
types a request's Accept header asks for, by its q-values and wildcards (RFC 9110)."""

from __future__ import annotations

import re
from collections.abc import Iterator

# The spec's media type, whose status codes say what happened, and the legacy one (always 200
# once GraphQL answered), which clients that name neither get: curl, httpx and fetch send
# */* by default, and so keep today's answers.
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")  # RFC 9110's grammar


def _media_ranges(accept: str) -> Iterator[tuple[str, float]]:
    """(media range, q) of each entry of an Accept header; other parameters are ignored,
    and an entry whose q is not a number from 0 to 1 accepts nothing."""
    for entry in accept.split(","):
        media_range, *params = (part.strip() for part in entry.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = float(value) if _QVALUE.fullmatch(value.strip()) else 0.0
        yield media_range.lower(), q


def _quality(media_type: str, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The q the most specific range matching `media_type` gives it, and how specific that
    range is: 2 the type itself, 1 `application/*`, 0 `*/*`, -1 no range matches."""
    wildcard = media_type.split("/")[0] + "/*"
    q, specificity = 0.0, -1
    for media_range, range_q in ranges:
        rank = {media_type: 2, wildcard: 1, "*/*": 0}.get(media_range, -1)
        if rank > specificity:
            q, specificity = range_q, rank
    return q, specificity


def negotiate(accept: str) -> str | None:
    """The media type to answer in, by the Accept header's q-values; None: neither is
    acceptable (406). No Accept, or a tie that only a wildcard decides: application/json,
    so existing clients see no change; application/graphql-response+json when it is named
    and preferred, or named and tied."""
    if not accept.strip():
        return JSON
    ranges = list(_media_ranges(accept))
    ours, named = _quality(GRAPHQL_RESPONSE_JSON, ranges)
    legacy, _ = _quality(JSON, ranges)
    if ours == legacy == 0:
        return None
    if ours > legacy or (ours == legacy and named == 2):
        return GRAPHQL_RESPONSE_JSON
    return JSON

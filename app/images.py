"""Image references (`registry/repository:tag`, `repository@sha256:…`): the one place that
knows how a reference splits, for CEL's variables, the API's fields and the `git` executor."""

from __future__ import annotations

import re

SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def split_reference(image: str) -> tuple[str, str]:
    """Split an image reference into (repository, tag); the tag is "" when absent.

    ``registry:5000/team/app:1.2`` -> (``registry:5000/team/app``, ``1.2``);
    ``repo@sha256:…`` -> (``repo``, ``""``); ``repo:tag@sha256:…`` -> (``repo``, ``tag``).
    """
    # A digest never contains '@', and everything after it is the digest, not the tag.
    name = image.strip().split("@", 1)[0]
    colon = name.rfind(":")
    # Only a ':' after the last '/' separates a tag; earlier ones belong to a registry port.
    if colon > name.rfind("/"):
        return name[:colon], name[colon + 1 :]
    return name, ""


def digest_of(image: str) -> str:
    """The digest a reference pins (``sha256:…`` after the ``@``); "" when it pins none."""
    _, at, digest = image.strip().partition("@")
    return digest if at else ""


def sha256_digest(text: str) -> str | None:
    """The sha256 digest `text` names, lower-cased: a bare ``sha256:…`` or the one a
    reference pins; None when it names none (or a malformed one)."""
    candidate = (digest_of(text) or text).strip().lower()
    return candidate if SHA256_DIGEST.fullmatch(candidate) else None


def image_digest(reference: str, recorded: str | None) -> str | None:
    """The digest an image is known by: the one CI registered, else the one its reference
    pins (evidence must name it; a promotion record's subject is it)."""
    return (sha256_digest(recorded) if recorded else None) or sha256_digest(reference)

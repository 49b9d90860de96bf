"""Image references (`registry/repository:tag`, `repository@sha256:…`): the one place that
knows how a reference splits, for CEL's variables, the API's fields and the `git` executor."""

from __future__ import annotations


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

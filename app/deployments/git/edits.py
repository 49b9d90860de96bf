"""The three edits of a Git target, text in, text out (pure: no git, no I/O).

Each returns the file's new text; the same text means the image is already there. A file
that lacks what the target names (the `images:` entry, the key, the container) is an
EditError naming it. The text is spliced, never re-dumped (yamltext.py says why).

- KUSTOMIZE: the `images:` entry whose `name` is the target's image gets `newTag` (or
  `digest`, when the reference pins one; the other key goes) and `newName` (when the
  entry has one, or the repository differs from `name`). A missing entry is an error,
  not added: an entry that matches no image of the kustomization's resources would make
  a commit that deploys nothing, and a misspelt name would look like a success.
- HELM_VALUES: the value at the dotted key becomes the tag (the digest, `sha256:…`, for a
  reference that has no tag). The key must exist.
- MANIFEST: every container (also init and ephemeral containers) named as the target
  says, in any document of the file and at any depth (Deployment, StatefulSet, a
  CronJob's jobTemplate, a List), gets `image:` = the full reference.
"""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from app.catalog.git_target import GitEdit, GitTarget
from app.deployments.git.yamltext import Edit, EditError, get, pairs, scalar_text
from app.images import digest_of, split_reference

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def apply(target: GitTarget, text: str, reference: str) -> str:
    """`text` (the target's file) with the image `reference` written as the target says."""
    if target.edit is GitEdit.KUSTOMIZE:
        assert target.image is not None  # GitTarget.check requires it
        return kustomize(text, target.path, target.image, reference)
    if target.edit is GitEdit.HELM_VALUES:
        assert target.key is not None
        return helm_values(text, target.path, target.key, reference)
    assert target.container is not None
    return manifest(text, target.path, target.container, reference)


def _tag_or_digest(reference: str) -> tuple[str, str]:
    """(tag, digest) of the reference, the digest winning: ("", digest) or (tag, "")."""
    _, tag = split_reference(reference)
    digest = digest_of(reference)
    if not tag and not digest:
        raise EditError(f"image {reference!r} has neither a tag nor a digest to write")
    return ("", digest) if digest else (tag, "")


def _root(edit: Edit) -> MappingNode:
    if not edit.docs or not isinstance(edit.docs[0], MappingNode):
        raise EditError(f"{edit.path} is not a YAML mapping")
    return edit.docs[0]


def kustomize(text: str, path: str, image: str, reference: str) -> str:
    """Set the `images:` entry named `image` of a kustomization to `reference`."""
    repository, _ = split_reference(reference)
    tag, digest = _tag_or_digest(reference)
    edit = Edit(text, path)
    found = get(_root(edit), "images")
    if found is None or not isinstance(found[1], SequenceNode):
        raise EditError(f"{path} has no images: list")
    entries = [
        e
        for e in found[1].value
        if isinstance(e, MappingNode) and (n := get(e, "name")) and scalar_text(n[1]) == image
    ]
    if not entries:
        raise EditError(f"{path} has no images entry named {image!r}")
    for entry in entries:
        if digest:
            _set(edit, entry, "digest", digest, "newTag")
        else:
            _set(edit, entry, "newTag", tag, "digest")
        if get(entry, "newName") is not None or repository != image:
            _set(edit, entry, "newName", repository, None)
    return edit.result()


def _set(edit: Edit, entry: MappingNode, key: str, value: str, instead_of: str | None) -> None:
    """`key: value` in an images entry; the `instead_of` key (newTag or digest) goes."""
    what = f"images entry {key}"
    mine, other = get(entry, key), get(entry, instead_of) if instead_of else None
    if mine is not None:
        edit.set_value(*mine, value, what)
        if other is not None:
            edit.remove_pair(entry, *other, f"images entry {instead_of}")
    elif other is not None:
        edit.replace_pair(*other, key, value, what)
    else:
        edit.add_pair(entry, key, value)


def helm_values(text: str, path: str, key: str, reference: str) -> str:
    """Set the value at the dotted `key` of a Helm values file to the reference's tag."""
    tag, digest = _tag_or_digest(reference)
    edit = Edit(text, path)
    node: Node = _root(edit)
    found: tuple[Node, Node] | None = None
    parts = key.split(".")
    for depth, part in enumerate(parts):
        found = get(node, part)
        if found is None:
            under = f" under {'.'.join(parts[:depth])}" if depth else ""
            raise EditError(f"{path} has no key {key} (no {part!r}{under})")
        node = found[1]
    assert found is not None
    edit.set_value(*found, tag or digest, key)
    return edit.result()


def manifest(text: str, path: str, container: str, reference: str) -> str:
    """Set `image:` of every container named `container` in a manifest to `reference`."""
    edit = Edit(text, path)
    targets = [c for doc in edit.docs for c in _containers(doc) if _named(c, container)]
    if not targets:
        raise EditError(f"{path} has no container named {container!r}")
    for found in targets:
        image = get(found, "image")
        if image is None:
            raise EditError(f"{path}: container {container!r} has no image:")
        edit.set_value(*image, reference, f"container {container} image")
    return edit.result()


def _named(node: MappingNode, name: str) -> bool:
    found = get(node, "name")
    return found is not None and scalar_text(found[1]) == name


def _containers(node: Node) -> list[MappingNode]:
    """Every container mapping under `node`, at any depth, in document order."""
    found: list[MappingNode] = []
    if isinstance(node, MappingNode):
        for k, v in pairs(node):
            if scalar_text(k) in CONTAINER_LISTS and isinstance(v, SequenceNode):
                found.extend(c for c in v.value if isinstance(c, MappingNode))
            else:
                found.extend(_containers(v))
    elif isinstance(node, SequenceNode):
        for item in node.value:
            found.extend(_containers(item))
    return found

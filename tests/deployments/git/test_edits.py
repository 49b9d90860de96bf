"""The edits, text in, text out (no git): each keeps every byte but the image's."""

from __future__ import annotations

import difflib

import pytest

from app.deployments.git import edits
from app.deployments.git.yamltext import EditError
from tests.deployments.git.samples import KUSTOMIZATION, MANIFEST, VALUES

SHOP = "registry.example.com/shop"
DIGEST = "sha256:" + "a" * 64


def changes(before: str, after: str) -> list[str]:
    """The -/+ lines between two texts."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_kustomize_sets_new_tag_in_its_quotes_keeping_the_comment() -> None:
    after = edits.kustomize(KUSTOMIZATION, "k.yaml", SHOP, f"{SHOP}:1.0")
    assert changes(KUSTOMIZATION, after) == [
        '-      newTag: "0.9"    # the tag in production',
        '+      newTag: "1.0"    # the tag in production',
    ]


def test_kustomize_writes_a_digest_instead_of_the_tag() -> None:
    after = edits.kustomize(KUSTOMIZATION, "k.yaml", SHOP, f"{SHOP}@{DIGEST}")
    assert changes(KUSTOMIZATION, after) == [
        '-      newTag: "0.9"    # the tag in production',
        f'+      digest: "{DIGEST}"    # the tag in production',
    ]
    back = edits.kustomize(after, "k.yaml", SHOP, f"{SHOP}:1.1")
    assert changes(KUSTOMIZATION, back) == [
        '-      newTag: "0.9"    # the tag in production',
        '+      newTag: "1.1"    # the tag in production',
    ]


def test_kustomize_removes_the_other_key_and_sets_new_name_for_another_repository() -> None:
    text = "images:\n- name: shop\n  newTag: old\n  digest: sha256:1  # pinned\n"
    after = edits.kustomize(text, "k.yaml", "shop", "mirror.example.com/shop:2.0")
    assert after == 'images:\n- name: shop\n  newTag: "2.0"\n  newName: mirror.example.com/shop\n'
    flow = edits.kustomize(KUSTOMIZATION, "k.yaml", "redis", "mirror.example.com/redis:7.4")
    assert changes(KUSTOMIZATION, flow) == [
        "-    - {name: redis, newTag: '7.2'}",
        "+    - {name: redis, newTag: '7.4', newName: mirror.example.com/redis}",
    ]


def test_helm_values_sets_the_key_to_the_tag_or_the_digest() -> None:
    after = edits.helm_values(VALUES, "values.yaml", "image.tag", f"{SHOP}:1.0")
    assert changes(VALUES, after) == [
        "-  tag: '0.9'  # Hoist sets this",
        "+  tag: '1.0'  # Hoist sets this",
    ]
    pinned = edits.helm_values(VALUES, "values.yaml", "image.tag", f"{SHOP}@{DIGEST}")
    assert f"  tag: '{DIGEST}'  # Hoist sets this" in pinned
    # An empty value, and a plain one that would read as a number unquoted.
    assert edits.helm_values("image:\n  tag:\n  pull: x\n", "v", "image.tag", f"{SHOP}:1.0") == (
        'image:\n  tag: "1.0"\n  pull: x\n'
    )
    assert edits.helm_values("tag: v1  # c\n", "v", "tag", f"{SHOP}:v2") == "tag: v2  # c\n"


def test_manifest_sets_the_container_in_every_document_and_nothing_else() -> None:
    after = edits.manifest(MANIFEST, "m.yaml", "shop", f"{SHOP}:1.0")
    assert changes(MANIFEST, after) == [
        "-          image: registry.example.com/shop:0.9   # the app",
        "+          image: registry.example.com/shop:1.0   # the app",
        '-            image: "registry.example.com/shop:0.9"',
        '+            image: "registry.example.com/shop:1.0"',
    ]
    init = edits.manifest(MANIFEST, "m.yaml", "migrate", f"{SHOP}:1.0")
    assert changes(MANIFEST, init) == [
        "-          image: registry.example.com/shop:0.9   # runs migrations first",
        "+          image: registry.example.com/shop:1.0   # runs migrations first",
    ]


def test_the_image_already_there_gives_the_same_text() -> None:
    assert edits.kustomize(KUSTOMIZATION, "k", SHOP, f"{SHOP}:0.9") == KUSTOMIZATION
    assert edits.helm_values(VALUES, "v", "image.tag", f"{SHOP}:0.9") == VALUES
    assert edits.manifest(MANIFEST, "m", "shop", f"{SHOP}:0.9") == MANIFEST


def test_windows_line_ends_stay() -> None:
    text = "image:\r\n  tag: old\r\n  pull: x\r\n"
    assert edits.helm_values(text, "v", "image.tag", f"{SHOP}:new") == (
        "image:\r\n  tag: new\r\n  pull: x\r\n"
    )
    entry = "images:\r\n- name: a\r\n  newTag: v1\r\n"
    assert edits.kustomize(entry, "k", "a", "b:v2") == (
        "images:\r\n- name: a\r\n  newTag: v2\r\n  newName: b\r\n"
    )


def test_a_tag_plain_yaml_would_read_as_another_type_is_quoted() -> None:
    # `y` is a boolean in YAML 1.1 (Helm and kubectl), `1.10` a number.
    for tag in ("y", "1.10", "null", "0x1F"):
        assert edits.helm_values("tag: v1\n", "v", "tag", f"{SHOP}:{tag}") == f'tag: "{tag}"\n'


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda: edits.kustomize(KUSTOMIZATION, "k.yaml", "nope", "a:1"),
            "no images entry named 'nope'",
        ),
        (lambda: edits.kustomize("kind: Kustomization\n", "k.yaml", "a", "a:1"), "no images: list"),
        (
            lambda: edits.kustomize(KUSTOMIZATION, "k.yaml", SHOP, SHOP),
            "neither a tag nor a digest",
        ),
        (
            lambda: edits.helm_values(VALUES, "values.yaml", "image.nope.tag", "a:1"),
            "values.yaml has no key image.nope.tag (no 'nope' under image)",
        ),
        (lambda: edits.helm_values(VALUES, "values.yaml", "image", "a:1"), "image is a mapping"),
        (lambda: edits.manifest(MANIFEST, "m.yaml", "nope", "a:1"), "no container named 'nope'"),
        (
            lambda: edits.manifest("containers:\n- name: a\n", "m.yaml", "a", "a:1"),
            "container 'a' has no image:",
        ),
        (lambda: edits.helm_values("a: [\n", "v.yaml", "a", "a:1"), "v.yaml is not valid YAML"),
    ],
)
def test_what_the_file_lacks_is_an_error_naming_it(edit: object, message: str) -> None:
    with pytest.raises(EditError, match=message.replace("(", r"\(").replace(")", r"\)")):
        edit()  # type: ignore[operator]

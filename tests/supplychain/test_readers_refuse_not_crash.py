"""Every reader answers a document of the wrong shape with a DocumentError naming where,
never with a crash: each sample with one value swapped for one of another JSON type."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from app.supplychain.documents import DocumentError
from app.supplychain.models import EvidenceType
from app.supplychain.reading import read
from tests.supplychain.kit import FIXTURES, Signer, simple_signing

OTHERS: list[Any] = [None, 1, -1.5, True, "x", "sha256:" + "a" * 64, [], [1], {}, {"a": 1}]
SAMPLES = [
    ("trivy.json", EvidenceType.VULNERABILITY_REPORT),
    ("grype.json", EvidenceType.VULNERABILITY_REPORT),
    ("cyclonedx.json", EvidenceType.SBOM),
    ("spdx.json", EvidenceType.SBOM),
    ("provenance.json", EvidenceType.PROVENANCE),
]


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, inner in items:
        yield from paths(inner, (*at, key))


def swapped(document: Any, rng: random.Random) -> Any:
    changed = copy.deepcopy(document)
    path = rng.choice(list(paths(changed))[1:])
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = rng.choice(OTHERS)
    return changed


@pytest.mark.parametrize(("name", "kind"), SAMPLES)
def test_a_misshapen_document_is_refused_with_a_field(name: str, kind: EvidenceType) -> None:
    rng = random.Random(name)
    document = json.loads((FIXTURES / name).read_text())
    for _ in range(150):
        try:
            read(kind, json.dumps(swapped(document, rng)), None, [])
        except DocumentError as error:
            assert str(error), error


def test_a_misshapen_signature_payload_or_envelope_is_refused() -> None:
    rng = random.Random(20)
    signer = Signer()
    payload = json.loads(simple_signing("sha256:" + "a" * 64))
    envelope = json.loads(signer.envelope(json.loads((FIXTURES / "provenance.json").read_text())))
    for _ in range(150):
        for kind, document, signature in (
            (EvidenceType.SIGNATURE, payload, "AAAA"),
            (EvidenceType.PROVENANCE, envelope, None),
        ):
            try:
                read(kind, json.dumps(swapped(document, rng)), signature, [])
            except DocumentError as error:
                assert str(error), error

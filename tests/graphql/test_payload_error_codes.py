"""Each mutation payload declares the error codes it may answer with (issue 13, item 4: a
documented subset per payload instead of all of ErrorCode): the schema lists them, and a
payload that answers with another code is caught (UndeclaredErrorCode, which the suite's
filterwarnings turns into a failure of whichever test reaches it)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from graphql import GraphQLObjectType, get_named_type

from app.catalog.schema import ApplicationPayload
from app.errors import DomainError, ErrorCode, conflict
from app.graphql.errors import UndeclaredErrorCode, declared_codes, mutate
from app.graphql.schema import schema
from tests.support.graphql import GraphQLClient

if TYPE_CHECKING:
    from tests.conftest import People

_LISTED = re.compile(r"Codes: ([A-Z_, ]+)\.$")


def _payloads() -> dict[str, GraphQLObjectType]:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    payloads = {}
    for field in mutation.fields.values():
        payload = get_named_type(field.type)
        assert isinstance(payload, GraphQLObjectType)
        payloads[payload.name] = payload
    return payloads


def test_every_payload_lists_its_codes_and_no_payload_lists_them_all() -> None:
    payloads = _payloads()
    assert len(payloads) >= 15
    for name, payload in payloads.items():
        description = payload.fields["errors"].description or ""
        listed = _LISTED.search(description)
        assert listed, f"{name}.errors does not list its codes: {description!r}"
        codes = set(listed.group(1).split(", "))
        assert codes <= {code.value for code in ErrorCode}, name
        assert len(codes) < len(ErrorCode), f"{name} lists every code"
    # Codes that belong to one mutation are listed there only.
    approver = {n for n, p in payloads.items() if "APPROVER_CANNOT_DEPLOY" in _codes(p)}
    assert approver == {"DeploymentPayload"}
    assert "APPROVER_CANNOT_DEPLOY" not in _codes(payloads["ApplicationPayload"])


def _codes(payload: GraphQLObjectType) -> set[str]:
    listed = _LISTED.search(payload.fields["errors"].description or "")
    assert listed
    return set(listed.group(1).split(", "))


def test_the_listed_codes_are_the_ones_mutate_checks() -> None:
    assert declared_codes(ApplicationPayload) == {
        ErrorCode.FORBIDDEN,
        ErrorCode.VALIDATION,
        ErrorCode.CONFLICT,
    }
    assert _codes(_payloads()["ApplicationPayload"]) == {"FORBIDDEN", "VALIDATION", "CONFLICT"}


async def test_an_undeclared_code_is_caught_and_a_declared_one_is_not(db: str) -> None:
    async def not_dead() -> ApplicationPayload:
        raise DomainError(ErrorCode.NOT_DEAD, "not a thing an application can be")

    async def taken() -> ApplicationPayload:
        raise conflict("taken", "name")

    with pytest.warns(UndeclaredErrorCode, match=r"ApplicationPayload answered NOT_DEAD,"):
        payload = await mutate(not_dead, lambda errors: ApplicationPayload(errors=errors))
    # A client still gets its answer: the warning is for the schema's authors.
    assert [e.code for e in payload.errors] == [ErrorCode.NOT_DEAD]

    payload = await mutate(taken, lambda errors: ApplicationPayload(errors=errors))
    assert [e.code for e in payload.errors] == [ErrorCode.CONFLICT]


async def test_a_real_refusal_answers_a_listed_code(gql: GraphQLClient, people: People) -> None:
    viewer = await people.token("viewer@example.com")
    create = 'mutation { createApplication(name: "wiki") { errors { code } } }'
    data = await gql(create, token=viewer)
    codes = [e["code"] for e in data["createApplication"]["errors"]]
    assert codes == ["FORBIDDEN"]
    assert set(codes) <= _codes(_payloads()["ApplicationPayload"])

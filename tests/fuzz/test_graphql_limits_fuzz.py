"""Generated documents with named fragments get clear answers, cheaply (issue 11 item 1).

Fragment graphs of real fields: chains, fan-out (a fragment spread several times: the
exponential "bomb" shape), cycles, unknown fragments, aliases, and nesting past the depth
limit. Every answer must have GraphQL's JSON shape with no crash logged (the judge of
test_graphql_fuzz.py), and the limits rule must measure each selection set once, however
often fragments spread one another: linear work, where the limiters before the fix expanded
every spread (22 levels of fan-out 2 took them 22 s; here up to 40 levels of fan-out 3 are
drawn). The work is counted, not timed: this machine's speed says nothing of the algorithm.
A fixed example budget keeps it in every CI run.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.graphql import limits as limits_module
from tests.fuzz.budget import examples
from tests.fuzz.strategies import selections
from tests.security.schema_walk import object_type, post, problems
from tests.support.counting import count_calls
from tests.support.graphql import GraphQLClient

USER = object_type("User")


@st.composite
def fragment_documents(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 40))
    fan = draw(st.integers(1, 3))

    def body(index: int) -> str:
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(
                st.sampled_from(["next", "next", "field", "alias", "back", "unknown", "inline"])
            )
            if kind == "next" and index + 1 < count:
                parts.extend([f"...F{index + 1}"] * fan)
            elif kind == "field":
                parts.append(f"me {draw(selections(USER, draw(st.integers(1, 14))))}")
            elif kind == "alias":
                parts.append(f"{draw(st.sampled_from(['a', 'b', 'c']))}: __typename")
            elif kind == "back" and draw(st.floats(0, 1)) < 0.2:
                parts.append(f"...F{draw(st.integers(0, index))}")  # a cycle: refused
            elif kind == "unknown" and draw(st.floats(0, 1)) < 0.2:
                parts.append("...Nope")
            elif kind == "inline" and index + 1 < count:
                parts.append(f"... on Query {{ ...F{index + 1} }}")
        return " ".join(parts) or "__typename"

    fragments = " ".join(f"fragment F{i} on Query {{ {body(i)} }}" for i in range(count))
    return f"query Generated {{ ...F0 }} {fragments}"


@settings(
    max_examples=examples(80),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=fragment_documents(), with_token=st.booleans())
async def test_generated_fragment_graphs_get_clear_answers_fast(
    gql: GraphQLClient,
    admin: str,
    caplog: pytest.LogCaptureFixture,
    document: str,
    with_token: bool,
) -> None:
    caplog.clear()
    # A patch of this example's own: the examples share the function's fixtures.
    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.ERROR):
        measured = count_calls(patch, limits_module, "_measure")
        answer = await post(gql.http, admin if with_token else None, document)
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems(answer, document) and not crashes, (
        f"{problems(answer, document)} {crashes}\n{document}\n{answer.text[:1000]}"
    )
    # Each selection set written in the document at most once, however often it is
    # spread (none when the parser or the counts of definitions and spreads refused the
    # document first): every selection set opens with a brace.
    assert measured() <= document.count("{"), f"{measured()} measures of\n{document}"

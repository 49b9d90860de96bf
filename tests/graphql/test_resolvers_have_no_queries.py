"""Resolvers build no ORM query (STYLE.md: queries live in repositories only).

An AST scan of every resolver module (app/*/schema.py, app/*/types.py, app/graphql/*):
a call of a query method on a Tortoise model class (`models.Application.all()`,
`User.get_or_none(...)`) or of a method only a QuerySet has (`.filter`, `.select_related`,
...) on anything is a query built in a resolver. Resolvers call a service (which checks
access) or a loader, and the domain's repository.py holds the query.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

from tortoise.models import Model

import app

ROOT = Path(app.__file__).parent

# Methods no plain Python object has: a call of one is a query whatever its receiver.
QUERYSET_ONLY = {
    "filter",
    "exclude",
    "prefetch_related",
    "select_related",
    "raw",
    "get_or_none",
    "annotate",
    "values_list",
    "fetch_related",
    "order_by",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "select_for_update",
    "only",
    "distinct",
    "limit",
    "offset",
    "group_by",
    "in_bulk",
}
# Methods dicts and lists have too: a query only when called on a model class.
ON_MODELS = QUERYSET_ONLY | {
    "get",
    "all",
    "first",
    "count",
    "exists",
    "values",
    "create",
    "update",
    "delete",
    "last",
    "latest",
    "earliest",
}
# Query-building imports that have no business in a resolver.
QUERY_MODULES = {
    "tortoise.expressions",
    "tortoise.functions",
    "tortoise.query_utils",
    "tortoise.queryset",
}
# Typing-only names a resolver may import from those modules (no query is built with them).
TYPING_ONLY = {("tortoise.queryset", "QuerySet")}


def model_names() -> set[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules([str(ROOT)]):
        if (ROOT / info.name / "models.py").exists():
            module = importlib.import_module(f"app.{info.name}.models")
            names |= {
                name
                for name, value in vars(module).items()
                if inspect.isclass(value) and issubclass(value, Model)
            }
    return names


def resolver_modules() -> list[Path]:
    return sorted(
        [*ROOT.glob("*/schema.py"), *ROOT.glob("*/types.py"), *(ROOT / "graphql").glob("*.py")]
    )


def receiver_name(node: ast.expr) -> str | None:
    """`Application` for `Application` or `models.Application`; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def queries_in(path: Path, models: set[str]) -> list[str]:
    found = []
    where = path.relative_to(ROOT.parent)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, receiver_name(node.func.value)
            if method in QUERYSET_ONLY or (method in ON_MODELS and receiver in models):
                found.append(
                    f"{where}:{node.lineno}: .{method}() on {ast.unparse(node.func.value)}"
                )
        elif isinstance(node, ast.ImportFrom) and node.module in QUERY_MODULES:
            for alias in node.names:
                if (node.module, alias.name) not in TYPING_ONLY:
                    found.append(f"{where}:{node.lineno}: imports {node.module}.{alias.name}")
    return found


def test_the_scan_sees_the_shapes_of_a_query() -> None:
    """The scan itself: each of these lines is a query it must flag (and the last two,
    plain dict and list calls, are not)."""
    models = model_names()
    assert {"Application", "User", "PromotionRequest", "OutboxJob"} <= models
    source = (
        "from tortoise.expressions import Q\n"
        "async def r(info, d, rows):\n"
        "    await models.Application.all()\n"
        "    await User.get_or_none(id=1)\n"
        "    await rows.filter(a=1)\n"
        "    await Image.filter(id__in=[1]).select_related('application')\n"
        "    await self.matching.order_by('-id').limit(3)\n"
        "    d.get('x'); rows.count(1)\n"
    )
    path = ROOT / "graphql" / "_scan_probe.py"
    try:
        path.write_text(source)
        flagged = queries_in(path, models)
    finally:
        path.unlink()
    assert len(flagged) == 8, flagged  # 1 import + 7 calls (two chains count twice each)


def test_no_resolver_builds_an_orm_query() -> None:
    models = model_names()
    found = [line for path in resolver_modules() for line in queries_in(path, models)]
    assert found == [], "queries belong in the domain's repository.py:\n" + "\n".join(found)

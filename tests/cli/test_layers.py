"""The client commands are an HTTP client: no service, ORM or GraphQL server code in them.

Each client module's imports are read from its source (loading `app.cli` itself also loads
the server commands, which do use the database), and the manifest readers the CLI shares
with the server are loaded in a fresh interpreter to show they pull in no ORM.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import app.cli
from tests.support.live_server import server_env

CLI = Path(app.cli.__file__).parent
CLIENT_MODULES = [
    "api",
    "apply",
    "catalog",
    "deploy",
    "evidence",
    "policies",
    "promote",
    "users",
    "verbs",
    "watch",
    "windows",
]
# What a client module may import from the project: itself, settings, errors, and the
# manifest readers, which are pure (checked below).
ALLOWED = {
    "app.cli",
    "app.settings",
    "app.errors",
    "app.manifests",
    "app.catalog.manifest",
    "app.catalog.kinds",
    "app.policies.manifest",
    "app.windows.manifest",
}
PURE_READERS = [
    "app.manifests",
    "app.catalog.manifest",
    "app.catalog.kinds",
    "app.policies.manifest",
    "app.windows.manifest",
]


def project_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= (
                {f"{node.module}.{a.name}" for a in node.names}
                if node.module in ("app", "app.catalog", "app.policies", "app.windows")
                else {node.module}
            )
    return {n for n in names if n.split(".")[0] in ("app", "tortoise", "workers")}


def test_client_modules_import_no_service_layer_or_orm() -> None:
    for module in CLIENT_MODULES:
        imported = project_imports(CLI / f"{module}.py")
        bad = {n for n in imported if not any(n == a or n.startswith(f"{a}.") for a in ALLOWED)}
        assert not bad, f"app/cli/{module}.py imports {sorted(bad)}"
        # The server commands are the other door; a client module must not reach them.
        assert not {n for n in imported if n.startswith("app.cli.server")}, module


def test_the_manifest_readers_load_no_orm(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        f"for name in {PURE_READERS!r}:\n"
        "    __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tortoise', 'strawberry')\n"
        "             or m.startswith(('app.db', 'app.graphql'))\n"
        "             or m.split('.')[-1] in ('service', 'models', 'repository', 'schema')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=server_env(tmp_path),
        cwd=Path(app.cli.__file__).parents[2],
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"


def test_loading_the_cli_loads_no_orm(tmp_path: Path) -> None:
    """Every client command loads app.cli (the server commands too): the ORM, the GraphQL
    server and the workers wait for the commands that use them, so clients start fast."""
    probe = (
        "import sys, app.cli\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'tortoise', 'strawberry', 'celery', 'uvicorn'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=server_env(tmp_path),
        cwd=Path(app.cli.__file__).parents[2],
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"

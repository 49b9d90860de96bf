"""What a newcomer meets before the first request: locked installs, `make serve HOST/PORT`
and the public URL that follows it, which database the server commands use, and the
Docker compose stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from app.graphql.view import ASSET_PACKAGES
from tests.conftest import create_scratch_database, drop_scratch_database
from tests.notifications.mailbox import SmtpServer
from tests.support.http_api import Api
from tests.support.live_server import HOIST, _stop, _wait_until_ready, running_server, server_env
from tests.support.services import POSTGRES_URL, free_port, require, require_program
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"hoist_[A-Za-z0-9_-]{40,}")
WITHIN_SECONDS = 60.0  # a real server and worker, on a machine shared with other suites


# ------------------------------------------------------------------ locked installs


def _pyproject_requirements() -> set[tuple[str, tuple[str, ...], str, str | None]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [(Requirement(r), None) for r in project["dependencies"]]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        wanted += [(Requirement(r), f"extra == '{extra}'") for r in reqs]
    return {
        (canonicalize_name(r.name), tuple(sorted(r.extras)), str(r.specifier), _marker(r, extra))
        for r, extra in wanted
    }


def _marker(requirement: Requirement, extra: str | None) -> str | None:
    """The marker uv.lock writes: the requirement's own, and its extra's after it."""
    parts = [str(requirement.marker)] if requirement.marker else []
    return _normal(" and ".join([*parts, *([extra] if extra else [])]) or None)


def _normal(marker: str | None) -> str | None:
    """One spelling of a marker (uv.lock quotes with ', packaging with ")."""
    return str(Marker(marker)) if marker else None


def _locked_project() -> dict[str, Any]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    [hoist] = [p for p in lock["package"] if p["name"] == "hoist"]
    return hoist


def test_uv_lock_was_made_from_this_pyproject() -> None:
    """`uv sync --frozen` installs uv.lock as it is: a dependency added to pyproject.toml
    without `make lock` would silently not be installed. (CI also runs `uv lock --check`,
    which needs the package index; this check needs nothing.)"""
    locked = {
        (
            canonicalize_name(r["name"]),
            tuple(sorted(r.get("extras", []))),
            str(SpecifierSet(r.get("specifier", ""))),
            _normal(r.get("marker")),
        )
        for r in _locked_project()["metadata"]["requires-dist"]
    }
    assert locked == _pyproject_requirements(), "uv.lock is stale: run `make lock`"


def test_packages_used_through_their_internals_are_bounded() -> None:
    """celpy's parser and transpiler tree, tortoise's migration internals: a new minor
    release may change them, so `uv lock` must not move to one unseen."""
    specs = {name: SpecifierSet(spec) for name, _, spec, _ in _pyproject_requirements()}
    assert "0.5.9" in specs["cel-python"] and "0.6.0" not in specs["cel-python"]
    assert "1.1.99" in specs["tortoise-orm"] and "1.2.0" not in specs["tortoise-orm"]


def test_docker_image_uses_the_makefiles_uv() -> None:
    version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert version is not None
    assert f"uv=={version[1]}" in (ROOT / "Dockerfile").read_text()


# ------------------------------------------------------------------ host, port, public URL


def _make_dry_run(*args: str, **env: str) -> str:
    result = subprocess.run(
        ["make", "-n", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if "hoist serve" in ln]
    return line


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_serve_passes_host_and_port_given_on_its_command_line() -> None:
    line = _make_dry_run("serve", "HOST=0.0.0.0", "PORT=9123")
    assert "--host '0.0.0.0'" in line and "--port '9123'" in line
    # An unrelated PORT or HOST in the environment (a PaaS's, tcsh's) is not taken for it:
    # HOIST_PORT / HOIST_HOST are the settings for that.
    line = _make_dry_run("serve", PORT="9124", HOST="somewhere")
    assert "--port" not in line and "--host" not in line


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_email_links_follow_the_port_the_server_runs_on(tmp_path: Path, smtp: SmtpServer) -> None:
    """No HOIST_PUBLIC_URL: `hoist serve --port P` links to port P, not to 8000."""
    mail = {
        "HOIST_EMAIL_BACKEND": "smtp",
        "HOIST_SMTP_HOST": "127.0.0.1",
        "HOIST_SMTP_PORT": str(smtp.port),
    }
    with running_server(tmp_path, **mail) as server:
        port = urlsplit(server.url).port
        assert port is not None and port != 8000
        admin = Api(server.url, server.token)
        admin.catalog(approvals=1)
        dev = admin.user("dev@example.com", ("BUILD_DEPLOY", "shop", "*"))
        admin.user("approver@example.com", ("ARTIFACT_PROMOTER", "shop", "prod"))
        [result] = dev.promote(admin.image("1.0"), ["prod"])
        assert result["outcome"] == "AWAITING_APPROVAL"
        eventually(
            lambda: len(smtp.mailbox.to("approver@example.com")) == 1,
            timeout=WITHIN_SECONDS,
            what="approval email",
        )
        [email] = smtp.mailbox.to("approver@example.com")
        link = f"http://127.0.0.1:{port}/ui/requests/{result['request']['id']}"
        assert link in email.text and link in email.html


def test_hoist_serve_listens_where_hoist_host_and_port_say(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {**server_env(tmp_path), "HOIST_HOST": "127.0.0.1", "HOIST_PORT": str(port)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(HOIST), "serve"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_ready(process, f"http://127.0.0.1:{port}", log)
    finally:
        _stop(process)
    assert f"links in emails: http://127.0.0.1:{port}" in log.read_text()


def test_hoist_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(HOIST), "serve", "--port", "70000"],
        env=server_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "--port" in result.stderr
    assert "Traceback" not in result.stderr
    bad_env = subprocess.run(
        [str(HOIST), "serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**server_env(tmp_path), "HOIST_PORT": "0"},
    )
    assert bad_env.returncode != 0 and "port" in bad_env.stderr.lower()
    assert not (tmp_path / "hoist.sqlite3").exists()  # refused before touching a database


# ------------------------------------------------------------------ which database


def _hoist(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOIST), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bootstrap_in_another_folder_says_it_made_a_new_empty_database(tmp_path: Path) -> None:
    """The slip the README user made: bootstrap run outside the server's folder, where the
    relative default data folder is a different one. It must not be silent."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    database = elsewhere / "data" / "hoist.sqlite3"

    first = _hoist("admin", "bootstrap", "--email", "root@example.com", cwd=elsewhere, env=env)
    assert first.returncode == 0, first.stderr
    assert TOKEN.fullmatch(first.stdout.strip().splitlines()[-1])  # stdout: still the token
    assert f"created a new, empty SQLite database at {database}" in first.stderr
    assert "no HOIST_DATABASE_URL" in first.stderr and "HOIST_DATA_DIR" in first.stderr

    again = _hoist("admin", "bootstrap", "--email", "root@example.com", cwd=elsewhere, env=env)
    assert again.returncode == 0, again.stderr
    assert f"database: SQLite file {database}" in again.stderr
    assert "created" not in again.stderr


def test_migrate_into_a_new_sqlite_file_says_so(tmp_path: Path) -> None:
    result = _hoist("migrate", cwd=tmp_path, env=server_env(tmp_path / "fresh"))
    assert result.returncode == 0, result.stderr
    database = tmp_path / "fresh" / "hoist.sqlite3"
    assert f"created a new, empty SQLite database at {database}" in result.stderr


@pytest.fixture
async def postgres_with_password() -> AsyncIterator[tuple[str, str]]:
    """A scratch database, its URL carrying a password (the test server trusts loopback,
    so any password works): (url, password)."""
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"hoist_setup_{os.getpid()}_{uuid4().hex[:8]}"
    url = await create_scratch_database(POSTGRES_URL, name)
    parts = urlsplit(url)
    password = parts.password or f"pw-{uuid4().hex}"
    netloc = f"{parts.username or 'postgres'}:{password}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc)), password
    finally:
        await drop_scratch_database(POSTGRES_URL, name)


def test_server_commands_name_postgres_but_never_its_password(
    tmp_path: Path, postgres_with_password: tuple[str, str]
) -> None:
    url, password = postgres_with_password
    shown = urlunsplit(
        urlsplit(url)._replace(netloc=urlsplit(url).netloc.replace(f":{password}@", ":***@"))
    )
    env = {**server_env(tmp_path), "HOIST_DATABASE_URL": url}

    migrated = _hoist("migrate", cwd=tmp_path, env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert f"database: {shown}" in migrated.stderr
    with running_server(tmp_path, HOIST_DATABASE_URL=url):  # serves and bootstraps there
        served = (tmp_path / "server.log").read_text()
    assert f"database: {shown}" in served
    for output in (migrated.stdout, migrated.stderr, served):
        assert password not in output
    assert not (tmp_path / "hoist.sqlite3").exists()


# ------------------------------------------------------------------ Docker


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_passes_docker_compose_config() -> None:
    """Debian's docker-compose 1.29 (what .ci/run installs) validates the file offline; it
    also rejects top-level keys newer than the Compose Specification it knows."""
    if shutil.which("docker-compose") is None:
        message = "docker-compose is not installed (apt-get install docker-compose)"
        if os.environ.get("HOIST_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (HOIST_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_migrations_once_before_api_and_worker() -> None:
    compose = _compose()
    assert "version" not in compose  # obsolete in the Compose Specification
    services = compose["services"]
    assert services["migrate"]["command"] == ["hoist", "migrate"]
    assert services["migrate"].get("restart", "no") == "no"  # one-shot: never restarted
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["image"] == services["migrate"]["image"]


def test_compose_checks_the_health_of_api_and_worker() -> None:
    services = _compose()["services"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_mailpit_is_reachable_from_this_machine_only() -> None:
    ports = _compose()["services"]["mailpit"]["ports"]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports)


def test_image_holds_only_the_served_browser_assets() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY --from=assets /src/node_modules" not in dockerfile
    copy = re.search(r"cp --parents(.*?)/assets/", dockerfile, re.S)
    assert copy is not None
    copied = {f for f in copy[1].replace("\\", " ").split() if not f.endswith("/LICENSE")}
    assert copied == {
        f"{package}/{path}" for package, paths in ASSET_PACKAGES.items() for path in paths
    }
    assert "HOIST_NODE_MODULES=/opt/hoist/assets" in dockerfile


def test_compose_prometheus_scrapes_api_and_worker_with_the_token() -> None:
    compose = _compose()
    services, env = compose["services"], compose["x-hoist-env"]
    config_path = "deploy/prometheus.yml"
    assert f"./{config_path}:/etc/prometheus/prometheus.yml:ro" in services["prometheus"]["volumes"]
    config = yaml.safe_load((ROOT / config_path).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api_port = services["api"]["command"][services["api"]["command"].index("--port") + 1]
    assert jobs["hoist-api"]["static_configs"] == [{"targets": [f"api:{api_port}"]}]
    worker_port = env["HOIST_WORKER_METRICS_PORT"]
    assert jobs["hoist-worker"]["static_configs"] == [{"targets": [f"worker:{worker_port}"]}]
    for job in jobs.values():
        assert job["authorization"]["credentials"] == env["HOIST_METRICS_TOKEN"]
    # Grafana loads the dashboard of docs/ over that Prometheus.
    assert any("docs/grafana-dashboard.json" in v for v in services["grafana"]["volumes"])
    for name in ("prometheus", "grafana"):
        assert all(str(p).startswith("127.0.0.1:") for p in services[name]["ports"])


def test_compose_prometheus_config_passes_promtool() -> None:
    """promtool comes with Debian's prometheus package (.ci/run installs it)."""
    promtool = require_program("promtool")
    result = subprocess.run(
        [promtool, "check", "config", "deploy/prometheus.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

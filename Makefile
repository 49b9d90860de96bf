# The README's two commands: `make serve` and `make test`. Each does all the set-up.
#
# Installs are locked: uv.lock pins every Python package (the dev extra's too) and
# `uv sync --frozen` installs exactly that set into .venv. After editing the dependencies
# in pyproject.toml run `make lock` (uv lock) and commit uv.lock with the change: CI runs
# `make lock-check` and fails while the lock is out of date.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

# uv itself comes from PyPI, pinned, into a folder of this checkout (no root, no PATH
# changes); `make UV=uv ...` uses another one instead.
UV_VERSION := 0.13.9
UV_HOME := .tools/uv-$(UV_VERSION)
UV ?= $(UV_HOME)/bin/uv
ifeq ($(UV),$(UV_HOME)/bin/uv)
UV_DEP := $(UV)
endif
# Only PyPI is reachable where Hoist is built: use the local python3, never download one.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup browser prometheus serve test screenshots lint lint-imports typecheck format schema lock lock-check

$(UV_HOME)/bin/uv:
	@echo "installing uv $(UV_VERSION) from PyPI into $(UV_HOME)"
	$(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore \
	  --target $(UV_HOME) uv==$(UV_VERSION)

# --seed puts pip into a new venv too, for tools that expect one; `uv sync` keeps it.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV_DEP)
	@if [ pyproject.toml -nt uv.lock ]; then \
	  echo "note: pyproject.toml is newer than uv.lock; if you changed dependencies," \
	       "run 'make lock' and commit uv.lock (installing the locked set)"; \
	fi
	@[ -x $(PY) ] || $(UV) venv -q --seed --python $(PYTHON) $(VENV)
	$(UV) sync -q --frozen --extra dev --python $(PYTHON)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

# Re-resolve uv.lock after editing dependencies in pyproject.toml (then `make setup`).
lock: | $(UV_DEP)
	$(UV) lock

lock-check: | $(UV_DEP)
	@$(UV) lock --check || { echo "uv.lock is out of date with pyproject.toml:" \
	  "run 'make lock' and commit uv.lock" >&2; exit 1; }

# `make serve HOST=0.0.0.0 PORT=9000` (given on the command line) overrides HOIST_HOST and
# HOIST_PORT; links in emails follow that address unless HOIST_PUBLIC_URL is set.
SERVE_ARGS := $(if $(filter command line,$(origin HOST)),--host '$(HOST)') \
	$(if $(filter command line,$(origin PORT)),--port '$(PORT)')

serve: setup
	$(VENV)/bin/hoist serve $(strip $(SERVE_ARGS))

# The dashboard's browser tests (tests/ui) drive the system's Chromium through Playwright
# (Playwright cannot download its own browsers here). Installed with apt-get when missing
# and we are root; otherwise those tests are skipped with a note (a failure in CI).
CHROMIUM := /usr/bin/chromium

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Chromium for the dashboard's browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "note: $(CHROMIUM) is missing, so tests/ui will be skipped;" \
	         "install it with: sudo apt-get install chromium"; \
	  fi; \
	fi

# tests/e2e/test_metrics_stack.py has a real Prometheus scrape the stack: Debian's package
# (its promtool checks deploy/prometheus.yml), installed like Chromium.
prometheus:
	@if ! command -v prometheus >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Prometheus for the metrics tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq prometheus >/dev/null; \
	  else \
	    echo "note: prometheus is missing, so the metrics test's Prometheus part will be" \
	         "skipped; install it with: sudo apt-get install prometheus"; \
	  fi; \
	fi

test: setup browser prometheus
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-take the README's dashboard screenshots (docs/screenshots/) from the browser tests.
screenshots: setup browser
	HOIST_UI_SCREENSHOTS=1 $(PY) -m pytest -q tests/ui

lint: setup lint-imports
	$(VENV)/bin/ruff check app workers tests bench
	$(VENV)/bin/ruff format --check app workers tests bench

# `make format` writes what `make lint` checks (ruff format).
format: setup
	$(VENV)/bin/ruff format app workers tests bench

# The domains' dependency order and the other import contracts ([tool.importlinter]).
lint-imports: setup
	$(VENV)/bin/lint-imports

# mypy, strict on app/ and workers/ ([tool.mypy] in pyproject.toml): zero errors.
typecheck: setup
	$(VENV)/bin/mypy

# Re-export schema.graphql after changing the GraphQL types (a test fails on drift).
schema: setup
	$(VENV)/bin/strawberry export-schema app.graphql.schema:schema --output schema.graphql

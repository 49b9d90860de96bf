# The README's two commands: `make serve` and `make test`. Each does all the set-up.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup browser serve test screenshots lint schema

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

serve: setup
	$(VENV)/bin/hoist serve

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

test: setup browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-take the README's dashboard screenshots (docs/screenshots/) from the browser tests.
screenshots: setup browser
	HOIST_UI_SCREENSHOTS=1 $(PY) -m pytest -q tests/ui

lint: setup
	$(VENV)/bin/ruff check app workers tests bench

# Re-export schema.graphql after changing the GraphQL types (a test fails on drift).
schema: setup
	$(VENV)/bin/strawberry export-schema app.graphql.schema:schema --output schema.graphql

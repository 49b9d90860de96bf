# The README's two commands: `make serve` and `make test`. Each does all the set-up.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup serve test lint schema

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

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check app workers tests bench

# Re-export schema.graphql after changing the GraphQL types (a test fails on drift).
schema: setup
	$(VENV)/bin/strawberry export-schema app.graphql.schema:schema --output schema.graphql

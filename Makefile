# Every target bootstraps its own virtual environment from the lock (uv.lock).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python

.PHONY: help run test test-fast lint schema docs operations bench install install-run migrate seed clean console-vendor

# the suite runs on both cores (pytest-xdist); `make test PYTEST_WORKERS=0` runs it in one process
PYTEST_WORKERS ?= 2
SEED_COUNT ?= 200

help:  ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/\1\t\2/' | expand -t 12

install: .venv/.synced  ## everything: serving, tests, lint, the audit's node packages
install-run: .venv/.synced-run  ## only what serving needs (no test toolchain)

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock tests/audit/package-lock.json | .tools/bin/uv
	UV_PROJECT_ENVIRONMENT=.venv $(UV) sync --frozen --python $(PYTHON)
	if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund --prefix tests/audit; fi
	touch $@

# --inexact: a development environment synced before keeps its test toolchain
.venv/.synced-run: pyproject.toml uv.lock | .tools/bin/uv
	UV_PROJECT_ENVIRONMENT=.venv $(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	touch $@

run: install-run  ## start the service on the embedded default (SQLite, local storage, dev login)
	$(PY) -m server.migrate
	$(PY) -m server.serve

migrate: install-run  ## migrate the database at DATABASE_URL (default: the embedded SQLite)
	$(PY) -m server.migrate

seed: install  ## add SEED_COUNT (200) synthetic registrations to the database at DATABASE_URL
	$(PY) -m tools.seed --count $(SEED_COUNT)

test: install  ## the whole suite, on both cores; warnings are errors
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: install  ## the inner loop: the suite without PostgreSQL and slow tests, on both cores
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "not slow and not postgres" $(PYTEST_ARGS)

lint: install  ## ruff (check and format) and mypy over the whole tree
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

schema: install  ## write schema.graphql from the code
	$(PY) -m tools.export_schema

docs: install  ## rewrite the README's error-code and settings tables
	$(PY) -m tools.readme_tables

operations: install  ## write operations/manifest.json (trusted documents) from operations/*.graphql
	$(PY) -m tools.operations_manifest

bench: install  ## speed benchmarks; numbers go in the closing notes
	$(PY) -m tools.bench.run_all

ECHARTS_VERSION ?= 6.1.0
console-vendor:  ## fetch ECharts from the npm registry into console/vendor/ (make run needs no npm)
	rm -rf .tools/echarts && mkdir -p .tools/echarts console/vendor
	cd .tools/echarts && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz
	cp .tools/echarts/package/dist/echarts.min.js console/vendor/echarts.min.js
	cp .tools/echarts/package/LICENSE console/vendor/ECHARTS-LICENSE
	printf '%s\n' '# Vendored files of the console' '' \
	  'Refreshed by `make console-vendor` (npm pack from the npm registry, no build step).' '' \
	  '| file | package | version | sha256 | tarball sha256 |' '|---|---|---|---|---|' \
	  "| echarts.min.js | echarts (Apache-2.0) | $(ECHARTS_VERSION) | $$(sha256sum console/vendor/echarts.min.js | cut -d' ' -f1) | $$(sha256sum .tools/echarts/echarts-$(ECHARTS_VERSION).tgz | cut -d' ' -f1) |" \
	  > console/vendor/VENDOR.md
	rm -rf .tools/echarts

clean:  ## remove the environment, local data and caches
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache

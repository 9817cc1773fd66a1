# Every target bootstraps its own virtual environment from the lock (uv.lock).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python

.PHONY: run test lint schema docs bench install migrate seed clean console-vendor

install: .venv/.synced

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | .tools/bin/uv
	UV_PROJECT_ENVIRONMENT=.venv $(UV) sync --frozen --python $(PYTHON)
	touch $@

run: install  ## start the service on the embedded default (SQLite, local storage, dev login)
	$(PY) -m server.migrate
	$(PY) -m server.serve

migrate: install
	$(PY) -m server.migrate

test: install  ## the whole suite
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

schema: install  ## write schema.graphql from the code
	$(PY) -m tools.export_schema

docs: install  ## rewrite the README's error-code and settings tables
	$(PY) -m tools.readme_tables

bench: install  ## speed benchmarks; numbers go in the closing notes
	$(PY) -m tools.bench.run_all

SEED_ARGS ?= --count 1000
seed: install  ## add synthetic registrations to DATABASE_URL (SEED_ARGS="--count N --days D")
	$(PY) -m tools.seed $(SEED_ARGS)

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

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache

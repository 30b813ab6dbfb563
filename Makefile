# Kazi: `make demo` runs the whole thing on SQLite; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTMX := ui/static/vendor/htmx.min.js
# The builder's drag-to-reorder and its pipeline diagram layout, from npm like htmx.
BUILDER_JS := ui/static/vendor/Sortable.min.js ui/static/vendor/dagre.min.js
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0
# pytest-xdist: each worker has its own SQLite folder, PostgreSQL databases, Redis
# database number and free ports (tests/conftest.py). Three workers keep two cores
# busy while tests wait on servers, browsers and sleeps.
PYTEST_WORKERS ?= 3
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: install demo test lint typecheck layering test-sqlite test-postgres bench bench-inbox bench-ai clean

install: $(STAMP) $(HTMX) $(BUILDER_JS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# htmx comes from its npm package, pinned in package-lock.json, never hand-copied.
$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(dir $(HTMX))
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

$(BUILDER_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p ui/static/vendor
	cp node_modules/sortablejs/Sortable.min.js node_modules/@dagrejs/dagre/dist/dagre.min.js ui/static/vendor/

# Browser tests drive Debian's chromium, never a browser downloaded by a test tool.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

demo: install
	$(BIN)/kazi demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

layering: install
	$(BIN)/lint-imports

# Every test, Chromium's included, runs on SQLite.
test-sqlite: install $(CHROMIUM)
	KAZI_TEST_BACKEND=sqlite $(BIN)/pytest $(PYTEST_PARALLEL)

# PostgreSQL + Redis run whenever they answer; with KAZI_REQUIRE_SERVICES=1 (CI) their absence fails.
# This pass keeps only the tests whose outcome can depend on the backend (they use the
# run's database or queue); pure dsl/core/connectors tests and Chromium already ran above.
test-postgres: install
	@if $(BIN)/python -m tests.services_up "$(PG_TEST_URL)" "$(REDIS_TEST_URL)"; then \
		KAZI_TEST_BACKEND=postgres KAZI_TEST_BACKEND_ONLY=1 KAZI_TEST_POSTGRES_URL="$(PG_TEST_URL)" \
		KAZI_TEST_REDIS_URL="$(REDIS_TEST_URL)" $(BIN)/pytest $(PYTEST_PARALLEL); \
	elif [ "$$KAZI_REQUIRE_SERVICES" = "1" ]; then \
		echo "PostgreSQL or Redis is not answering and KAZI_REQUIRE_SERVICES=1: failing"; exit 1; \
	else \
		echo "PostgreSQL or Redis is not answering: skipping the PostgreSQL + Redis run"; \
	fi

test: lint typecheck layering test-sqlite test-postgres

bench: install
	$(BIN)/python bench/rules.py

# Seeds 100,000 contacts / 300,000 conversations / 3,000,000 messages into the
# PostgreSQL database kazi_bench (about 7 minutes on 2 cores), then times the inbox.
bench-inbox: install
	$(BIN)/python bench/inbox.py $(BENCH_ARGS)

# The offline AI provider on each sample's labelled messages (BENCH_ARGS=--base-url ... for a model).
bench-ai: install
	$(BIN)/python bench/ai.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules ui/static/vendor var

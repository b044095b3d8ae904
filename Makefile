# FitHub: `make run` serves the API on http://localhost:8000, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(or $(shell command -v uv 2>/dev/null),$(HOME)/.local/bin/uv)
PORT ?= 8000
# make run listens on this machine only (DEBUG is on there); HOST=0.0.0.0 opens it to the network.
HOST ?= 127.0.0.1
# The test suite: tests/settings.py supplies a test secret, a fast password hasher and hosts.
TEST_ENV := DJANGO_SETTINGS_MODULE=tests.settings DEBUG=0

.PHONY: help run test check lint format migrations deps uv test-ops

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

uv: ## Install uv if it is missing (from PyPI, with pip)
	@if ! command -v uv >/dev/null 2>&1 && [ ! -x "$(HOME)/.local/bin/uv" ]; then \
		echo "installing uv"; \
		python3 -m pip --version >/dev/null 2>&1 || { \
			if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null; \
			else sudo apt-get update -qq && sudo apt-get install -y -qq python3-pip >/dev/null; fi; }; \
		python3 -m pip install --user --quiet uv 2>/dev/null \
			|| python3 -m pip install --user --quiet --break-system-packages uv; \
	fi

deps: uv ## Install the locked Python dependencies into .venv
	@$(UV) sync --locked --quiet

run: deps ## Migrate, load the food database and demo data, serve on :8000 (SQLite unless DATABASE_URL)
	DEBUG=$${DEBUG:-1} $(UV) run python manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(UV) run python manage.py load_foods
	DEBUG=$${DEBUG:-1} $(UV) run python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(UV) run python manage.py runserver $(HOST):$(PORT)

test: deps ## Ruff, bandit and the whole pytest suite against a throwaway PostgreSQL primary + replica, then make contract and make chaos
	$(TEST_ENV) harness/with-postgres.sh $(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory contract
	$(MAKE) --no-print-directory chaos

check: ## Ruff and pytest against the servers in DATABASE_URL (make test starts them for you)
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run python manage.py makemigrations --check --dry-run
	$(UV) run bandit -r fithub apps -q --severity-level medium
	$(UV) run pytest

lint: deps ## Ruff only
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format: deps ## Apply ruff's fixes and formatter
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

migrations: deps ## Make migrations: make migrations APP=nutrition NAME=add_food_index
	DEBUG=1 $(UV) run python manage.py makemigrations $(APP) -n $(NAME)

test-ops: deps ## Only the operations checks: nginx, Prometheus, gunicorn, Docker, compose, workflows
	$(TEST_ENV) harness/with-postgres.sh $(UV) run pytest tests/integration tests/fithub/test_metrics.py tests/fithub/test_request_id.py

.PHONY: fuzz
fuzz: deps ## schemathesis, every phase (stateful too), against the real gunicorn: make fuzz FUZZ_ARGS="--max-examples 100"
	harness/with-postgres.sh $(UV) run python -m harness.fuzz $(FUZZ_ARGS)

.PHONY: bench
bench: deps ## Benchmark on loopback: FitHub vs the floor, the nginx stack under a mixed load: make bench BENCH_ARGS="--users 200"
	SECRET_KEY=$${SECRET_KEY:-bench-only-secret-key-of-at-least-32-bytes} harness/with-postgres.sh $(UV) run python -m bench.run $(BENCH_ARGS)

.PHONY: bench-docs
bench-docs: deps ## Swagger UI and ReDoc in headless Chromium: time to render every operation, requests to other hosts: make bench-docs BENCH_ARGS="--loads 9"
	bash harness/ensure-tools.sh
	$(UV) run python -m bench.swagger $(BENCH_ARGS)

.PHONY: chaos
CHAOS_JSON ?= chaos-results.json
chaos: deps ## The fault matrix on the production shape, durable PostgreSQL: make chaos CHAOS_ARGS="--faults primary_stop"
	FITHUB_PG_DURABLE=1 harness/with-postgres.sh $(UV) run python -m harness.chaos --json $(CHAOS_JSON) $(CHAOS_ARGS)

.PHONY: contract
contract: deps ## The client contract on the live schema: generated Python client runs a mobile day, mypy/tsc --strict, Redocly + Spectral lint
	harness/with-postgres.sh $(UV) run --locked --group contract python -m harness.contract $(CONTRACT_ARGS)

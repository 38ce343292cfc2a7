# Wirehouse: `make run` runs the nightly job once, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
export WIREHOUSE_HOME := $(abspath $(or $(WIREHOUSE_HOME),data))
export WIREHOUSE_SOURCES := $(abspath $(or $(WIREHOUSE_SOURCES),include/sources.yml))
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
# no usage metrics leave the machine (as docker-compose.yaml and the Dockerfile):
# dbt's, and cosmos' telemetry (cosmos/settings.py reads all three of its switches)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export SCARF_NO_ANALYTICS := true
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
RUN_DATE ?= $(shell date -u -d yesterday +%F)

# uv from PATH, else a private copy bootstrapped with pip into .tools/
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV_BIN := $(CURDIR)/.venv/bin
DBT_FLAGS := --project-dir dbt_project --profiles-dir dbt_project

.PHONY: help setup run test test-deploy lint browser services dbt-parse dbt-build clean bench-fetch bench-extract bench-stories bench-entities bench-night

help:
	@echo "make run   - set up, then run the nightly DAG once for RUN_DATE (default: yesterday UTC)"
	@echo "make test  - set up, then run ruff, pytest (unit, dbt, end-to-end DAG) and dbt's tests"
	@echo "make test-deploy - the production topology natively: Postgres, Redis, two Celery workers, two nights"
	@echo "make bench-fetch - fetch-stage benchmark (2,000 pages, 50 local hosts), then the memory cases"
	@echo "make bench-extract - extraction quality/speed: wirehouse vs trafilatura (../shared data)"
	@echo "make bench-stories - story quality on five sets fitted leave-one-set-out vs a TF-IDF baseline, origin/derivation, 100k-article scale"
	@echo "make bench-entities - entity recognition + resolution speed vs spaCy's full pipeline, gold-file quality"
	@echo "make bench-night - a night of 5,000 saved pages on 100,000 articles of history, stage by stage, vs the bare libraries"
	@echo "make dbt-build - rebuild the marts outside Airflow (after wirehouse reextract)"
	@echo "make clean - remove the local Airflow home, data folder and build output"

$(UV):
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

dbt_project/target/manifest.json: .venv/.synced $(shell find dbt_project/models dbt_project/macros -type f 2>/dev/null) dbt_project/dbt_project.yml
	$(VENV_BIN)/dbt parse $(DBT_FLAGS) --quiet
	touch $@

dbt-parse: dbt_project/target/manifest.json

# rebuild the marts outside Airflow (e.g. after `wirehouse reextract`); not while the DAG runs.
# --full-refresh: rewritten old nights lie outside the incremental marts' lookback window
dbt-build: setup
	$(VENV_BIN)/dbt build $(DBT_FLAGS) --full-refresh

.airflow/.initialised: .venv/.synced
	mkdir -p $(AIRFLOW_HOME)
	$(VENV_BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	$(VENV_BIN)/airflow pools set duckdb_writer 1 "The single DuckDB writer" > /dev/null
	@# entity recognition takes every core for minutes: one such task at a time (README, "Cores")
	$(VENV_BIN)/airflow pools set cpu_heavy 1 "Tasks that start a worker process per core" > /dev/null
	touch $@

setup: .venv/.synced dbt_project/target/manifest.json .airflow/.initialised

run: setup
	mkdir -p $(WIREHOUSE_HOME)
	$(VENV_BIN)/airflow dags test news_daily $(RUN_DATE) > $(WIREHOUSE_HOME)/last-run.log 2>&1 \
		|| (tail -n 80 $(WIREHOUSE_HOME)/last-run.log; exit 1)
	@grep -E "DagRun Finished|state=" $(WIREHOUSE_HOME)/last-run.log | tail -n 1 || true
	@echo "Run log: $(WIREHOUSE_HOME)/last-run.log (run date $(RUN_DATE))"
	$(VENV_BIN)/wirehouse summary

lint: .venv/.synced
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .
	@# sqlfluff renders the models with dbt (.sqlfluff): against an empty scratch warehouse,
	@# never the live one (the night may hold its lock)
	home=$$(mktemp -d) && WIREHOUSE_HOME=$$home $(VENV_BIN)/sqlfluff lint dbt_project/models \
		dbt_project/tests; rc=$$?; rm -rf $$home; exit $$rc

# the briefing's browser test drives Debian's chromium headless; install it once if missing
# (as root, as CI runs; a no-op when chromium is already there)
browser:
	@command -v chromium > /dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# the deployment and DuckLake tests start Debian's PostgreSQL and Redis on loopback (tests/services.py)
services:
	@(ls /usr/lib/postgresql/*/bin/postgres > /dev/null 2>&1 && command -v redis-server > /dev/null) \
		|| (apt-get update -qq && apt-get install -y -qq postgresql redis-server)

test: setup lint browser services
	$(VENV_BIN)/pytest

# the production topology of docker-compose.yaml run natively (tests/test_deploy.py, marker
# deploy, which plain `pytest` deselects): several minutes
test-deploy: setup services
	$(VENV_BIN)/pytest -m deploy tests/test_deploy.py

clean:
	rm -rf .airflow data dbt_project/target dbt_project/logs

# Fetch-stage benchmark (bench/README.md); pass flags with BENCH_ARGS="--workers 64"
bench-fetch: .venv/.synced
	$(VENV_BIN)/python bench/bench_fetch.py $(BENCH_ARGS)

# Extraction benchmark (bench/README.md); e.g. BENCH_ARGS="--set articles_dev --dump /tmp/x"
# then the loss benchmark on the same pages (it ignores bench_extract.py's own flags)
bench-extract: .venv/.synced
	$(VENV_BIN)/python bench/bench_extract.py $(BENCH_ARGS)
	$(VENV_BIN)/python bench/bench_extract_loss.py $(BENCH_ARGS)

# Story benchmark (bench/README.md); e.g. BENCH_ARGS="--skip-scale" or "--scale 25000 --profile"
bench-stories: .venv/.synced
	$(VENV_BIN)/python bench/bench_stories.py $(BENCH_ARGS)

bench-entities: .venv/.synced
	$(VENV_BIN)/python bench/bench_entities.py $(BENCH_ARGS)

# Night benchmark (bench/README.md), long: e.g. BENCH_ARGS="--history 2000 --pages 200" to check it
bench-night: setup
	$(VENV_BIN)/python bench/bench_night.py $(BENCH_ARGS)

# Advisor: `make run` serves the app on http://127.0.0.1:8000, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
# Locked dependencies with hashes (make lock): production's for the image, with the dev extra
# for this venv and CI. pip-tools writes them from pyproject.toml.
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --all-build-deps --no-emit-index-url --no-emit-find-links
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock run test lint format bench migrate examples prod-check

# Every package at its locked version and hash (pip and setuptools included), then the
# project itself, editable, with nothing more fetched: its build backend is in the lock too.
$(STAMP): pyproject.toml $(DEV_LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) install --require-hashes -r $(DEV_LOCK)
	@$(PIP) install --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# Re-resolve both locks from pyproject.toml after changing its dependencies (pins that still
# fit are kept; LOCK_ARGS=--upgrade moves everything to the newest). The dev lock is held to
# the production lock's versions, so tests run what the image runs.
lock: install
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file $(LOCK) pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev --constraint $(LOCK) --output-file $(DEV_LOCK) pyproject.toml

migrate: install
	@$(BIN)/python manage.py migrate --verbosity 0

examples: migrate
	@$(BIN)/python manage.py load_examples

run: examples
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	@$(BIN)/ruff check --quiet .
	@$(BIN)/ruff format --check --quiet .

format: install
	@$(BIN)/ruff check --quiet --fix .
	@$(BIN)/ruff format --quiet .

test: lint
	@$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0
	$(BIN)/pytest $(PYTEST_ARGS)

# The production stack (two gunicorn replicas, DEBUG=0, nginx in front) on loopback with
# PostgreSQL and SQLite: one table of medians with targets; fails when one is missed.
# BENCH_QUICK=1 for a short smoke run. docs/performance.md has the targets and a run.
bench: install
	$(BIN)/python bench/run.py

# The production stack without Docker: compose's migrate + gunicorn web command, DEBUG=0,
# whitenoise, PostgreSQL (advisor_prodcheck), driven through a real session over HTTP.
prod-check: install
	$(BIN)/python scripts/prod_check.py

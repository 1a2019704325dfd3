# Advisor: `make run` serves the app on http://127.0.0.1:8000, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format bench migrate examples prod-check

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

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

# The production server (gunicorn, DEBUG=0) on loopback with PostgreSQL and SQLite: one table
# of medians with targets; exits 1 when one is missed. BENCH_QUICK=1 for a short smoke run.
bench: install
	$(BIN)/python bench/run.py

# The production stack without Docker: compose's migrate + gunicorn web command, DEBUG=0,
# whitenoise, PostgreSQL (advisor_prodcheck), driven through a real session over HTTP.
prod-check: install
	$(BIN)/python scripts/prod_check.py

# Moodlake: every target calls the `moodlake` CLI inside the project's virtualenv.
# Set-up is part of `run` and `test`: idempotent, cached, and a second run downloads nothing.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.moodlake-installed

.PHONY: setup run test test-fast test-integration test-e2e serve stop docs mlflow bench lint clean

$(STAMP): pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "mvn not found: install Maven (apt-get install maven); it fetches the Delta jars once"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)
	@$(BIN)/moodlake setup

run: setup
	$(BIN)/moodlake run

# the whole suite, lint first: what .ci/run calls
test: setup lint
	$(BIN)/pytest tests

# unit lane: no JVM, no servers (< 2 min); the inner loop
test-fast: $(STAMP)
	$(BIN)/pytest tests/unit -q

test-integration: setup
	$(BIN)/pytest tests/integration

test-e2e: setup
	$(BIN)/pytest tests/e2e

serve: setup
	$(BIN)/moodlake serve

stop:
	$(BIN)/moodlake stop

docs: setup
	$(BIN)/moodlake docs

mlflow: setup
	$(BIN)/moodlake mlflow

bench: setup
	$(BIN)/python bench/run.py

# ruff, the import-layer contracts, sqlfluff and its copy of the dbt vars
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_sqlfluff_vars.py
	$(BIN)/sqlfluff lint models snapshots analyses --disable-progress-bar

clean:
	rm -rf .moodlake

# Salesflow — the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := leads opportunities offers orders fulfillment aftersales controlling
EDITABLES := -e shared $(foreach s,$(SERVICES),-e services/$(s))
STAMP := $(VENV)/.installed
BROKER ?= embedded
TEST_PATHS := shared/tests $(wildcard services/*/tests) tests
PYTEST_ARGS ?=

.PHONY: install run demo test test-real lint format bench clean help

help:
	@echo "make run [BROKER=kafka]  install if needed, start broker + all seven services"
	@echo "make test                test suite on the embedded broker + SQLite"
	@echo "make test-real           same suite on Apache Kafka + PostgreSQL"
	@echo "make lint | format | bench | clean"

# (Re)install when the lock or any pyproject changed.
$(STAMP): requirements.lock shared/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock $(EDITABLES) -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/salesflow dev --broker $(BROKER)

demo: $(STAMP)
	$(VENV)/bin/salesflow demo

test: $(STAMP)
	SALESFLOW_TEST_BROKER=embedded SALESFLOW_TEST_DB=sqlite $(PY) -m pytest $(TEST_PATHS) $(PYTEST_ARGS)

test-real: $(STAMP)
	deploy/scripts/kafka-jars.sh
	deploy/scripts/postgres.sh >/dev/null
	SALESFLOW_TEST_BROKER=kafka SALESFLOW_TEST_DB=postgresql $(PY) -m pytest $(TEST_PATHS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf .data .schemathesis .hypothesis bench/results.json
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

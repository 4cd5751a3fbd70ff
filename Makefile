# Salesflow — the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := leads opportunities offers orders fulfillment aftersales controlling
EDITABLES := -e shared $(foreach s,$(SERVICES),-e services/$(s))
STAMP := $(VENV)/.installed
BROKER ?= embedded
# tests/chaos runs on its own (`make chaos`): it kills services and brokers for minutes
TEST_PATHS := shared/tests $(wildcard services/*/tests) tests --ignore=tests/chaos
PYTEST_ARGS ?=

.PHONY: install run demo test test-real chaos lint format bench clean help

help:
	@echo "make run [BROKER=kafka]  install if needed, start broker + all seven services"
	@echo "make test                test suite on the embedded broker + SQLite"
	@echo "make test-real           same suite on Apache Kafka + PostgreSQL"
	@echo "make chaos [BROKER=kafka DB=postgresql | REPLICAS=2]  crash and broker-loss tests"
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

# SIGKILL/SIGSTOP services and the broker during journeys; SALESFLOW_CHAOS_JOURNEYS (300),
# SALESFLOW_CHAOS_FAULT_S (60) bound it. BROKER=kafka DB=postgresql for Apache Kafka + PostgreSQL.
# REPLICAS=2: every service as two processes (one database, one consumer group) — always on
# Apache Kafka + PostgreSQL (replicas cannot share a SQLite file); 40 journeys, 30 s of faults
# unless SALESFLOW_CHAOS_JOURNEYS / SALESFLOW_CHAOS_FAULT_S say otherwise.
DB ?= sqlite
REPLICAS ?= 1
chaos: $(STAMP)
ifeq ($(REPLICAS),1)
	SALESFLOW_TEST_BROKER=$(if $(filter kafka,$(BROKER)),kafka,embedded) SALESFLOW_TEST_DB=$(DB) $(PY) -m pytest tests/chaos -s $(PYTEST_ARGS)
else
	deploy/scripts/kafka-jars.sh
	deploy/scripts/postgres.sh >/dev/null
	SALESFLOW_CHAOS_REPLICAS=$(REPLICAS) SALESFLOW_CHAOS_JOURNEYS=$${SALESFLOW_CHAOS_JOURNEYS:-40} \
	SALESFLOW_CHAOS_FAULT_S=$${SALESFLOW_CHAOS_FAULT_S:-30} \
	SALESFLOW_TEST_BROKER=kafka SALESFLOW_TEST_DB=postgresql $(PY) -m pytest tests/chaos -s $(PYTEST_ARGS)
endif

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# BENCH_ARGS=system: only the whole-system part (startup, flows, handoffs, memory)
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf .data .schemathesis .hypothesis bench/results.json
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

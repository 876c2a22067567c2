SHELL := /bin/bash
# Two commands on a fresh machine:  make run  |  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup setup-dev migrate seed lint audit bench worker sweep lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime

setup-dev: $(VENV)/.dev

migrate: setup
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --only-if-empty
	$(FLASK) ensure-first-admin

run: seed
	@echo "Orderdesk back office: http://$(HOST):$(PORT)/admin/"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: setup-dev
	$(BIN)/python -m pytest

lint: setup-dev
	$(BIN)/ruff check .

# Known vulnerabilities in the pinned requirements (pip-audit); acknowledged ones: audit-acknowledged.txt.
# Strict: an unreachable vulnerability service fails too (AUDIT_IF_REACHABLE=1: says so and goes on).
audit: setup-dev
	BIN=$(BIN) .ci/audit

bench: setup-dev
	$(BIN)/python -m pytest -m benchmark -s

worker: migrate
	$(FLASK) worker

sweep: migrate
	$(FLASK) sweep

# Re-pin everything after changing requirements.in / requirements-dev.in.
lock:
	rm -rf /tmp/orderdesk-lock && $(PYTHON) -m venv /tmp/orderdesk-lock
	/tmp/orderdesk-lock/bin/pip install --quiet -r requirements.in
	/tmp/orderdesk-lock/bin/pip freeze > /tmp/orderdesk-runtime.txt
	/tmp/orderdesk-lock/bin/pip install --quiet -r requirements-dev.in
	/tmp/orderdesk-lock/bin/pip freeze > /tmp/orderdesk-all.txt
	{ echo "# Pinned runtime set: generated from requirements.in with pip freeze. Regenerate with 'make lock'."; cat /tmp/orderdesk-runtime.txt; } > requirements.txt
	{ echo "# Pinned test/dev set (on top of requirements.txt), from requirements-dev.in."; echo "-r requirements.txt"; \
	  comm -13 <(sort /tmp/orderdesk-runtime.txt) <(sort /tmp/orderdesk-all.txt); } > requirements-dev.txt

clean:
	rm -rf $(VENV) instance .pytest_cache

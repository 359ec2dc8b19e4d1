# learncity: `make run` starts the assistant, `make test` runs the whole suite.
# Both set up what they need first; a second run on an unchanged tree installs nothing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed

# Python 3.11 for the application, Python 3.10 for Rasa 3.6 (it supports 3.8-3.10 only).
find_python = $(shell for candidate in python$(1) $$HOME/.pyenv/versions/$(1)*/bin/python$(1) /usr/local/bin/python$(1) /usr/bin/python$(1); do \
	if $$candidate -c 'import sys; sys.exit(0 if sys.version_info[:2] == tuple(map(int, "$(1)".split("."))) else 1)' >/dev/null 2>&1; then echo $$candidate; break; fi; done)
PYTHON311 ?= $(call find_python,3.11)
PYTHON310 ?= $(call find_python,3.10)

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1


.PHONY: browser haproxy help setup run test bench nlu-eval lint typecheck validate format train clean

help:
	@echo "make run       set up, train if needed, start Rasa + actions + gateway (web chat on http://127.0.0.1:8000)"
	@echo "make test      set up, then lint, typecheck, validate and run the whole test suite"
	@echo "make bench     speed and memory benchmarks (table + JSON under bench/results/)"
	@echo "make nlu-eval  evaluate the NLU per source and language, public text too (reports under .data/reports/)"
	@echo "make lint      ruff lint and format check"
	@echo "make typecheck mypy on the application packages"
	@echo "make validate  rasa data validate (domain, training data, config)"

setup: $(APP_STAMP) $(RASA_STAMP) browser haproxy

# The web chat's browser test drives Debian's Chromium (never a downloaded browser build).
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		echo "==> installing Debian's chromium for the web chat test" && \
		apt-get update -qq >/dev/null && apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-core >/dev/null; } \
		|| echo "note: /usr/bin/chromium is missing; the browser tests will fail, naming it"

# The cluster tests and bench put Debian's HAProxy in front of the replicas, as deploy/ does.
haproxy:
	@test -x /usr/sbin/haproxy || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		echo "==> installing Debian's haproxy for the cluster tests" && \
		apt-get update -qq >/dev/null && apt-get install -y -qq haproxy >/dev/null; } \
		|| echo "note: /usr/sbin/haproxy is missing; the cluster's balancer tests will fail, naming it"

$(APP_STAMP): pyproject.toml requirements/app.lock
	@test -n "$(PYTHON311)" || { echo "error: Python 3.11 not found; install it or set PYTHON311=/path/to/python3.11" >&2; exit 1; }
	@echo "==> application environment ($(VENV), $$($(PYTHON311) --version))"
	@test -x $(VENV)/bin/python || $(PYTHON311) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(VENV)/bin/python -m pip install --quiet -c requirements/app.lock torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
	@$(VENV)/bin/python -m pip install --quiet -c requirements/app.lock -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(VENV)/bin/python -c "import torch, rasa_sdk, faiss, sentence_transformers, telegram, sqlalchemy, onnxruntime" \
		|| { echo "error: the application environment is incomplete; see the pip output above" >&2; exit 1; }
	@touch $@

$(RASA_STAMP): requirements/rasa.txt requirements/rasa.lock
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found (Rasa 3.6 needs 3.8-3.10); set PYTHON310=/path/to/python3.10" >&2; exit 1; }
	@echo "==> Rasa environment ($(RASA_VENV), $$($(PYTHON310) --version)); the first time takes about 2 minutes"
	@test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(RASA_VENV)/bin/python -m pip install --quiet -c requirements/rasa.lock -r requirements/rasa.txt 2>&1 | grep -v "^WARNING: Location" || true
	@$(RASA_VENV)/bin/rasa --version >/dev/null 2>&1 \
		|| { echo "error: Rasa did not install into $(RASA_VENV); see the pip output above" >&2; exit 1; }
	@touch $@

run: setup
	$(VENV)/bin/learncity run

train: setup
	$(VENV)/bin/learncity train

# What CI runs (.ci/run), in this order: lint, types, the training data as Rasa reads it, tests.
# -rfEs lists every failure, error and skip at the end; with CI set a skip fails (tests/conftest.py).
test: setup
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory typecheck
	@$(MAKE) --no-print-directory validate
	$(VENV)/bin/python -m pytest -q -rfEs --durations=25

bench: setup
	$(VENV)/bin/python -m bench

# One parse of every set: the held-out set in detail, then a table per source and language
# (project held-out, blind and paraphrase sets; the test split of each public corpus).
# Thresholds are chosen on the validation split by `python -m nlu.calibrate` (docs/nlu-evaluation.md).
nlu-eval: setup train
	nice $(VENV)/bin/python -m nlu.evaluate

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Which packages mypy holds to their types yet: [tool.mypy] in pyproject.toml.
typecheck: setup
	$(VENV)/bin/python -m mypy core citizens knowledge bot actions nlu staff helpdesk

# The domain, training data and config exactly as `learncity train` passes them (nlu/training.py).
# Warnings are shown but do not fail: `share_location` is sent only as a payload, never typed.
validate: setup
	PYTHONPATH=$(CURDIR) RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
		SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore::DeprecationWarning \
		$(RASA_VENV)/bin/rasa data validate --config config.yml --domain nlu/domain --data nlu/data

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf .data .pytest_cache .ruff_cache

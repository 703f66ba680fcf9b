# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo up test test-unit test-integration bench lint clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-groups
	rm -f $(VENV)/.synced-*
	touch $@

install: $(STAMP)

# Starts in the 2023 map of 27 districts and moves to the two-tier map of 166 communes while
# the devices post (a home that holds the two-tier map already stays in it).
demo: install
	$(VENV)/bin/tally06 up --demo --demo-map 2023

up: install
	$(VENV)/bin/tally06 up

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: install lint
	$(VENV)/bin/python -m pytest -q

test-unit: install
	$(VENV)/bin/python -m pytest -q tests/unit

test-integration: install
	$(VENV)/bin/python -m pytest -q tests/integration tests/e2e

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .tally06 .pytest_cache

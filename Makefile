# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml | cksum | cut -d' ' -f1)
# Apache Kafka from Maven Central (deploy/kafka/pom.xml), fetched again only when the POM or the
# checksums change; every jar is checked against deploy/kafka/jars.sha256.
KAFKA_POM := deploy/kafka/pom.xml
KAFKA_LIB := $(TOOLS)/kafka/lib
KAFKA_STAMP := $(TOOLS)/kafka/.fetched-$(shell cat $(KAFKA_POM) deploy/kafka/jars.sha256 | cksum | cut -d' ' -f1)
MAVEN_DEPENDENCY := org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies

.PHONY: install demo up test test-unit test-integration bench lint clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-groups
	rm -f $(VENV)/.synced-*
	touch $@

$(KAFKA_STAMP): $(KAFKA_POM) deploy/kafka/jars.sha256
	@command -v java >/dev/null || { echo "Java 17 or newer is needed to run Apache Kafka (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is needed to fetch Apache Kafka (apt-get install maven)"; exit 1; }
	rm -rf $(TOOLS)/kafka
	mvn -q -B --strict-checksums -f $(KAFKA_POM) $(MAVEN_DEPENDENCY) -DoutputDirectory=$(abspath $(KAFKA_LIB))
	cd $(KAFKA_LIB) && sha256sum --quiet --strict -c $(abspath deploy/kafka/jars.sha256)
	@test $$(ls $(KAFKA_LIB) | wc -l) -eq $$(wc -l < deploy/kafka/jars.sha256) || { echo "$(KAFKA_LIB) holds jars deploy/kafka/jars.sha256 does not list"; exit 1; }
	touch $@

install: $(STAMP) $(KAFKA_STAMP)

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

# The suite is spread over TEST_WORKERS processes, a test file each at a time (pytest-xdist); each
# starts its own PostgreSQL and Kafka, and scans what it made for leaked personal data at its end.
TEST_WORKERS ?= 2

test: install lint
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-unit: install
	$(VENV)/bin/python -m pytest -q tests/unit

test-integration: install
	$(VENV)/bin/python -m pytest -q tests/integration tests/e2e

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .tally06 .pytest_cache

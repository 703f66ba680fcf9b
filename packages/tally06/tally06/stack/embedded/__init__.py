"""Launchers for PostgreSQL and a Kafka-compatible broker, shipped as PyPI wheels, so the
local stack and the test suite need nothing installed on the machine."""

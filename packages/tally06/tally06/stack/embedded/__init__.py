"""Launchers for PostgreSQL (from a PyPI wheel) and Apache Kafka (from Maven Central, fetched by
`make install`), so the local stack and the test suite start their own real components."""

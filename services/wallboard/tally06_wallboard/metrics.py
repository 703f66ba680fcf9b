"""Prometheus metrics of the wallboard."""

from prometheus_client import Counter, Gauge

STREAMS_OPEN = Gauge("tally06_wallboard_streams_open", "Open event streams (boards listening)")
EVENTS_SENT = Counter("tally06_wallboard_events_sent_total", "Events written to board streams", ["kind"])

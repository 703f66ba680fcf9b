"""Metric families: the one place that says which counters a family groups.

A target or a report may name a family (``activated`` counts level 1 and level 2 together).
"""

from __future__ import annotations

from tally06.contract.events import Metric

FAMILIES: dict[str, tuple[Metric, ...]] = {
    "activated": (Metric.ACTIVATED_L1, Metric.ACTIVATED_L2),
    "collected": (Metric.COLLECTED_L1, Metric.COLLECTED_L2),
    "approved": (Metric.APPROVED_L1, Metric.APPROVED_L2),
}


def metrics_of(target_metric: str) -> tuple[Metric, ...]:
    """The counters a target is measured against."""
    if target_metric in FAMILIES:
        return FAMILIES[target_metric]
    return (Metric(target_metric),)


# What plan 70 counts as activated, in the order reports print the levels.
ACTIVATED: tuple[str, ...] = tuple(m.value for m in FAMILIES["activated"])

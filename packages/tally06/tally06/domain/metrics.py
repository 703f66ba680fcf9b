"""Metric families and the words for metrics: the one place that says which counters a family
groups and what a person reads for each.

A target or a report may name a family (``activated`` counts level 1 and level 2 together). The
metrics themselves are part of the event contract (``tally06.contract.events.Metric``).
"""

from __future__ import annotations

from tally06.contract.events import Metric

FAMILIES: dict[str, tuple[Metric, ...]] = {
    "activated": (Metric.ACTIVATED_L1, Metric.ACTIVATED_L2),
    "collected": (Metric.COLLECTED_L1, Metric.COLLECTED_L2),
    "approved": (Metric.APPROVED_L1, Metric.APPROVED_L2),
    # The registry's verdict on activation claims (domain/registry.py, docs/registry.md).
    "confirmed": (Metric.CONFIRMED_L1, Metric.CONFIRMED_L2),
    "pending": (Metric.PENDING_L1, Metric.PENDING_L2),
    "unconfirmed": (Metric.UNCONFIRMED_L1, Metric.UNCONFIRMED_L2),
    "already_active": (Metric.ALREADY_ACTIVE_L1, Metric.ALREADY_ACTIVE_L2),
    "level_differs": (Metric.LEVEL_DIFFERS_L1, Metric.LEVEL_DIFFERS_L2),
    "unclaimed": (Metric.UNCLAIMED_L1, Metric.UNCLAIMED_L2),
}


def metrics_of(target_metric: str) -> tuple[Metric, ...]:
    """The counters a target is measured against."""
    if target_metric in FAMILIES:
        return FAMILIES[target_metric]
    return (Metric(target_metric),)


# What plan 70 counts as activated, in the order reports print the levels.
ACTIVATED_FAMILY = "activated"
ACTIVATED: tuple[str, ...] = tuple(m.value for m in FAMILIES[ACTIVATED_FAMILY])

# How a message names a metric or a family (Vietnamese, lower case: it stands inside a sentence).
METRIC_LABEL_VI: dict[str, str] = {
    "activated": "kích hoạt", "activated_l1": "kích hoạt mức 1", "activated_l2": "kích hoạt mức 2",
    "collected": "thu nhận hồ sơ", "collected_l1": "thu nhận hồ sơ mức 1", "collected_l2": "thu nhận hồ sơ mức 2",
    "approved": "hồ sơ được duyệt", "approved_l1": "hồ sơ mức 1 được duyệt", "approved_l2": "hồ sơ mức 2 được duyệt",
    "installed": "cài đặt VNeID",
    "confirmed": "kích hoạt được xác nhận", "confirmed_l1": "kích hoạt mức 1 được xác nhận",
    "confirmed_l2": "kích hoạt mức 2 được xác nhận",
    "pending": "kích hoạt chờ xác nhận", "pending_l1": "kích hoạt mức 1 chờ xác nhận",
    "pending_l2": "kích hoạt mức 2 chờ xác nhận",
    "unconfirmed": "kích hoạt không được xác nhận", "unconfirmed_l1": "kích hoạt mức 1 không được xác nhận",
    "unconfirmed_l2": "kích hoạt mức 2 không được xác nhận",
    "already_active": "tài khoản đã kích hoạt từ trước", "already_active_l1": "tài khoản mức 1 đã kích hoạt từ trước",
    "already_active_l2": "tài khoản mức 2 đã kích hoạt từ trước",
    "level_differs": "kích hoạt khác mức", "level_differs_l1": "kích hoạt mức 1 khác mức",
    "level_differs_l2": "kích hoạt mức 2 khác mức",
    "unclaimed": "kích hoạt không tổ nào báo", "unclaimed_l1": "kích hoạt mức 1 không tổ nào báo",
    "unclaimed_l2": "kích hoạt mức 2 không tổ nào báo",
}

# The basis a ranking or Appendix I is made on: what teams claim, or what the registry confirms.
BASES: dict[str, str] = {"claimed": ACTIVATED_FAMILY, "confirmed": "confirmed"}

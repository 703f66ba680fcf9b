"""The alert rules: their names, and the words people read for them. The one home of both."""

from __future__ import annotations

import enum


class Rule(enum.StrEnum):
    PACE = "pace"
    MISSED_DAILY = "missed_daily"
    SILENT = "silent"

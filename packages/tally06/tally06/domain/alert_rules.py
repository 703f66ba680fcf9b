"""The alert rules: their names, and the words people read for them. The one home of both.

The notifier decides when a rule fires (``tally06_notifier.rules``); everything that names a rule
to a person takes its words from here: the message ("Xã A chậm tiến độ"), the acknowledgement
page and the board (``static/i18n.js`` is tested against ``RULE_TEXTS``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleText:
    predicate_vi: str  # follows the unit's name in a message: "{unit} {predicate_vi}"
    title_vi: str  # a heading of its own: the board, the acknowledgement page
    title_en: str

    @property
    def phrase_vi(self) -> str:
        """The title inside a sentence (lower case first letter)."""
        return self.title_vi[:1].lower() + self.title_vi[1:]


class Rule(enum.StrEnum):
    """The stored name of a rule (the ``alerts.rule`` column accepts these only)."""

    PACE = "pace"
    MISSED_DAILY = "missed_daily"
    SILENT = "silent"
    LOW_CONFIRMATION = "low_confirmation"
    SPOT_CHECK_FAILED = "spot_check_failed"


RULE_TEXTS: dict[Rule, RuleText] = {
    Rule.PACE: RuleText("chậm tiến độ", "Chậm tiến độ trong ngày", "Behind pace today"),
    Rule.MISSED_DAILY: RuleText("không đạt chỉ tiêu ngày", "Không đạt chỉ tiêu ngày", "Missed daily target"),
    Rule.SILENT: RuleText("không gửi dữ liệu", "Không có hoạt động", "No activity"),
    Rule.LOW_CONFIRMATION: RuleText("có tỷ lệ kích hoạt được xác nhận thấp", "Tỷ lệ xác nhận kích hoạt thấp",
                                    "Low confirmation rate"),
    Rule.SPOT_CHECK_FAILED: RuleText("không đạt kiểm tra xác suất", "Không đạt kiểm tra xác suất",
                                     "Failed spot check"),
}

"""The figures the read API must show, computed from what was posted, without wallboard code.

The counters come from ``tests.support.ground_truth`` (credit by order of acceptance); the
arithmetic here is written out plainly (Decimal half-up, ceilings, counting who is ahead) so a
mistake in ``tally06.domain.pace`` or the wallboard cannot hide in the expectation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

ACTIVATED = ("activated_l1", "activated_l2")


def pct(done: int, target: int) -> float:
    if target == 0:
        return 100.0
    return float((Decimal(done * 100) / Decimal(target)).quantize(Decimal("0.01"), ROUND_HALF_UP))


class Truth:
    def __init__(self, counted: dict[str, Counter], today: dt.date) -> None:
        self.daily, self.total, self.today = counted["unit_daily"], counted["unit_total"], today

    def on(self, unit: str, day: dt.date, metrics=ACTIVATED, kind: str = "credited") -> int:
        return sum(self.daily[(unit, day, m, kind)] for m in metrics)

    def claims_on(self, unit: str, day: dt.date) -> int:
        return sum(n for (u, d, _, kind), n in self.daily.items() if (u, d, kind) == (unit, day, "claims"))

    def cumulative(self, unit: str, metrics=ACTIVATED) -> int:
        return sum(self.total[(unit, m, "credited")] for m in metrics)

    def claims_total(self, unit: str) -> int:
        return sum(n for (u, _, kind), n in self.total.items() if (u, kind) == (unit, "claims"))

    def figures(self, unit: str, goal: tuple[int, int, int] | None, daily_target: int | None,
                share: float, days_left: int) -> dict:
        """The figures of ``/v1/units/{unit}/progress`` that depend on what was posted."""
        today = self.on(unit, self.today)
        done = (self.cumulative(unit), self.cumulative(unit, ["activated_l1"]), self.cumulative(unit, ["activated_l2"]))
        last7 = sum(self.on(unit, self.today - dt.timedelta(days=k)) for k in range(1, 8))
        out = {
            "today.activated": today,
            "today.target": daily_target,
            "today.completion_pct": None if daily_target is None else pct(today, daily_target),
            "today.expected_by_now": None if daily_target is None else round(daily_target * share, 2),
            "today.behind": daily_target is not None and share >= 0.25 and today < daily_target * share * 0.8,
            "campaign.activated": dict(zip(("total", "level1", "level2"), done, strict=True)),
            "campaign.run_rate": round(last7 / 7, 2),
            "duplicate_claims": {"today": self.claims_on(unit, self.today), "total": self.claims_total(unit)},
        }
        if goal is None:
            out.update({"campaign.completion_pct": None, "campaign.remaining": None,
                        "campaign.required_daily_rate": None, "campaign.forecast_completion": None})
            return out
        left = [max(0, g - d) for g, d in zip(goal, done, strict=True)]
        forecast = None
        if left[0] == 0:
            forecast = self.today.isoformat()
        elif last7 and math.ceil(Fraction(left[0] * 7, last7)) <= (dt.date.max - self.today).days:
            forecast = (self.today + dt.timedelta(days=math.ceil(Fraction(left[0] * 7, last7)))).isoformat()
        out.update({
            "campaign.completion_pct": {k: pct(d, g) for k, d, g in zip(("total", "level1", "level2"), done, goal, strict=True)},
            "campaign.remaining": dict(zip(("total", "level1", "level2"), left, strict=True)),
            "campaign.required_daily_rate": math.ceil(left[0] / days_left) if left[0] else 0,
            "campaign.forecast_completion": forecast,
        })
        return out


def shown(progress: dict) -> dict:
    """The same keys, read from an API answer."""
    today, campaign = progress["today"], progress["campaign"]
    return {
        "today.activated": today["activated"], "today.target": today["target"],
        "today.completion_pct": today["completion_pct"], "today.expected_by_now": today["expected_by_now"],
        "today.behind": today["behind"], "campaign.activated": campaign["activated"],
        "campaign.run_rate": campaign["run_rate"], "duplicate_claims": progress["duplicate_claims"],
        "campaign.completion_pct": campaign["completion_pct"], "campaign.remaining": campaign["remaining"],
        "campaign.required_daily_rate": campaign["required_daily_rate"],
        "campaign.forecast_completion": campaign["forecast_completion"],
    }


def ranks(scores: dict[str, Fraction | int]) -> dict[str, int]:
    """1 + how many units are strictly ahead: equal scores share a rank."""
    return {code: 1 + sum(other > score for other in scores.values()) for code, score in scores.items()}

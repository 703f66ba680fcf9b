"""The spot_check_failed rule: a unit whose latest verdict is a failed spot check. Pure.

A spot check (docs/spot-checks.md) is decided once, by the outcome that settles it, so this rule
does not move with the clock as the day's rules do: it looks at each unit's latest conclusive
check (passed or failed; an inconclusive one says nothing about the unit and changes nothing).

- A failed check decided within ``LOOKBACK`` opens the alert of (unit, the local day of its
  decision), once: the alert's detail names the check, so a later evaluation, another worker or
  a restarted notifier finds it and decides nothing (and the alerts table's UNIQUE (unit, rule,
  day) plus the messages' keys stop a race). Older failures are not announced: a notifier that
  was down for a week would otherwise send news its readers had from the board long ago.
- The alert resolves when a later check of the unit passes (``spot_check_passed``) — the same
  moment the "failed spot check" mark leaves the unit's figures — or when a newer failed check
  has its own alert (``spot_check_superseded``), or the unit left the live map (``not_in_map``).
  Acknowledging records who took it up; it does not resolve it: the failure stands until a
  check says otherwise.
- It goes at once to the unit's own focal points and the level above
  (``routing.spot_check_recipients``), so it is neither escalated nor reminded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tally06.domain.alert_rules import Rule
from tally06.domain.spot_checks import CheckStatus
from tally06_notifier.rules import AlertState, Decision, OpenAlert, ReopenAlert, ResolveAlert, local_day

# How long after its decision a failed check is still announced.
LOOKBACK = dt.timedelta(days=7)


@dataclass(frozen=True)
class DecidedCheck:
    """A unit's latest conclusive spot check, as the notifier reads it (``spot_checks``)."""

    id: int
    unit: str
    status: CheckStatus
    decided_at: dt.datetime
    n: int
    d: int
    successes: int
    failures: int
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    population: str = "credited"
    # Failing outcomes found, by outcome (``tally06.domain.spot_checks.FAILURES``).
    found: Mapping[str, int] = field(default_factory=dict, hash=False)

    def detail(self) -> dict[str, Any]:
        return {
            "id": self.id, "population": self.population, "n": self.n, "d": self.d,
            "successes": self.successes, "failures": self.failures, "found": dict(sorted(self.found.items())),
            "estimate": {"rate": self.estimate, "low": self.ci_low, "high": self.ci_high},
            "decided_at": self.decided_at.isoformat(),
        }


@dataclass(frozen=True)
class SpotAlert:
    state: AlertState
    check: int | None  # the check it was raised for (``detail.spot_check.id``)


def spot_check_decisions(latest: Iterable[DecidedCheck], alerts: Iterable[SpotAlert], now: dt.datetime, *,
                         in_map: Container[str] | None = None,
                         lookback: dt.timedelta = LOOKBACK) -> list[Decision]:
    """Every decision due at ``now`` over the units' latest conclusive checks and the
    spot_check_failed alerts known (open ones, and those of the last ``lookback``)."""
    last: Mapping[str, DecidedCheck] = {c.unit: c for c in latest}
    known = {(a.state.unit, a.state.day): a for a in alerts}
    decisions: list[Decision] = []
    current: set[tuple[str, dt.date]] = set()
    for check in last.values():
        if check.status is not CheckStatus.FAILED or (in_map is not None and check.unit not in in_map):
            continue
        key = (check.unit, local_day(check.decided_at))
        current.add(key)
        if check.decided_at < now - lookback:
            continue
        detail = {"spot_check": check.detail(), "at": now.isoformat()}
        alert = known.get(key)
        if alert is None:
            decisions.append(OpenAlert(check.unit, Rule.SPOT_CHECK_FAILED, key[1], detail))
        elif alert.check != check.id and not alert.state.is_open:
            # A second failed check the same day, after the unit passed one in between.
            decisions.append(ReopenAlert(alert.state, detail))
    for key, alert in sorted(known.items()):
        if not alert.state.is_open or key in current:
            continue
        unit = key[0]
        newest = last.get(unit)
        if in_map is not None and unit not in in_map:
            decisions.append(ResolveAlert(alert.state, "not_in_map", {}))
        elif newest is not None and newest.id != alert.check and newest.status is CheckStatus.PASSED:
            decisions.append(ResolveAlert(alert.state, "spot_check_passed", {"passed_check": {
                "id": newest.id, "decided_at": newest.decided_at.isoformat()}}))
        elif newest is not None and newest.id != alert.check:
            decisions.append(ResolveAlert(alert.state, "spot_check_superseded", {"superseded_by": newest.id}))
    return decisions

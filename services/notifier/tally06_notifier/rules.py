"""When an alert opens, resolves, reminds or escalates: pure decisions over one snapshot.

Everything here is a function of the snapshot, the policy and ``now``; the caller loads the
snapshot and stores the decisions in one transaction. Running the same evaluation twice gives
no new decision the second time, because each decision changes the alert state it reads.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tally06.contract.events import LOCAL_TZ
from tally06.domain.alert_rules import Rule
from tally06.domain.calendar import WorkingHours, working_hours_between, working_window
from tally06.domain.confirmation import REGISTRY_METRICS, Confirmation, LowConfirmation
from tally06.domain.org import UnitKind
from tally06.domain.pace import assess_pace, still_behind


@dataclass(frozen=True)
class Policy:
    tolerance: float = 0.2
    min_share: float = 0.25
    recover_margin: float = 0.1
    # A team with 30 expected by now misses 20 % by chance alone on many days; a shortfall must
    # also exceed this many standard deviations of a Poisson count (z·√expected) to alert.
    noise_z: float = 2.0
    silent_after_h: float = 2.0
    # Late phones sync in the minutes after the working day; judge the day after they had time.
    settle_after_end: dt.timedelta = dt.timedelta(minutes=10)
    remind_every: dt.timedelta = dt.timedelta(hours=2)
    max_reminders: int = 2
    escalate_after: dt.timedelta = dt.timedelta(hours=1)
    # A unit that falls behind again after catching up is re-announced this often per day at most.
    max_reopen_notices: int = 2
    # No message is sent from quiet_start to quiet_end (local); it waits for the morning.
    quiet_start: dt.time = dt.time(22, 30)
    quiet_end: dt.time = dt.time(7, 0)
    digest_at: dt.time = dt.time(7, 0)
    # When a unit's registry confirmation rate is worth an alert (reasons in tally06.domain.confirmation).
    low_confirmation: LowConfirmation = LowConfirmation()


@dataclass(frozen=True)
class UnitDay:
    """One unit on one local day: targets and results per target metric, and its hours."""

    code: str
    kind: UnitKind
    # The unit above in the live map. Every unit with one is judged, whatever its kind (team,
    # village, commune, district, a province under a country): someone above can act on it. A
    # root has nobody above it to hear the alert.
    parent: str | None
    day: dt.date
    hours: WorkingHours
    targets: Mapping[str, int]
    done: Mapping[str, int]
    last_seen: dt.datetime | None = None


@dataclass(frozen=True)
class UnitConfirmation:
    """A unit's claims as the registry judged them so far (cumulative), looked at on ``day``."""

    code: str
    parent: str | None
    day: dt.date
    figures: Confirmation


@dataclass(frozen=True)
class AlertState:
    id: int
    unit: str
    rule: Rule
    day: dt.date
    status: str
    last_opened_at: dt.datetime
    acknowledged_at: dt.datetime | None
    escalated_at: dt.datetime | None
    last_notified_at: dt.datetime | None
    reminders: int
    reopened: int

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class OpenAlert:
    unit: str
    rule: Rule
    day: dt.date
    detail: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class ReopenAlert:
    alert: AlertState
    detail: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class ResolveAlert:
    alert: AlertState
    reason: str
    detail: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class RemindAlert:
    """Send reminder ``number`` of an open alert nobody acknowledged."""

    alert: AlertState
    number: int


@dataclass(frozen=True)
class EscalateAlert:
    alert: AlertState


Decision = OpenAlert | ReopenAlert | ResolveAlert | RemindAlert | EscalateAlert


def local_day(now: dt.datetime) -> dt.date:
    return now.astimezone(LOCAL_TZ).date()


def is_quiet(now: dt.datetime, policy: Policy) -> bool:
    t = now.astimezone(LOCAL_TZ).time()
    if policy.quiet_start <= policy.quiet_end:
        return policy.quiet_start <= t < policy.quiet_end
    return t >= policy.quiet_start or t < policy.quiet_end


def next_send_time(now: dt.datetime, policy: Policy) -> dt.datetime:
    """``now`` outside quiet hours, else the end of the quiet hours."""
    if not is_quiet(now, policy):
        return now
    local = now.astimezone(LOCAL_TZ)
    end = dt.datetime.combine(local.date(), policy.quiet_end, LOCAL_TZ)
    return end if end > local else end + dt.timedelta(days=1)


def _open_or_reopen(alert: AlertState | None, unit: UnitDay | UnitConfirmation, rule: Rule,
                    detail: dict[str, Any]) -> Decision | None:
    if alert is None:
        return OpenAlert(unit.code, rule, unit.day, detail)
    if not alert.is_open:
        return ReopenAlert(alert, detail)
    return None


def pace_decision(unit: UnitDay, alert: AlertState | None, now: dt.datetime, policy: Policy) -> Decision | None:
    """Behind its expected progress by more than the tolerance, during its working hours."""
    start, end = working_window(unit.day, unit.hours)
    if now >= end:
        # Past the working day the end-of-day check takes over.
        return ResolveAlert(alert, "day_ended", {}) if alert is not None and alert.is_open else None
    if now < start:
        return None
    was_open = alert is not None and alert.is_open
    figures: dict[str, Any] = {}
    behind = False
    for metric, target in sorted(unit.targets.items()):
        if target <= 0:
            continue
        status = assess_pace(target, unit.done.get(metric, 0), now, unit.hours, policy.tolerance, policy.min_share)
        beyond_chance = status.actual < status.expected - policy.noise_z * math.sqrt(status.expected)
        if was_open:
            behind = still_behind(True, status, policy.recover_margin) or behind
        else:
            behind = (status.behind and beyond_chance) or behind
        figures[metric] = {"target": target, "actual": status.actual, "expected": round(status.expected, 1)}
    if not figures:
        return None
    detail = {"metrics": figures, "at": now.isoformat()}
    if behind:
        return _open_or_reopen(alert, unit, Rule.PACE, detail)
    return ResolveAlert(alert, "caught_up", detail) if was_open and alert is not None else None


def silent_decision(unit: UnitDay, alert: AlertState | None, now: dt.datetime, policy: Policy) -> Decision | None:
    """A team expected to work today and not heard from for ``silent_after_h`` working hours."""
    if unit.kind is not UnitKind.TEAM:
        return None
    start, end = working_window(unit.day, unit.hours)
    was_open = alert is not None and alert.is_open
    if now >= end:
        return ResolveAlert(alert, "day_ended", {}) if was_open and alert is not None else None
    if now < start or not any(t > 0 for t in unit.targets.values()):
        return None
    heard = unit.last_seen
    if was_open and alert is not None:
        if heard is not None and heard > alert.last_opened_at:
            return ResolveAlert(alert, "heard_from", {"last_seen": heard.isoformat()})
        return None
    quiet_h = working_hours_between(heard or start, now, unit.hours)
    if quiet_h < policy.silent_after_h:
        return None
    detail = {"last_seen": heard.isoformat() if heard else None, "silent_hours": round(quiet_h, 1),
              "at": now.isoformat()}
    return _open_or_reopen(alert, unit, Rule.SILENT, detail)


def heard_from(change: Mapping[str, Any]) -> bool:
    """Whether a progress message shows a team at work: the reconciler publishes registry
    counters when an extract arrives, which says nothing about the team being out in the field."""
    metrics = set(change.get("daily") or {}) | set(change.get("total") or {})
    return not metrics or bool(metrics - REGISTRY_METRICS)


def low_confirmation_decision(unit: UnitConfirmation, alert: AlertState | None, now: dt.datetime,
                              policy: Policy) -> Decision | None:
    """The registry confirms too few of the unit's claims whose window has passed (pending claims
    are not judged yet); resolves when the rate is back at the threshold. Judged all day long:
    the figures move when an extract is reconciled, not with the working hours."""
    rule, figures = policy.low_confirmation, unit.figures
    found = figures.rate()
    detail = {"confirmation": {
        "confirmed": figures.confirmed.total, "judged": figures.judged(), "pending": figures.pending.total,
        "claimed": figures.claimed.total, "rate": None if found is None else round(float(found), 4),
        "threshold": rule.threshold, "min_judged": rule.min_judged}, "at": now.isoformat()}
    if rule.is_low(figures):
        return _open_or_reopen(alert, unit, Rule.LOW_CONFIRMATION, detail)
    if alert is not None and alert.is_open:
        return ResolveAlert(alert, "confirmation_recovered", detail)
    return None


def missed_daily_decision(unit: UnitDay, alert: AlertState | None, now: dt.datetime, policy: Policy) -> Decision | None:
    """After the working day has settled: below the daily target; resolves if late events fill it."""
    _, end = working_window(unit.day, unit.hours)
    if now < end + policy.settle_after_end:
        return None
    figures = {
        metric: {"target": target, "actual": unit.done.get(metric, 0)}
        for metric, target in sorted(unit.targets.items()) if target > 0
    }
    missed = any(f["actual"] < f["target"] for f in figures.values())
    if missed and alert is None:
        return OpenAlert(unit.code, Rule.MISSED_DAILY, unit.day, {"metrics": figures})
    if not missed and alert is not None and alert.is_open:
        return ResolveAlert(alert, "target_met_late", {"metrics": figures})
    return None


def follow_up_decision(alert: AlertState, now: dt.datetime, policy: Policy) -> Decision | None:
    """Escalate an unacknowledged alert once, else remind at a bounded interval, never in quiet hours."""
    if not alert.is_open or alert.acknowledged_at is not None or is_quiet(now, policy):
        return None
    if alert.escalated_at is None and now - alert.last_opened_at >= policy.escalate_after:
        return EscalateAlert(alert)
    if alert.rule in (Rule.MISSED_DAILY, Rule.LOW_CONFIRMATION):
        # The morning digest repeats a missed day, and a low rate is raised again each day it
        # lasts (it moves with the registry's extracts, not by the hour): a reminder would be noise.
        return None
    last = alert.last_notified_at or alert.last_opened_at
    if alert.reminders < policy.max_reminders and now - last >= policy.remind_every:
        return RemindAlert(alert, alert.reminders + 1)
    return None


def evaluate(
    units: Iterable[UnitDay],
    alerts: Mapping[tuple[str, Rule, dt.date], AlertState],
    now: dt.datetime,
    policy: Policy,
    in_map: Container[str] | None = None,
    confirmations: Iterable[UnitConfirmation] = (),
) -> list[Decision]:
    """Every decision due at ``now``: rule checks per unit-day and the confirmation rate of
    every unit (today's alert), then follow-ups of open alerts.

    ``in_map`` holds the codes of the live map: an open alert of a unit the map no longer has
    (a dissolved district, a merged commune) resolves, as nobody could act on it any more.
    """
    today = local_day(now)
    decisions: list[Decision] = []
    changed: set[int] = set()
    for unit in units:
        if unit.parent is None:
            continue
        checks = [(Rule.MISSED_DAILY, missed_daily_decision)]
        if unit.day == today:
            checks += [(Rule.PACE, pace_decision), (Rule.SILENT, silent_decision)]
        for rule, check in checks:
            alert = alerts.get((unit.code, rule, unit.day))
            decision = check(unit, alert, now, policy)
            if decision is not None:
                decisions.append(decision)
                if alert is not None:
                    changed.add(alert.id)
    for confirmation in confirmations:
        if confirmation.parent is None or confirmation.day != today:
            continue
        alert = alerts.get((confirmation.code, Rule.LOW_CONFIRMATION, today))
        decision = low_confirmation_decision(confirmation, alert, now, policy)
        if decision is not None:
            decisions.append(decision)
            if alert is not None:
                changed.add(alert.id)
    for alert in alerts.values():
        # A failed spot check's alert is not a day's: tally06_notifier.spot_check_rule follows it.
        if alert.id in changed or alert.rule is Rule.SPOT_CHECK_FAILED:
            continue
        # A day's pace and silence end with the day; a missed day stays up for one more day,
        # so the morning shift sees it, then it is history.
        expired = alert.day < today - dt.timedelta(days=1 if alert.rule is Rule.MISSED_DAILY else 0)
        if alert.is_open and expired:
            decisions.append(ResolveAlert(alert, "day_ended", {}))
            continue
        if alert.is_open and in_map is not None and alert.unit not in in_map:
            decisions.append(ResolveAlert(alert, "not_in_map", {}))
            continue
        follow_up = follow_up_decision(alert, now, policy)
        if follow_up is not None:
            decisions.append(follow_up)
    return decisions

"""What the rules look at, read from PostgreSQL in one go.

The read model is the authority for counts (the progress stream only says "look again"), so
any worker that takes over sees exactly what its predecessor would have seen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg

from tally06.domain.alert_rules import Rule
from tally06.domain.calendar import hours_for
from tally06.domain.confirmation import confirmation_metrics, confirmation_of
from tally06.domain.focal_points import Recipient
from tally06.domain.org import OrgRegistry
from tally06.domain.spot_checks import FAILURES, CheckStatus
from tally06.domain.targets import done_by_target_metric, rollup_daily_targets
from tally06.store.focal_points import recipients_by_unit
from tally06.store.targets import daily_targets_on
from tally06.store.working_hours import working_hours_on
from tally06_notifier.rules import AlertState, UnitConfirmation, UnitDay, local_day
from tally06_notifier.spot_check_rule import LOOKBACK, DecidedCheck, SpotAlert

AlertIndex = dict[tuple[str, Rule, dt.date], AlertState]


@dataclass(frozen=True)
class Snapshot:
    now: dt.datetime
    units: list[UnitDay]
    alerts: AlertIndex
    focal_points: dict[str, list[Recipient]]
    # Days a notifier was running on: only those days' targets are judged as missed, or the
    # first start would report every team as having missed a day nobody was counting.
    watched_days: frozenset[dt.date] = frozenset()
    # Every unit's claims and the registry's verdicts so far, for the low_confirmation rule.
    confirmations: list[UnitConfirmation] = field(default_factory=list)
    # The latest conclusive spot check of each unit that has a recent failure or an open
    # spot_check_failed alert, and those alerts (tally06_notifier.spot_check_rule).
    spot_checks: list[DecidedCheck] = field(default_factory=list)
    spot_alerts: list[SpotAlert] = field(default_factory=list)

    def units_to_judge(self) -> list[UnitDay]:
        today = local_day(self.now)
        return [u for u in self.units if u.day == today or u.day in self.watched_days]


def alert_state(row: asyncpg.Record) -> AlertState:
    return AlertState(
        id=row["id"], unit=row["unit"], rule=Rule(row["rule"]), day=row["day"], status=row["status"],
        last_opened_at=row["last_opened_at"], acknowledged_at=row["acknowledged_at"],
        escalated_at=row["escalated_at"], last_notified_at=row["last_notified_at"],
        reminders=row["reminders"], reopened=row["reopened"],
    )


async def _unit_days(conn: asyncpg.Connection, org: OrgRegistry, day: dt.date,
                     last_seen: dict[str, dt.datetime]) -> list[UnitDay]:
    targets = rollup_daily_targets(org, await daily_targets_on(conn, day))
    explicit_hours = await working_hours_on(conn, day)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in await conn.fetch("SELECT unit, metric, credited FROM unit_daily WHERE day = $1", day):
        counts[row["unit"]][row["metric"]] = row["credited"]
    days = []
    for code, unit_targets in targets.items():
        unit = org.get(code)
        if unit is None:
            continue
        days.append(UnitDay(
            code=code, kind=unit.kind, parent=unit.parent_code, day=day, hours=hours_for(code, explicit_hours, org),
            targets=unit_targets, done=done_by_target_metric(counts.get(code, {}), unit_targets),
            last_seen=last_seen.get(code),
        ))
    return days


async def _confirmations(conn: asyncpg.Connection, org: OrgRegistry, day: dt.date) -> list[UnitConfirmation]:
    """Cumulative claims and registry states per unit of the live map (``unit_total``)."""
    counters: dict[str, dict[str, int]] = defaultdict(dict)
    rows = await conn.fetch("SELECT unit, metric, credited FROM unit_total WHERE metric = ANY($1::text[])",
                            list(confirmation_metrics()))
    for row in rows:
        counters[row["unit"]][row["metric"]] = row["credited"]
    return [UnitConfirmation(code, unit.parent_code, day, confirmation_of(found))
            for code, found in counters.items() if (unit := org.get(code)) is not None]


async def _spot_checks(conn: asyncpg.Connection, now: dt.datetime) -> tuple[list[DecidedCheck], list[SpotAlert]]:
    since = now - LOOKBACK
    alerts = [SpotAlert(alert_state(r), r["check_id"]) for r in await conn.fetch(
        "SELECT *, (detail->'spot_check'->>'id')::bigint AS check_id FROM alerts "
        "WHERE rule = 'spot_check_failed' AND (status = 'open' OR day >= $1)", local_day(since))]
    rows = await conn.fetch(
        "SELECT DISTINCT ON (unit) * FROM spot_checks WHERE status IN ('passed', 'failed') AND unit IN ("
        "SELECT unit FROM spot_checks WHERE status = 'failed' AND decided_at >= $1 "
        "UNION SELECT unit FROM alerts WHERE rule = 'spot_check_failed' AND status = 'open') "
        "ORDER BY unit, decided_at DESC, id DESC", since)
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for r in await conn.fetch(
            "SELECT check_id, outcome, count(*) AS n FROM spot_check_outcomes WHERE check_id = ANY($1::bigint[]) "
            "AND outcome = ANY($2::text[]) GROUP BY 1, 2", [r["id"] for r in rows], sorted(FAILURES)):
        found[r["check_id"]][r["outcome"]] = r["n"]
    checks = [DecidedCheck(
        r["id"], r["unit"], CheckStatus(r["status"]), r["decided_at"], r["n"], r["d"], r["successes"], r["failures"],
        r["estimate"], r["ci_low"], r["ci_high"], r["population"], found.get(r["id"], {})) for r in rows]
    return checks, alerts


async def load_snapshot(conn: asyncpg.Connection, org: OrgRegistry, now: dt.datetime) -> Snapshot:
    today = local_day(now)
    await conn.execute("INSERT INTO notifier_jobs (job, day, done_at) VALUES ('watching', $1, $2) "
                       "ON CONFLICT DO NOTHING", today, now)
    yesterday = today - dt.timedelta(days=1)
    last_seen = {r["unit"]: r["last_seen"] for r in await conn.fetch("SELECT unit, last_seen FROM unit_activity")}
    units = await _unit_days(conn, org, today, last_seen) + await _unit_days(conn, org, yesterday, {})
    rows = await conn.fetch("SELECT * FROM alerts WHERE status = 'open' OR day >= $1", yesterday)
    alerts = {(r["unit"], Rule(r["rule"]), r["day"]): alert_state(r) for r in rows}
    watched = await conn.fetch("SELECT day FROM notifier_jobs WHERE job = 'watching' AND day >= $1", yesterday)
    checks, spot_alerts = await _spot_checks(conn, now)
    return Snapshot(now, units, alerts, await recipients_by_unit(conn), frozenset(r["day"] for r in watched),
                    await _confirmations(conn, org, today), checks, spot_alerts)

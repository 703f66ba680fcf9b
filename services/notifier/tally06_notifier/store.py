"""Stores decisions and the messages they cause in one transaction (an outbox).

An alert's state change and its notifications commit together, and every notification has a
unique key, so a crash or a second evaluation can neither lose a message nor queue it twice.
"""

from __future__ import annotations

import datetime as dt

import asyncpg
import orjson

from tally06.contract.events import LOCAL_TZ
from tally06.domain.ack_links import ack_token
from tally06.domain.alert_rules import Rule
from tally06.domain.org import OrgRegistry
from tally06_notifier.compose import AlertFacts, compose
from tally06_notifier.digest import compose_digest
from tally06_notifier.routing import dedupe_key, recipients_for, spot_check_recipients
from tally06_notifier.rules import (
    Decision,
    EscalateAlert,
    OpenAlert,
    Policy,
    RemindAlert,
    ReopenAlert,
    ResolveAlert,
    next_send_time,
)
from tally06_notifier.snapshot import Snapshot

_INSERT_NOTIFICATION = (
    "INSERT INTO notifications (dedupe_key, alert_id, recipient_id, kind, subject, body, payload, "
    "not_before, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (dedupe_key) DO NOTHING"
)


class Outbox:
    """Writes alerts and their notifications for one evaluation at ``now``."""

    def __init__(self, conn: asyncpg.Connection, org: OrgRegistry, snapshot: Snapshot, policy: Policy,
                 ack_secret: bytes, public_url: str) -> None:
        self.conn, self.org, self.snapshot, self.policy = conn, org, snapshot, policy
        self.ack_secret, self.public_url = ack_secret, public_url.rstrip("/")
        self.now = snapshot.now
        self.queued = 0

    async def _notify(self, row: asyncpg.Record, kind: str, what: str, escalated: bool = False) -> int:
        unit = self.org.get(row["unit"])
        if unit is None:
            return 0
        facts = AlertFacts(row["id"], unit, Rule(row["rule"]), row["day"], orjson.loads(row["detail"]),
                           tuple(self.org.chain(unit.code)[1:]))
        people = (spot_check_recipients(unit.code, self.org, self.snapshot.focal_points)
                  if facts.rule is Rule.SPOT_CHECK_FAILED
                  else recipients_for(unit.code, self.org, self.snapshot.focal_points, escalated=escalated))
        send_at = next_send_time(self.now, self.policy)
        for person in people:
            token = ack_token(self.ack_secret, facts.id, person.id)
            ack_url = f"{self.public_url}/v1/alerts/{facts.id}/ack?recipient={person.id}&token={token}"
            subject, body, payload = compose(facts, kind, ack_url)
            await self.conn.execute(_INSERT_NOTIFICATION, dedupe_key(facts.id, what, person), facts.id, person.id,
                                    kind, subject, body, orjson.dumps(payload).decode(), send_at)
        self.queued += len(people)
        return len(people)

    async def apply(self, decision: Decision) -> None:
        now, detail = self.now, orjson.dumps(getattr(decision, "detail", {})).decode()
        match decision:
            case OpenAlert(unit=unit, rule=rule, day=day):
                row = await self.conn.fetchrow(
                    "INSERT INTO alerts (unit, rule, day, status, opened_at, last_opened_at, updated_at, detail) "
                    "VALUES ($1, $2, $3, 'open', $4, $4, $4, $5) ON CONFLICT (unit, rule, day) DO NOTHING RETURNING *",
                    unit, rule.value, day, now, detail)
                if row is not None and await self._notify(row, "alert", "open0"):
                    await self._mark_notified(row["id"])
            case ReopenAlert(alert=alert):
                row = await self.conn.fetchrow(
                    "UPDATE alerts SET status = 'open', last_opened_at = $2, updated_at = $2, reopened = reopened + 1, "
                    "resolved_at = NULL, resolution = NULL, acknowledged_at = NULL, acknowledged_by = NULL, "
                    "escalated_at = NULL, reminders = 0, detail = $3 WHERE id = $1 AND status = 'resolved' RETURNING *",
                    alert.id, now, detail)
                if (row is not None and row["reopened"] <= self.policy.max_reopen_notices
                        and await self._notify(row, "alert", f"open{row['reopened']}")):
                    await self._mark_notified(row["id"])
            case ResolveAlert(alert=alert, reason=reason):
                await self.conn.execute(
                    "UPDATE alerts SET status = 'resolved', resolved_at = $2, updated_at = $2, resolution = $3, "
                    "detail = detail || $4::jsonb WHERE id = $1 AND status = 'open'", alert.id, now, reason, detail)
            case RemindAlert(alert=alert, number=number):
                row = await self.conn.fetchrow(
                    "UPDATE alerts SET reminders = $2, last_notified_at = $3, updated_at = $3 "
                    "WHERE id = $1 AND status = 'open' AND reminders = $2 - 1 RETURNING *", alert.id, number, now)
                if row is not None:
                    await self._notify(row, "reminder", f"remind{number}")
            case EscalateAlert(alert=alert):
                row = await self.conn.fetchrow(
                    "UPDATE alerts SET escalated_at = $2, updated_at = $2 "
                    "WHERE id = $1 AND status = 'open' AND escalated_at IS NULL RETURNING *", alert.id, now)
                if row is not None:
                    await self._notify(row, "escalation", "escalate", escalated=True)

    async def _mark_notified(self, alert_id: int) -> None:
        await self.conn.execute("UPDATE alerts SET last_notified_at = $2 WHERE id = $1", alert_id, self.now)

    async def digests(self, board_url: str) -> int:
        """Once per local day, from ``digest_at``: yesterday's results for every focal point."""
        local = self.now.astimezone(LOCAL_TZ)
        if local.time() < self.policy.digest_at:
            return 0
        today = local.date()
        done = await self.conn.fetchval(
            "INSERT INTO notifier_jobs (job, day, done_at) VALUES ('digest', $1, $2) "
            "ON CONFLICT DO NOTHING RETURNING day",
            today, self.now)
        if done is None:
            return 0
        yesterday = today - dt.timedelta(days=1)
        results = {u.code: u for u in self.snapshot.units if u.day == yesterday}
        open_by_parent: dict[str, int] = {}
        for alert in self.snapshot.alerts.values():
            if alert.is_open:
                for code in self.org.ancestors(alert.unit)[1:]:
                    open_by_parent[code] = open_by_parent.get(code, 0) + 1
        count = 0
        for code, people in self.snapshot.focal_points.items():
            unit = self.org.get(code)
            children = [(c, results[c.code]) for c in self.org.children(code) if c.code in results]
            if unit is None or not children:
                continue
            subject, body, payload = compose_digest(unit, yesterday, children, open_by_parent.get(code, 0), board_url)
            for person in people:
                await self.conn.execute(_INSERT_NOTIFICATION, f"digest:{today}:to:{person.id}", None, person.id,
                                        "digest", subject, body, orjson.dumps(payload).decode(),
                                        next_send_time(self.now, self.policy))
                count += 1
        self.queued += count
        return count


async def record_activity(conn: asyncpg.Connection | asyncpg.Pool, seen: dict[str, dt.datetime]) -> None:
    await conn.execute(
        "INSERT INTO unit_activity (unit, last_seen) SELECT * FROM unnest($1::text[], $2::timestamptz[]) "
        "ON CONFLICT (unit) DO UPDATE SET last_seen = greatest(unit_activity.last_seen, excluded.last_seen)",
        list(seen), list(seen.values()))


"""Alert changes for open boards, by polling the alerts table.

The notifier writes alerts in its own process; polling once a second is cheap and needs nothing
from the notifier. ``updated_at`` cannot serve as a watermark: it comes from the clock of
whoever wrote the row (the notifier's, or this service's for an acknowledgement), and clocks
may be moved (demo, tests) or differ. So each poll reads what boards show, the open alerts,
plus the newest ids, and compares them with the previous poll.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import structlog

from tally06_wallboard.hub import BoardEvent, Hub

log = structlog.get_logger(__name__)

# Ids come from a sequence but commit out of order: the newest few are read again each time.
ID_WINDOW = 200
_COLUMNS = "id, unit, rule, day, status, updated_at, acknowledged_at, escalated_at, reminders"


def alert_event(row: asyncpg.Record | dict[str, Any]) -> BoardEvent:
    return BoardEvent("alert", {
        "id": row["id"], "unit": row["unit"], "rule": row["rule"], "status": row["status"],
        "day": row["day"].isoformat(), "updated_at": row["updated_at"].isoformat(),
        "acknowledged_at": row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None,
    })


def _state(row: asyncpg.Record) -> tuple:
    return tuple(row[c] for c in ("status", "updated_at", "acknowledged_at", "escalated_at", "reminders"))


class AlertWatch:
    def __init__(self, pool: asyncpg.Pool, hub: Hub, interval_s: float = 1.0) -> None:
        self.pool, self.hub, self.interval_s = pool, hub, interval_s
        self._seen: dict[int, tuple] = {}
        self._max_id: int | None = None

    async def run(self) -> None:
        started = False
        while True:
            try:
                if not started:
                    # Alerts that existed before this process are in every board's first fetch.
                    self._max_id = await self.pool.fetchval("SELECT coalesce(max(id), 0) FROM alerts")
                await self._poll(publish=started)
                started = True
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("alert_poll_failed", error=type(exc).__name__)
            await asyncio.sleep(self.interval_s)

    async def _poll(self, publish: bool) -> None:
        rows = list(await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM alerts WHERE status = 'open' OR id > $1", (self._max_id or 0) - ID_WINDOW))
        found = {r["id"] for r in rows}
        # Open last time and no longer in the set: resolved (its new state goes to the boards).
        gone = [i for i, state in self._seen.items() if state[0] == "open" and i not in found]
        if gone:
            rows += await self.pool.fetch(f"SELECT {_COLUMNS} FROM alerts WHERE id = ANY($1::bigint[])", gone)
        seen: dict[int, tuple] = {}
        for row in rows:
            seen[row["id"]] = _state(row)
            if publish and self._seen.get(row["id"]) != seen[row["id"]]:
                self.hub.publish(alert_event(row))
        self._seen = seen
        if rows:
            self._max_id = max(self._max_id or 0, max(r["id"] for r in rows))

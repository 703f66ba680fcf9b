"""Sends due notifications through the channels, at most once each.

A row is claimed ('sending') in its own commit before the network call and settled after it.
Retries are for failures known to have delivered nothing; a row a crashed notifier left
'sending' may have reached its recipient and becomes 'uncertain' instead of being sent again.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import orjson
import structlog
from prometheus_client import Counter

from tally06.kit.clock import Clock
from tally06_notifier.channels import Channels
from tally06_notifier.exceptions import DeliveryFailed
from tally06_notifier.messages import OutgoingMessage
from tally06_notifier.rules import Policy, next_send_time

log = structlog.get_logger(__name__)
SENT = Counter("tally06_notifier_notifications_sent_total", "Notifications delivered", ["channel"])
FAILED = Counter("tally06_notifier_notifications_failed_total", "Delivery attempts that failed",
                 ["channel", "retryable"])
UNCERTAIN = Counter("tally06_notifier_notifications_uncertain_total",
                    "Notifications left in flight by a crash, not resent")


def retry_delay(attempts: int, base_s: float, max_s: float) -> dt.timedelta:
    return dt.timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


async def mark_in_flight_uncertain(pool: asyncpg.Pool) -> int:
    """Run when leadership is taken: nobody else is sending, so 'sending' rows are orphans."""
    rows = await pool.fetch(
        "UPDATE notifications SET state = 'uncertain', last_error = 'the notifier stopped while sending' "
        "WHERE state = 'sending' RETURNING id")
    if rows:
        UNCERTAIN.inc(len(rows))
        log.warning("notifications_uncertain", count=len(rows), ids=[r["id"] for r in rows][:20])
    return len(rows)


class Deliverer:
    def __init__(self, pool: asyncpg.Pool, channels: Channels, clock: Clock, policy: Policy, *,
                 retry_base_s: float, retry_max_s: float, max_attempts: int, concurrency: int = 8) -> None:
        self.pool, self.channels, self.clock, self.policy = pool, channels, clock, policy
        self.retry_base_s, self.retry_max_s, self.max_attempts = retry_base_s, retry_max_s, max_attempts
        self.concurrency = concurrency

    async def deliver_due(self) -> int:
        """Claim and send what is due now, a few at a time; returns how many were attempted.

        Only as many rows are claimed as are sent at once: a crash leaves at most those uncertain.
        """
        rows = await self.pool.fetch(
            "UPDATE notifications n SET state = 'sending', attempts = n.attempts + 1 FROM focal_points f "
            "WHERE f.id = n.recipient_id AND n.id IN (SELECT id FROM notifications WHERE state = 'pending' "
            "AND next_attempt_at <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) "
            "RETURNING n.id, n.dedupe_key, n.subject, n.body, n.payload, n.attempts, f.name, f.channel, f.address",
            self.clock.now(), self.concurrency)
        await asyncio.gather(*(self._send(r) for r in rows))
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> None:
        message = OutgoingMessage(
            notification_id=row["id"], dedupe_key=row["dedupe_key"], recipient_name=row["name"],
            channel=row["channel"], address=row["address"], subject=row["subject"], body=row["body"],
            payload=orjson.loads(row["payload"]),
        )
        try:
            await self.channels.send(message)
        except DeliveryFailed as exc:
            await self._failed(row, exc)
            return
        except Exception as exc:  # noqa: BLE001 - a channel bug must not leave the row claimed
            # Whether it went out is unknown, so it must not go out again.
            log.exception("notification_channel_error", id=row["id"], channel=row["channel"])
            UNCERTAIN.inc()
            await self.pool.execute("UPDATE notifications SET state = 'uncertain', last_error = $2 WHERE id = $1",
                                    row["id"], f"{type(exc).__name__}: {exc}"[:500])
            return
        await self.pool.execute(
            "UPDATE notifications SET state = 'sent', sent_at = $2, last_error = NULL WHERE id = $1",
            row["id"], self.clock.now())
        SENT.labels(row["channel"]).inc()

    async def _failed(self, row: asyncpg.Record, exc: DeliveryFailed) -> None:
        FAILED.labels(row["channel"], str(exc.retryable).lower()).inc()
        again = exc.retryable and row["attempts"] < self.max_attempts
        now = self.clock.now()
        retry_at = next_send_time(now + retry_delay(row["attempts"], self.retry_base_s, self.retry_max_s), self.policy)
        await self.pool.execute(
            "UPDATE notifications SET state = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1",
            row["id"], "pending" if again else "failed", retry_at, exc.reason[:500])
        log.warning("notification_failed", id=row["id"], channel=row["channel"], retry=again,
                    attempts=row["attempts"], reason=exc.reason[:200])

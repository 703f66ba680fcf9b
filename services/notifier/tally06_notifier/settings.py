"""Settings of the notifier: its worker, the alert policy and the delivery channels."""

from __future__ import annotations

import datetime as dt

from tally06.kit.service_settings import WorkerSettings
from tally06_notifier.rules import Policy


class NotifierSettings(WorkerSettings):
    notifier_port: int = 8065
    notifier_app_id: str = "tally06-notifier"
    # Pace expectations grow with the clock, so the rules run on a timer as well as on changes.
    notifier_tick_s: float = 10.0
    notifier_deliver_s: float = 1.0
    # Alerts wait while the counters lag the event store by more events than this.
    notifier_max_backlog: int = 2000
    # Links in messages (acknowledge, open the board) point here.
    public_url: str = "http://127.0.0.1:8062"

    pace_tolerance: float = 0.2
    pace_min_share: float = 0.25
    pace_recover_margin: float = 0.1
    pace_noise_z: float = 2.0
    silent_after_h: float = 2.0
    settle_after_end_min: float = 10.0
    remind_every_min: float = 120.0
    max_reminders: int = 2
    escalate_after_min: float = 60.0
    max_reopen_notices: int = 2
    quiet_start: dt.time = dt.time(22, 30)
    quiet_end: dt.time = dt.time(7, 0)
    digest_at: dt.time = dt.time(7, 0)

    retry_base_s: float = 5.0
    retry_max_s: float = 600.0
    max_attempts: int = 8

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "tally06@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Receivers verify X-Tally06-Signature with this; empty means derived from the HMAC key.
    webhook_secret: str = ""

    def policy(self) -> Policy:
        return Policy(
            tolerance=self.pace_tolerance, min_share=self.pace_min_share,
            recover_margin=self.pace_recover_margin, noise_z=self.pace_noise_z, silent_after_h=self.silent_after_h,
            settle_after_end=dt.timedelta(minutes=self.settle_after_end_min),
            remind_every=dt.timedelta(minutes=self.remind_every_min), max_reminders=self.max_reminders,
            escalate_after=dt.timedelta(minutes=self.escalate_after_min),
            max_reopen_notices=self.max_reopen_notices, quiet_start=self.quiet_start,
            quiet_end=self.quiet_end, digest_at=self.digest_at,
        )

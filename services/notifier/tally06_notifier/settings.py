"""Settings of the notifier: its worker, the alert policy and the delivery channels."""

from __future__ import annotations

import datetime as dt

from tally06.domain.confirmation import LowConfirmation
from tally06.kit.service_settings import WorkerSettings
from tally06_notifier.rules import Policy

_POLICY = Policy()


def _minutes(span: dt.timedelta) -> float:
    return span.total_seconds() / 60


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

    # The alert policy; its defaults and their reasons live in tally06_notifier.rules.Policy.
    pace_tolerance: float = _POLICY.tolerance
    pace_min_share: float = _POLICY.min_share
    pace_recover_margin: float = _POLICY.recover_margin
    pace_noise_z: float = _POLICY.noise_z
    silent_after_h: float = _POLICY.silent_after_h
    settle_after_end_min: float = _minutes(_POLICY.settle_after_end)
    remind_every_min: float = _minutes(_POLICY.remind_every)
    max_reminders: int = _POLICY.max_reminders
    escalate_after_min: float = _minutes(_POLICY.escalate_after)
    max_reopen_notices: int = _POLICY.max_reopen_notices
    quiet_start: dt.time = _POLICY.quiet_start
    quiet_end: dt.time = _POLICY.quiet_end
    digest_at: dt.time = _POLICY.digest_at
    low_confirmation_rate: float = _POLICY.low_confirmation.threshold
    low_confirmation_min_judged: int = _POLICY.low_confirmation.min_judged

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
            low_confirmation=LowConfirmation(self.low_confirmation_rate, self.low_confirmation_min_judged),
        )

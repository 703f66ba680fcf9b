"""Settings of the wallboard service."""

from __future__ import annotations

import datetime as dt

from tally06.domain.pace import PLAN70_PHASES
from tally06.kit.service_settings import HttpServiceSettings

# Plan 70/KH-UBND (the reference campaign) wants 100 % of the remainder by the end of phase 3.
PLAN70_DEADLINE: dt.date = PLAN70_PHASES[-1].end


class WallboardSettings(HttpServiceSettings):
    wallboard_port: int = 8062
    # Where people reach this service; used in links the service prints (docs, ack pages).
    public_url: str = "http://127.0.0.1:8062"
    # Last day (inclusive, local) of the campaign: the required daily rate is counted to it.
    campaign_deadline: dt.date = PLAN70_DEADLINE
    # Days of whole results the forecast's run rate averages.
    run_rate_days: int = 7
    # How often the read model's map is checked: after a switch to a new map the read API and
    # open boards show the new map within this time (plus a board's refresh).
    map_check_s: float = 2.0
    # A board counts its figures as fresh while it hears from the server; the heartbeat says
    # "still connected, nothing new" when no counter changed.
    heartbeat_s: float = 5.0
    # How often the alerts table is polled for changes to push to open boards.
    alerts_poll_s: float = 1.0
    # Signing secret of session tokens; empty derives one from TALLY06_HMAC_KEY.
    auth_secret: str = ""
    # Sessions are short; an open board renews its own before it ends.
    session_ttl_s: int = 15 * 60
    # A disabled user or ended session is refused within this time.
    account_cache_s: float = 30.0
    # Requests per signed-in user: a board makes a handful per refresh; a script looping on the
    # API is slowed (429 with Retry-After), not the boards of everybody else.
    user_rate_per_s: float = 20.0
    user_rate_burst: float = 120.0
    # Sign-in attempts per client address, whatever the username (password spraying).
    sign_in_per_s: float = 0.5
    sign_in_burst: float = 20.0
    # Other sites allowed to call the API from a browser (none: the board is same-origin).
    cors_origins: list[str] = []

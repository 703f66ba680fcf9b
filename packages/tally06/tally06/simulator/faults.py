"""The mess real field devices make, as pure functions over event dicts.

Ingest must cope with all of it, so the demo produces all of it: a few malformed items
(rejected item by item, never sinking the batch), neighbouring teams claiming a citizen that was
already credited (accepted, not credited), devices whose clocks drift, devices that go
offline and send hours of events in one late batch, and batches resent after a lost answer
(``duplicate``). The last two are driven by ``device.Device``; the knobs live here.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from tally06.contract.events import EventType
from tally06.simulator.model import local_iso

INVALID_KINDS = ("cccd_11_digits", "missing_level", "unknown_team", "future")


@dataclass(frozen=True)
class FaultConfig:
    """How often each kind of trouble happens; ``FaultConfig.clean()`` switches all off."""

    invalid_share: float = 0.005          # of posted items, malformed on purpose
    claim_share: float = 0.01             # per activation, a neighbour team claims a citizen too
    offline_per_hour: float = 0.01        # chance a device loses its connection, per sim hour
    offline_hours: tuple[float, float] = (1.0, 4.0)
    resend_share: float = 0.02            # answered batches resent because the answer was lost
    drift_share: float = 0.2              # devices whose clock is off
    max_drift_s: float = 180.0            # well inside ingest's 10-minute future tolerance
    flush_every_s: tuple[float, float] = (30.0, 120.0)  # simulated seconds between uploads
    max_batch: int = 500

    @classmethod
    def clean(cls) -> FaultConfig:
        return cls(invalid_share=0.0, claim_share=0.0, offline_per_hour=0.0, resend_share=0.0,
                   drift_share=0.0)


def new_event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def invalid_copy(event: dict[str, Any], kind: str, rng: random.Random,
                 real_now: dt.datetime) -> dict[str, Any]:
    """A malformed twin of ``event`` with a fresh id, the way a buggy app or a typo makes one.

    ``future`` is measured from the real clock, not the simulated one: during the backfill the
    simulated clock is hours behind, and only a real-future timestamp is refused.
    """
    bad = {**event, "event_id": new_event_id(rng), "citizen": dict(event["citizen"])}
    if kind == "cccd_11_digits":
        bad["citizen"]["id_number"] = bad["citizen"]["id_number"][:11]
    elif kind == "missing_level":
        bad["type"] = EventType.ACCOUNT_ACTIVATED.value
        bad.pop("level", None)
    elif kind == "unknown_team":
        # Generated communes have teams T1..T3 only; the device still posts with its own token.
        bad["team"] = event["team"].rsplit("-", 1)[0] + "-T9"
    elif kind == "future":
        bad["occurred_at"] = local_iso(real_now + dt.timedelta(minutes=30))
    else:
        raise ValueError(f"unknown invalid kind {kind!r}")
    return bad


def corrupt(events: list[dict[str, Any]], rng: random.Random, *, share: float,
            real_now: dt.datetime, limit: int) -> tuple[list[dict[str, Any]], collections.Counter[str]]:
    """``events`` with about ``share`` of the result being invalid twins, at most ``limit`` items.

    Twins are added next to their original rather than replacing it, so the valid funnel of
    every citizen stays whole.
    """
    out: list[dict[str, Any]] = []
    kinds: collections.Counter[str] = collections.Counter()
    odds = share / (1.0 - share) if share < 1.0 else 1.0
    room = limit - len(events)
    for event in events:
        out.append(event)
        if room > 0 and rng.random() < odds:
            kind = rng.choice(INVALID_KINDS)
            out.append(invalid_copy(event, kind, rng, real_now))
            kinds[kind] += 1
            room -= 1
    return out, kinds


def shift(event: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The event as stamped by a device whose clock is ``seconds`` off."""
    if not seconds:
        return event
    moment = dt.datetime.fromisoformat(event["occurred_at"]) + dt.timedelta(seconds=seconds)
    return {**event, "occurred_at": local_iso(moment)}


class ClaimPool:
    """Recent activations per commune, for a neighbouring team to claim a second time.

    Teams of one commune canvass overlapping streets; both record the citizen and the server
    must credit only the first. Holds personal data in memory only, like a phone does.
    """

    def __init__(self, per_commune: int = 200) -> None:
        self._recent: dict[str, collections.deque[dict[str, Any]]] = collections.defaultdict(
            lambda: collections.deque(maxlen=per_commune))

    def remember(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["type"] == EventType.ACCOUNT_ACTIVATED.value and "level" in event:
                self._recent[event["team"].rsplit("-", 1)[0]].append(event)

    def claims(self, events: list[dict[str, Any]], rng: random.Random, *,
               share: float) -> list[dict[str, Any]]:
        """Extra activations by the team of ``events`` for citizens another team already
        activated earlier; stamped at the moment of one of the team's own activations."""
        extra = []
        for event in events:
            if event["type"] != EventType.ACCOUNT_ACTIVATED.value or rng.random() >= share:
                continue
            team = event["team"]
            candidates = [e for e in self._recent.get(team.rsplit("-", 1)[0], ())
                          if e["team"] != team and e["occurred_at"] < event["occurred_at"]]
            if candidates:
                original = rng.choice(candidates)
                extra.append({**event, "event_id": new_event_id(rng), "level": original["level"],
                              "citizen": dict(original["citizen"])})
        return extra

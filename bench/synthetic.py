"""Synthetic event-store rows shaped like the demo province's, for replay benchmarks."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import UnitKind
from tally06.imports.reference import appendix1, demo_org

_METRICS = [("app_installed", None, "installed", 3), ("registration_collected", 2, "collected_l2", 2),
            ("application_approved", 2, "approved_l2", 2), ("account_activated", 1, "activated_l1", 5),
            ("account_activated", 2, "activated_l2", 2)]


def synthetic_rows(count: int, *, days: int = 14, seed: int = 6) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    org = demo_org()
    weight = {d.code: d.target_total for d in appendix1()}
    teams = [org.lineage(t.code) for t in org.units(UnitKind.TEAM)]
    team_weights = [weight[t.district or ""] for t in teams]
    picks = rng.choices(teams, weights=team_weights, k=count)
    kinds = rng.choices(_METRICS, weights=[m[3] for m in _METRICS], k=count)
    start = dt.datetime(2024, 10, 12, 7, 30, tzinfo=LOCAL_TZ)
    received = dt.datetime(2024, 10, 26, 8, 0, tzinfo=dt.UTC)
    for seq in range(1, count + 1):
        team, (kind, level, metric, _) = picks[seq - 1], kinds[seq - 1]
        occurred = start + dt.timedelta(days=rng.randrange(days), minutes=rng.randrange(14 * 60 + 30))
        yield {
            "seq": seq, "event_id": uuid.UUID(int=rng.getrandbits(128)), "type": kind, "level": level,
            "metric": metric, "occurred_at": occurred, "day": occurred.date(), "received_at": received,
            "province": team.province, "district": team.district, "commune": team.commune,
            "team": team.team, "fact_key": team.key_unit, "map_id": 1, "lineage": list(team.codes),
            "officer": f"CA-{team.team}-{rng.randrange(4)}",
            "citizen_key": f"{rng.getrandbits(256):064x}", "credited": rng.random() > 0.03,
        }

"""Counters as a person would count them from the accepted events, computed without any
tally06 code: the hierarchy comes from the team code, the credit from the order of acceptance."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def metric(event: dict) -> str:
    if event["type"] == "app_installed":
        return "installed"
    prefix = {"registration_collected": "collected", "application_approved": "approved",
              "account_activated": "activated"}[event["type"]]
    return f"{prefix}_l{event['level']}"


def units_of(team: str) -> list[str]:
    # TH-03-C01-T1 -> TH, TH-03, TH-03-C01, TH-03-C01-T1
    parts = team.split("-")
    return ["-".join(parts[:n]) for n in (1, 2, 3, 4)]


def count(accepted: list[tuple[int, dict]], units: Callable[[str], list[str]] = units_of,
          *, registry_pending: bool = True) -> dict[str, Counter]:
    """``accepted`` is (seq, posted event) for every event answered `accepted`; ``units`` gives the
    units a team's work counts in (the 2023 demo map's by default). With no registry extract
    loaded, every credited activation is also counted as pending (``registry_pending``)."""
    credited_pairs: set[tuple[str, str]] = set()
    unit_daily: Counter = Counter()
    unit_total: Counter = Counter()
    officer_total: Counter = Counter()
    for _, event in sorted(accepted, key=lambda item: item[0]):
        m = metric(event)
        pair = (event["citizen"]["id_number"], m)
        kind = "claims" if pair in credited_pairs else "credited"
        credited_pairs.add(pair)
        day = dt.datetime.fromisoformat(event["occurred_at"]).astimezone(VN).date()
        counted = [m]
        if registry_pending and kind == "credited" and event["type"] == "account_activated":
            counted.append(f"pending_l{event['level']}")
        for name in counted:
            for unit in units(event["team"]):
                unit_daily[(unit, day, name, kind)] += 1
                unit_total[(unit, name, kind)] += 1
            officer_total[(event["team"], event["officer"], name, kind)] += 1
    return {"unit_daily": unit_daily, "unit_total": unit_total, "officer_total": officer_total}


async def read_model(conn) -> dict[str, Counter]:
    """The same counters from the read model, in the same shape."""
    out: dict[str, Counter] = {"unit_daily": Counter(), "unit_total": Counter(), "officer_total": Counter()}
    for r in await conn.fetch("SELECT unit, day, metric, credited, claims FROM unit_daily"):
        for kind in ("credited", "claims"):
            if r[kind]:
                out["unit_daily"][(r["unit"], r["day"], r["metric"], kind)] = r[kind]
    for r in await conn.fetch("SELECT unit, metric, credited, claims FROM unit_total"):
        for kind in ("credited", "claims"):
            if r[kind]:
                out["unit_total"][(r["unit"], r["metric"], kind)] = r[kind]
    for r in await conn.fetch("SELECT team, officer, metric, credited, claims FROM officer_total"):
        for kind in ("credited", "claims"):
            if r[kind]:
                out["officer_total"][(r["team"], r["officer"], r["metric"], kind)] = r[kind]
    return out

"""Appendix I from the event store on a real database: past cutoffs with late arrivals, the CLI,
and the reference figures of plan 70 reproduced from baseline activations loaded as events."""

from __future__ import annotations

import csv
import datetime as dt
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal

import openpyxl

from tally06.contract.events import LOCAL_TZ
from tally06.domain.targets import CampaignTarget
from tally06.imports.reference import PLAN70_START, appendix1, appendix1_targets, demo_org
from tally06.reports import build_appendix1
from tally06.store.org import load_map
from tally06.store.targets import save_campaign_targets
from tests.support.cli import tally06

VN = dt.timezone(dt.timedelta(hours=7))
C1 = dt.datetime(2023, 4, 30, 17, 0, tzinfo=VN)
C2 = dt.datetime(2023, 5, 31, 17, 0, tzinfo=VN)
DATA_ROW = 7  # first data row of the sheet (title rows, two header rows)
METRICS = ("activated_l1", "activated_l2", "installed", "collected_l2", "approved_l1")




async def store(db, events: list[dict], map_id: int = 1) -> None:
    """Append events as ingest does: seq in arrival order, first claim per (citizen, metric)
    credited (also in `credits`), later ones kept as duplicate claims; each with its team's
    lineage in map ``map_id`` (resolved through the map's holders) and keyed by its commune."""
    org_map = await load_map(db, map_id)
    last = await db.fetchval("SELECT last_seq FROM event_seq")
    taken = {(r["citizen_key"], r["metric"]) for r in await db.fetch("SELECT citizen_key, metric FROM credits")}
    rows, credit_rows = [], []
    for e in sorted(events, key=lambda e: e["received_at"]):
        last += 1
        key = (e["citizen"], e["metric"])
        e["credited"] = key not in taken
        taken.add(key)
        if e["credited"]:
            credit_rows.append((e["citizen"], e["metric"], last))
        level = None if e["metric"] == "installed" else int(e["metric"][-1])
        etype = {"installed": "app_installed", "collected": "registration_collected",
                 "approved": "application_approved", "activated": "account_activated"}[e["metric"].split("_")[0]]
        lineage = org_map.lineage(e["team"])
        rows.append((last, uuid.uuid4(), "test", 1, etype, level, e["metric"], e["occurred_at"],
                     e["occurred_at"].astimezone(LOCAL_TZ).date(), e["received_at"], lineage.province,
                     lineage.district, lineage.commune, e["team"], e["officer"], e["citizen"], e["credited"],
                     lineage.key_unit, org_map.id, list(lineage.codes)))
    async with db.transaction():
        await db.executemany(
            "INSERT INTO events (seq, event_id, content_digest, schema_version, type, level, metric, "
            "occurred_at, day, received_at, province, district, commune, team, officer, citizen_key, "
            "credited, fact_key, map_id, lineage) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)", rows)
        await db.executemany("INSERT INTO credits (citizen_key, metric, seq) VALUES ($1,$2,$3)", credit_rows)
        await db.execute("UPDATE event_seq SET last_seq = $1", last)


def random_events(rng: random.Random, n: int, start: dt.datetime, end: dt.datetime,
                  citizens: list[str]) -> list[dict]:
    span = (end - start).total_seconds()
    out = []
    for _ in range(n):
        occurred = start + dt.timedelta(seconds=rng.uniform(0, span))
        delay = rng.choice([0, 60, 3600, 86400 * 3, 86400 * 20])  # some arrive much later
        district = rng.randint(1, 27)
        out.append({
            "citizen": rng.choice(citizens), "metric": rng.choice(METRICS),
            "team": f"TH-{district:02d}-C0{rng.randint(1, 3)}-T{rng.randint(1, 3)}",
            "officer": f"CA-{district:02d}-{rng.randint(1, 5)}", "occurred_at": occurred,
            "received_at": occurred + dt.timedelta(seconds=delay + rng.uniform(0, 30)),
        })
    return out


def pct(done: int, target: int) -> float:
    if target == 0:
        return 100.0
    return float((Decimal(done) * 100 / Decimal(target)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def expected_sheet(events: list[dict], cutoff: dt.datetime, targets: dict[str, CampaignTarget]) -> list[list]:
    """Independently: the rows and totals of Appendix I for the province as of ``cutoff``."""
    counts: dict[tuple[str, str], int] = {}
    for e in events:
        if (e["credited"] and e["metric"].startswith("activated") and e["occurred_at"] <= cutoff
                and e["received_at"] <= cutoff):
            key = (e["team"][:5], e["metric"])
            counts[key] = counts.get(key, 0) + 1
    rows = []
    for d in appendix1():
        t = targets[d.code]
        a1, a2 = counts.get((d.code, "activated_l1"), 0), counts.get((d.code, "activated_l2"), 0)
        rows.append([d.no, d.name, t.total, t.level1, t.level2, a1, a2, a1 + a2, pct(a1 + a2, t.total),
                     max(0, t.total - a1 - a2)])
    sums = [sum(r[c] for r in rows) for c in range(2, 10)]
    rows.append([None, "Tổng cộng", *sums[:6], pct(sums[5], sums[0]), sums[7]])
    return rows


def sheet_rows(path) -> list[list]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return [[sheet.cell(r, c).value for c in range(1, 11)] for r in range(DATA_ROW, sheet.max_row + 1)]


async def test_past_cutoff_is_reproducible_and_late_arrivals_are_corrections(database, db, tmp_path):
    await save_campaign_targets(db, appendix1_targets(), source="test", valid_from=PLAN70_START)
    # a revised target for Sầm Sơn after C1: the C1 report keeps the old one
    revised = CampaignTarget("TH-03", "Thành phố Sầm Sơn", 100_000, 85_000, 15_000)
    await save_campaign_targets(db, [revised], source="test", valid_from=C1 + dt.timedelta(days=1))
    targets_c1 = {t.unit_code: t for t in appendix1_targets()}
    targets_c2 = {**targets_c1, "TH-03": revised}

    rng = random.Random(2023)
    citizens = [f"citizen-{i}" for i in range(900)]  # few enough for duplicate claims
    events = random_events(rng, 2500, dt.datetime(2023, 3, 24, tzinfo=VN), C1 + dt.timedelta(days=2), citizens)
    # a clock-skewed device: occurred after C1 but received before it -> not in C1's figures
    events.append({"citizen": "skew", "metric": "activated_l2", "team": "TH-05-C01-T1", "officer": "o",
                   "occurred_at": C1 + dt.timedelta(hours=1), "received_at": C1 - dt.timedelta(hours=1)})
    now_known = [e for e in events if e["received_at"] <= C1 + dt.timedelta(hours=6)]
    await store(db, now_known)

    first = tmp_path / "c1-first.xlsx"
    code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH",
                                   "--cutoff", "2023-04-30T17:00+07:00", "--out", str(first))
    assert code == 0, out + err
    expected_c1 = expected_sheet(now_known, C1, targets_c1)
    got = sheet_rows(first)
    assert len(got) == 28
    for want, have in zip(expected_c1, got, strict=True):
        assert have == want
    assert expected_c1[-1][7] > 0

    # late events arrive: occurred before C1, received after it (plus the rest of the stream)
    late = [e for e in events if e["received_at"] > C1 + dt.timedelta(hours=6)]
    extra = random_events(rng, 300, dt.datetime(2023, 4, 20, tzinfo=VN), C1, citizens + ["late-" + str(i) for i in range(300)])
    for e in extra:
        e["received_at"] = C1 + dt.timedelta(days=rng.uniform(0.5, 25))
    after_c2 = random_events(rng, 50, dt.datetime(2023, 4, 1, tzinfo=VN), C1, [f"very-late-{i}" for i in range(50)])
    for e in after_c2:
        e["received_at"] = C2 + dt.timedelta(hours=2)
    await store(db, late + extra + after_c2)
    everything = now_known + late + extra + after_c2

    # the report for C1 made again later is the same, cell for cell
    again = tmp_path / "c1-again.xlsx"
    code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH",
                                   "--cutoff", "2023-04-30T17:00+07:00", "--out", str(again))
    assert code == 0, out + err
    assert sheet_rows(again) == got

    # the next report: new figures and the corrections to the C1 report
    second = tmp_path / "c2.xlsx"
    code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH",
                                   "--cutoff", "2023-05-31T17:00+07:00", "--since", "2023-04-30T17:00+07:00",
                                   "--out", str(second))
    assert code == 0, out + err
    assert sheet_rows(second) == expected_sheet(everything, C2, targets_c2)
    assert sheet_rows(second)[2][2] == 100_000

    corrections: dict[str, list[int]] = {}
    for e in everything:
        if (e["credited"] and e["metric"].startswith("activated") and e["occurred_at"] <= C1
                and C1 < e["received_at"] <= C2):
            c = corrections.setdefault(e["team"][:5], [0, 0])
            c[int(e["metric"][-1]) - 1] += 1
    names = {d.code: d.name for d in appendix1()}
    want = [[i, names[code], l1, l2, l1 + l2]
            for i, (code, (l1, l2)) in enumerate(sorted(corrections.items()), start=1)]
    fix = openpyxl.load_workbook(second)["Điều chỉnh"]
    have = [[fix.cell(r, c).value for c in range(1, 6)] for r in range(5, 5 + len(want))]
    assert want and have == want
    total_row = [fix.cell(5 + len(want), c).value for c in range(2, 6)]
    assert total_row == ["Tổng cộng", sum(w[2] for w in want), sum(w[3] for w in want), sum(w[4] for w in want)]
    assert f"{sum(w[4] for w in want):,} late activations" in " ".join(out.split())
    # the corrections are exactly what the C1 figures lacked
    known_at_c2 = sum(1 for e in everything if e["credited"] and e["metric"].startswith("activated")
                      and e["occurred_at"] <= C1 and e["received_at"] <= C2)
    assert known_at_c2 - got[-1][7] == total_row[3]

    # CSV of the same report, every field
    path = tmp_path / "c2.csv"
    code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH",
                                   "--cutoff", "2023-05-31T17:00+07:00", "--since", "2023-04-30T17:00+07:00",
                                   "--out", str(path))
    assert code == 0, out + err
    with path.open(encoding="utf-8-sig") as f:
        table = list(csv.reader(f))[1:]
    for want_row, have_row in zip(expected_sheet(everything, C2, targets_c2), table, strict=True):
        assert have_row[2:] == [want_row[1], *[str(v) for v in want_row[2:8]], f"{want_row[8]:.2f}", str(want_row[9]),
                                "district" if want_row[0] else "", "1", "2000-01-01", "claimed", "", ""]
    with (tmp_path / "c2.corrections.csv").open(encoding="utf-8-sig") as f:
        assert len(list(csv.reader(f))) == len(want) + 1


async def test_district_report_lists_its_communes(database, db):
    await save_campaign_targets(db, [CampaignTarget("TH-02-C01", "", 10, 8, 2)], source="t", valid_from=PLAN70_START)
    events = [{"citizen": f"c{i}", "metric": "activated_l1" if i % 3 else "activated_l2",
               "team": f"TH-02-C0{1 + i % 2}-T1", "officer": "o",
               "occurred_at": C1 - dt.timedelta(hours=i), "received_at": C1 - dt.timedelta(hours=i)}
              for i in range(12)]
    await store(db, events)
    report = await build_appendix1(db, "TH-02", C1)
    communes = [u.code for u in demo_org().children("TH-02")]
    assert [r.unit_code for r in report.rows] == sorted(communes)
    c01 = report.rows[0]
    assert (c01.target_total, c01.activated_level1, c01.activated_level2) == (10, 4, 2)
    assert (c01.completion_pct, c01.remaining) == (Decimal("60.00"), 4)
    assert report.total.activated_total == 12


async def test_cli_refuses_bad_input(database, tmp_path):
    code, _, err = await tally06(database, "report", "appendix1", "--unit", "XX", "--cutoff",
                                 "2023-04-30T17:00+07:00", "--out", str(tmp_path / "a.xlsx"))
    assert code == 2 and "unknown unit" in err
    code, _, err = await tally06(database, "report", "appendix1", "--unit", "TH", "--cutoff",
                                 "2023-04-30T17:00", "--out", str(tmp_path / "a.xlsx"))
    assert code == 2 and "UTC offset" in err
    code, _, err = await tally06(database, "report", "appendix1", "--unit", "TH", "--cutoff",
                                 "2023-04-30T17:00+07:00", "--out", str(tmp_path / "a.pdf"))
    assert code == 2 and ".xlsx or .csv" in err


async def test_reference_baseline_reproduces_appendix1(database, db, tmp_path):
    """Targets of Appendix I, and its baseline activations (137,881) as one credited event each,
    generated in SQL: the report reproduces every printed row figure, completion % as printed."""
    await save_campaign_targets(db, appendix1_targets(), source="reference", valid_from=PLAN70_START)
    baseline = dt.datetime(2023, 2, 8, 16, 0, tzinfo=VN)
    async with db.transaction():
        for d in appendix1():
            for level, n in ((1, d.activated_level1), (2, d.activated_level2)):
                await db.execute(
                    "INSERT INTO events (seq, event_id, content_digest, schema_version, type, level, metric, "
                    "occurred_at, day, received_at, province, district, commune, team, officer, "
                    "citizen_key, credited, fact_key, map_id, lineage) "
                    "SELECT (SELECT last_seq FROM event_seq) + i, gen_random_uuid(), 'baseline', 1, "
                    "'account_activated', $2::smallint, $3, $4, $5, $4, 'TH', $1, $1 || '-C01', $1 || '-C01-T1', "
                    "'baseline', 'base-' || $1 || '-' || $3 || '-' || i, true, $1 || '-C01', 1, "
                    "ARRAY['TH', $1, $1 || '-C01', $1 || '-C01-T1'] "
                    "FROM generate_series(1, $6::bigint) AS i",
                    d.code, level, f"activated_l{level}", baseline, baseline.date(), n)
                await db.execute(
                    "INSERT INTO credits SELECT citizen_key, metric, seq FROM events "
                    "WHERE district = $1 AND level = $2 AND officer = 'baseline'", d.code, level)
                await db.execute("UPDATE event_seq SET last_seq = last_seq + $1", n)
    assert await db.fetchval("SELECT count(*) FROM events") == 137_881
    assert await db.fetchval("SELECT count(*) FROM credits") == 137_881

    path = tmp_path / "reference.xlsx"
    code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH",
                                   "--cutoff", "2023-03-24T00:00+07:00", "--out", str(path))
    assert code == 0, out + err
    rows = sheet_rows(path)
    for ref, row in zip(appendix1(), rows, strict=False):
        assert row == [ref.no, ref.name, ref.target_total, ref.target_level1, ref.target_level2,
                       ref.activated_level1, ref.activated_level2, ref.activated_total,
                       float(ref.completion_pct), ref.remaining]
        assert f"{Decimal(str(row[8])):.2f}" == ref.completion_pct  # as printed, 2 decimals
    assert rows[27] == [None, "Tổng cộng", 3_243_976, 2_842_865, 401_111,
                        sum(r.activated_level1 for r in appendix1()),
                        sum(r.activated_level2 for r in appendix1()), 137_881, 4.25, 3_106_095]
    assert "activated 137,881 of 3,243,976 (4.25 %), remaining 3,106,095" in " ".join(out.split())

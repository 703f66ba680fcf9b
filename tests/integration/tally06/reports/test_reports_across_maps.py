"""Reports for a cutoff are made in the map in force at the cutoff and stay the same, cell for
cell, after a later reorganisation; a cutoff after the change reports in the new map.

The database starts with the 2023 demo map (map 1: province → 27 districts → communes → teams).
A two-tier map then takes effect on 15 May 2023: the districts are dissolved (communes directly
under the province), two communes are merged, one is renamed and one team is renamed. Expected
figures are counted here from the events the test stored, with the new map's units worked out
by hand from the team codes."""

from __future__ import annotations

import datetime as dt
import random

import openpyxl

from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import Change, MappingRow
from tally06.domain.targets import CampaignTarget
from tally06.imports.reference import PLAN70_START, appendix1_targets, demo_org
from tally06.reports import build_appendix1
from tally06.reports.appendix2 import build_officer_report
from tally06.store.org import save_map
from tally06.store.targets import save_campaign_targets
from tests.integration.tally06.reports.test_appendix1 import VN, pct, random_events, store
from tests.support.cli import tally06

C1 = dt.datetime(2023, 4, 30, 17, 0, tzinfo=VN)
CHANGE = dt.date(2023, 5, 15)
CHANGE_AT = dt.datetime(2023, 5, 15, 0, 0, tzinfo=VN)
C2 = dt.datetime(2023, 5, 31, 17, 0, tzinfo=VN)
MERGED, INTO = "TH-02-C02", "TH-02-C01"
RENAMED, NEW_CODE, NEW_NAME = "TH-03-C01", "TH-SS-P01", "Phường Sầm Sơn"
OLD_TEAM, NEW_TEAM = "TH-04-C01-T1", "TH-04-C01-T4"


def two_tier_map() -> tuple[OrgRegistry, list[MappingRow]]:
    """The demo map with its districts dissolved, MERGED merged into INTO, RENAMED renamed and
    OLD_TEAM renamed, and the mapping that says so."""
    old = demo_org()
    units = [Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None)]
    for commune in old.units(UnitKind.COMMUNE):
        if commune.code == MERGED:
            continue
        code, name = (NEW_CODE, NEW_NAME) if commune.code == RENAMED else (commune.code, commune.name)
        units.append(Unit(code, name, UnitKind.COMMUNE, "TH"))
    for team in old.units(UnitKind.TEAM):
        parent = {MERGED: INTO, RENAMED: NEW_CODE}.get(team.parent_code or "", team.parent_code)
        units.append(Unit(NEW_TEAM if team.code == OLD_TEAM else team.code, team.name, UnitKind.TEAM, parent))
    rows = [MappingRow(n, d.code, "TH", Change.DISSOLVE)
            for n, d in enumerate(sorted(old.units(UnitKind.DISTRICT), key=lambda u: u.code), start=2)]
    rows += [MappingRow(30, MERGED, INTO, Change.MERGE), MappingRow(31, RENAMED, NEW_CODE, Change.RENAME),
             MappingRow(32, OLD_TEAM, NEW_TEAM, Change.RENAME)]
    return OrgRegistry(units), rows


def new_commune(team: str) -> str:
    """Where a team's work counts in the two-tier map, from its code alone."""
    commune = (NEW_TEAM if team == OLD_TEAM else team).rsplit("-", 1)[0]
    return {MERGED: INTO, RENAMED: NEW_CODE}.get(commune, commune)


def counted(events: list[dict], occurred_by: dt.datetime, received_after: dt.datetime | None,
            received_by: dt.datetime, unit_of) -> dict[str, list[int]]:  # noqa: ANN001
    """Credited activations per unit, [level 1, level 2]."""
    found: dict[str, list[int]] = {}
    for e in events:
        if (e["credited"] and e["metric"].startswith("activated") and e["occurred_at"] <= occurred_by
                and e["received_at"] <= received_by and (received_after is None or e["received_at"] > received_after)):
            found.setdefault(unit_of(e["team"]), [0, 0])[int(e["metric"][-1]) - 1] += 1
    return found


def expected_rows(units: list[tuple[str, str]], counts: dict[str, list[int]],
                  targets: dict[str, CampaignTarget]) -> list[list]:
    rows = []
    for no, (code, name) in enumerate(units, start=1):
        t = targets.get(code)
        tt, t1, t2 = (t.total, t.level1, t.level2) if t else (0, 0, 0)
        a1, a2 = counts.get(code, [0, 0])
        rows.append([no, name, tt, t1, t2, a1, a2, a1 + a2, pct(a1 + a2, tt), max(0, tt - a1 - a2)])
    sums = [sum(r[c] for r in rows) for c in range(2, 10)]
    rows.append([None, "Tổng cộng", *sums[:6], pct(sums[5], sums[0]), sums[7]])
    return rows


def every_cell(path) -> dict[str, list[list]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()] for sheet in book.worksheets}


def table(path) -> list[list]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return [[sheet.cell(r, c).value for c in range(1, 11)] for r in range(7, sheet.max_row + 1)]


def shift(events: list[dict], rng: random.Random, start: dt.datetime, days: float) -> list[dict]:
    for e in events:
        e["received_at"] = start + dt.timedelta(days=rng.uniform(0, days))
    return events


async def report(database: str, path, unit: str, cutoff: dt.datetime, *extra: str) -> str:
    code, out, err = await tally06(database, "report", "appendix1", "--unit", unit, "--cutoff", cutoff.isoformat(),
                                   "--out", str(path), *extra)
    assert code == 0, out + err
    return " ".join(out.split())


async def test_a_cutoff_s_report_survives_a_reorganisation_and_later_cutoffs_use_the_new_map(database, db, tmp_path):
    await save_campaign_targets(db, appendix1_targets(), source="plan 70", valid_from=PLAN70_START)
    rng = random.Random(2025)
    citizens = [f"citizen-{i}" for i in range(1500)]
    # Known before the new map: events up to a few days after C1, some of them late for C1.
    before = random_events(rng, 1500, dt.datetime(2023, 3, 24, tzinfo=VN), C1 + dt.timedelta(days=3), citizens)
    before = [e for e in before if e["received_at"] < CHANGE_AT]
    await store(db, before)

    first = {name: tmp_path / f"first-{name}.xlsx" for name in ("TH", "TH-03", "TH-02-C02")}
    for unit, path in first.items():
        said = await report(database, path, unit, C1)
        assert "in map 1 (in force from the beginning)" in said
    first_object = await build_appendix1(db, "TH", C1, C1 - dt.timedelta(days=10))
    first_officers = await build_officer_report(db, "TH-03", C1)
    assert [r.unit_code for r in first_object.rows] == [f"TH-{n:02d}" for n in range(1, 28)]
    assert every_cell(first["TH"])["Phụ lục I"][3][0] == "Cấp huyện — bản đồ hành chính số 1, áp dụng từ đầu"

    # The two-tier map takes effect on CHANGE, with commune targets from then on.
    registry, mapping = two_tier_map()
    async with db.transaction():
        saved = await save_map(db, registry, effective_from=CHANGE, mapping=mapping, source="two-tier", backdate=True)
    assert saved.created and saved.map.id == 2
    commune_targets = [CampaignTarget(INTO, "", 9000, 8000, 1000), CampaignTarget(NEW_CODE, "", 4000, 3500, 500),
                       CampaignTarget("TH-04-C01", "", 3000, 2500, 500)]
    await save_campaign_targets(db, commune_targets, source="two-tier", valid_from=CHANGE_AT)
    # Events keep arriving in the new map: late ones for C1, new ones, from old and new team codes.
    late = shift(random_events(rng, 200, C1 - dt.timedelta(days=20), C1, citizens + [f"late-{i}" for i in range(200)]),
                 rng, CHANGE_AT, 10)
    after = shift(random_events(rng, 800, CHANGE_AT, C2, citizens + [f"new-{i}" for i in range(800)]),
                  rng, CHANGE_AT, 14)
    for e in after[:150]:
        e["team"] = rng.choice([OLD_TEAM, NEW_TEAM, "TH-02-C02-T1", "TH-03-C01-T2"])
    await store(db, late + after, map_id=2)
    everything = before + late + after

    # The reports for C1, made again after the reorganisation: the same, cell for cell.
    for unit, path in first.items():
        again = tmp_path / f"again-{unit}.xlsx"
        await report(database, again, unit, C1)
        assert every_cell(again) == every_cell(path)
    assert await build_appendix1(db, "TH", C1, C1 - dt.timedelta(days=10)) == first_object
    assert await build_officer_report(db, "TH-03", C1) == first_officers

    # A cutoff after the change: the communes of the two-tier province, counted by hand.
    communes = sorted((u.code, u.name) for u in registry.children("TH"))
    assert len(communes) == len(demo_org().units(UnitKind.COMMUNE)) - 1
    targets_c2 = {t.unit_code: t for t in commune_targets}
    second = tmp_path / "second.xlsx"
    said = await report(database, second, "TH", C2, "--since", C1.isoformat())
    assert "in map 2 (in force from 2023-05-15)" in said and "(Communes)" in said
    want = expected_rows(communes, counted(everything, C2, None, C2, new_commune), targets_c2)
    assert table(second) == want
    assert {r[1] for r in want if r[7]} >= {NEW_NAME, dict(communes)[INTO]}
    assert want[-1][7] == sum(1 for e in everything if e["credited"] and e["metric"].startswith("activated")
                              and e["occurred_at"] <= C2 and e["received_at"] <= C2)
    cells = every_cell(second)
    assert cells["Phụ lục I"][3][0] == "Cấp xã — bản đồ hành chính số 2, áp dụng từ ngày 15/05/2023"
    # corrections to the C1 report, per commune of the new map
    late_counts = counted(everything, C1, C1, C2, new_commune)
    names = dict(communes)
    want_fix = [[i, names[code], l1, l2, l1 + l2] for i, (code, (l1, l2)) in
                enumerate(sorted((c, v) for c, v in late_counts.items()), start=1)]
    assert want_fix and cells["Điều chỉnh"][4:4 + len(want_fix)] == want_fix

    # C1 asked for in the new map: the same events as the C1 report, counted in the communes.
    in_new = tmp_path / "c1-in-map-2.csv"
    said = await report(database, in_new, "TH", C1, "--map", "2")
    assert "in map 2" in said
    c1_new = counted(everything, C1, None, C1, new_commune)
    lines = [line.split(",") for line in in_new.read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert [(row[1], int(row[6]), int(row[7])) for row in lines[:-1]] == [
        (code, *c1_new.get(code, [0, 0])) for code, _ in communes]
    assert int(lines[-1][8]) == first_object.total.activated_total
    assert lines[0][-6:] == ["commune", "2", "2023-05-15", "claimed", "", ""]

    # The merged commune's report in the new map lists its teams, its own and the merged ones'.
    merged = await build_appendix1(db, INTO, C2)
    assert [r.unit_code for r in merged.rows] == sorted([f"{INTO}-T{n}" for n in (1, 2, 3)] +
                                                        [f"{MERGED}-T{n}" for n in (1, 2, 3)])
    by_team = counted(everything, C2, None, C2, lambda team: NEW_TEAM if team == OLD_TEAM else team)
    assert [(r.activated_level1, r.activated_level2) for r in merged.rows] == [
        tuple(by_team.get(r.unit_code, [0, 0])) for r in merged.rows]
    assert merged.total.activated_total == sum(sum(by_team.get(r.unit_code, [0, 0])) for r in merged.rows)
    # The renamed team's old code counts in the new one.
    renamed = await build_appendix1(db, "TH-04-C01", C2)
    row = next(r for r in renamed.rows if r.unit_code == NEW_TEAM)
    assert [row.activated_level1, row.activated_level2] == by_team.get(NEW_TEAM, [0, 0]) != [0, 0]
    assert OLD_TEAM not in {r.unit_code for r in renamed.rows}


async def test_unknown_map_or_a_unit_not_in_the_cutoff_s_map_is_refused(database, db, tmp_path):
    registry, mapping = two_tier_map()
    async with db.transaction():
        await save_map(db, registry, effective_from=CHANGE, mapping=mapping, backdate=True)
    code, _, err = await tally06(database, "report", "appendix1", "--unit", "TH-03", "--cutoff", C2.isoformat(),
                                 "--out", str(tmp_path / "a.xlsx"))
    assert code == 2 and "unknown unit 'TH-03' in map 2 (in force from 2023-05-15)" in " ".join(err.split())
    code, _, err = await tally06(database, "report", "appendix1", "--unit", "TH", "--cutoff", C2.isoformat(),
                                 "--map", "7", "--out", str(tmp_path / "a.xlsx"))
    assert code == 2 and "there is no map 7" in err
    code, out, err = await tally06(database, "report", "officers", "--unit", "TH-03", "--to", C1.isoformat(),
                                   "--out", str(tmp_path / "o.csv"))
    assert code == 0 and "TH-03 in map 1" in " ".join(out.split()), out + err
    code, out, err = await tally06(database, "report", "officers", "--unit", NEW_CODE, "--to", C2.isoformat(),
                                   "--out", str(tmp_path / "o2.xlsx"))
    assert code == 0 and f"{NEW_CODE} in map 2" in " ".join(out.split()), out + err
    teams = openpyxl.load_workbook(tmp_path / "o2.xlsx")["Theo tổ"]
    assert [teams.cell(r, 2).value for r in range(4, teams.max_row + 1)] == [f"{RENAMED}-T{n}" for n in (1, 2, 3)]
    assert teams.cell(2, 1).value == "Bản đồ hành chính số 2, áp dụng từ ngày 15/05/2023"


async def test_a_country_root_lists_its_provinces_and_a_commune_its_villages(database, db):
    """A map with a country root over the 2023 province and a two-tier city whose commune is
    organised in villages: Appendix I of the country lists the provinces (the 2023 province's
    target the sum of its districts'), that of the commune its villages."""
    await save_campaign_targets(db, appendix1_targets(), source="plan 70", valid_from=PLAN70_START)
    city = [Unit("CT", "Thành phố Cần Thơ", UnitKind.PROVINCE, "VN"),
            Unit("CT-X1", "Phường Ninh Kiều", UnitKind.COMMUNE, "CT"),
            Unit("CT-X1-V1", "Khu vực 1", UnitKind.VILLAGE, "CT-X1"),
            Unit("CT-X1-V2", "Khu vực 2", UnitKind.VILLAGE, "CT-X1"),
            Unit("CT-X1-V1-T1", "Tổ công tác 1", UnitKind.TEAM, "CT-X1-V1"),
            Unit("CT-X1-V2-T1", "Tổ công tác 1", UnitKind.TEAM, "CT-X1-V2"),
            Unit("CT-X1-T9", "Tổ công tác 9", UnitKind.TEAM, "CT-X1")]
    province = [u if u.parent_code else Unit(u.code, u.name, u.kind, "VN") for u in demo_org().units()]
    registry = OrgRegistry([Unit("VN", "Việt Nam", UnitKind.COUNTRY, None), *province, *city])
    async with db.transaction():
        await save_map(db, registry, effective_from=CHANGE, backdate=True)
    await save_campaign_targets(db, [CampaignTarget("CT-X1", "", 500, 400, 100)], source="t", valid_from=CHANGE_AT)
    rng = random.Random(7)
    events = shift(random_events(rng, 300, CHANGE_AT, C2, [f"c{i}" for i in range(250)]), rng, CHANGE_AT, 10)
    for e in events[:120]:
        e["team"] = rng.choice(["CT-X1-V1-T1", "CT-X1-V2-T1", "CT-X1-T9"])
    await store(db, events, map_id=2)

    country = await build_appendix1(db, "VN", C2)
    by_province = counted(events, C2, None, C2, lambda team: team.split("-")[0])
    assert [(r.unit_code, r.target_total, [r.activated_level1, r.activated_level2]) for r in country.rows] == [
        ("CT", 500, by_province.get("CT", [0, 0])), ("TH", 3_243_976, by_province.get("TH", [0, 0]))]
    assert country.levels == [UnitKind.PROVINCE] and country.map is not None and country.map.id == 2
    commune = await build_appendix1(db, "CT-X1", C2)
    by_row = counted(events, C2, None, C2, lambda team: team if team == "CT-X1-T9" else team.rsplit("-", 1)[0])
    assert [(r.unit_code, [r.activated_level1, r.activated_level2]) for r in commune.rows] == [
        (code, by_row.get(code, [0, 0])) for code in ("CT-X1-T9", "CT-X1-V1", "CT-X1-V2")]
    assert commune.levels == [UnitKind.VILLAGE, UnitKind.TEAM] and sum(map(sum, by_row.values())) > 0

"""`tally06 org load|maps|export` on a real database holding the demo 2023 map as map 1: a good
two-tier reorganisation becomes map 2 and the live figures move to it at once; a bad map, a bad
mapping or one that leaves work without a unit is refused with its row and problem, and changes
nothing. Expected figures are summed in the test from the rows it seeds."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from tally06.domain.org import Unit, UnitKind
from tally06.imports.org_csv import to_org_csv
from tally06.imports.reference import demo_org
from tests.support.cli import tally06

MERGED_INTO, MERGED_AWAY = "TH-01-C01", "TH-01-C02"
SPLIT, SPLIT_A, SPLIT_B = "TH-02-C01", "TH-02-C01A", "TH-02-C01B"
RENAMED, RENAMED_TO = "TH-03-C01", "TH-SS-01"


def two_tier() -> tuple[list[Unit], list[tuple[str, str, str]]]:
    """The demo province without districts: communes under TH, two merged, one split by team,
    one renamed; and the mapping from the demo map, one row per change."""
    org = demo_org()
    units = [Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None),
             Unit(SPLIT_A, "Phường Bắc", UnitKind.COMMUNE, "TH"), Unit(SPLIT_B, "Phường Nam", UnitKind.COMMUNE, "TH"),
             Unit(RENAMED_TO, "Phường Sầm Sơn", UnitKind.COMMUNE, "TH")]
    parent_of = {MERGED_AWAY: MERGED_INTO, RENAMED: RENAMED_TO,
                 f"{SPLIT}-T1": SPLIT_A, f"{SPLIT}-T2": SPLIT_A, f"{SPLIT}-T3": SPLIT_B}
    for commune in org.units(UnitKind.COMMUNE):
        if commune.code not in (MERGED_AWAY, SPLIT, RENAMED):
            units.append(Unit(commune.code, commune.name, UnitKind.COMMUNE, "TH"))
        for team in org.teams_under(commune.code):
            units.append(Unit(team, f"Tổ {team[-1]}", UnitKind.TEAM,
                              parent_of.get(team, parent_of.get(commune.code, commune.code))))
    mapping = [(d.code, "TH", "dissolve") for d in org.units(UnitKind.DISTRICT)]
    mapping += [(MERGED_AWAY, MERGED_INTO, "merge"), (SPLIT, SPLIT_A, "split"), (SPLIT, SPLIT_B, "split"),
                (RENAMED, RENAMED_TO, "rename")]
    return units, mapping


def write_mapping(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["old_code", "new_code", "change", "note"])
        writer.writerows([*row, "Nghị quyết 2025"] for row in rows)
    return path


def write_map(path: Path, units: list[Unit]) -> Path:
    path.write_text(to_org_csv(units), encoding="utf-8")
    return path


async def state(db) -> dict[str, object]:
    """What a load could change."""
    found: dict[str, object] = {}
    for table in ("org_maps", "map_units", "map_changes", "map_holders", "audit_log"):
        found[table] = await db.fetchval(f"SELECT count(*) FROM {table}")
    found["units"] = await db.fetchval(
        "SELECT md5(string_agg(concat_ws('|', code, name, kind, parent_code), ',' ORDER BY code)) FROM units")
    found["read_model_map"] = await db.fetchval("SELECT map_id FROM read_model_map")
    return found


def flat(text: str) -> str:
    return " ".join(text.split())


async def refused(database, db, *args: str) -> str:
    before = await state(db)
    code, out, err = await tally06(database, "org", "load", *args)
    assert code != 0, out + err
    assert await state(db) == before
    return flat(out + err)


async def test_a_two_tier_reorganisation_becomes_map_2_and_the_live_figures_move(database, db, tmp_path):
    units, mapping = two_tier()
    # Work done in the 2023 map, per team and officer: 1 + the team's position gives every team
    # a different figure.
    teams = sorted(demo_org().teams_under("TH"))
    credited = {team: 1 + i for i, team in enumerate(teams)}
    await db.executemany("INSERT INTO officer_total (team, officer, metric, credited, claims) "
                         "VALUES ($1, 'O1', 'activated_l2', $2, $2)", list(credited.items()))

    code, out, err = await tally06(database, "org", "load", str(write_map(tmp_path / "two_tier.csv", units)),
                                   "--mapping", str(write_mapping(tmp_path / "mapping.csv", mapping)),
                                   "--actor", "carol")
    assert code == 0, out + err
    said = flat(out)
    kinds = Counter(u.kind for u in units)
    assert "map 2 loaded from two_tier.csv with mapping mapping.csv" in said
    assert f"units: 1 province, {kinds[UnitKind.COMMUNE]} communes, {kinds[UnitKind.TEAM]} teams" in said
    assert "teams: 0 team codes now held by another team" in said  # every team kept its code
    assert "changes: 27 dissolve, 1 merge, 1 rename, 2 split" in said
    assert "live figures: switched from map 1 to map 2" in said

    assert await db.fetchval("SELECT map_id FROM read_model_map") == 2
    assert await db.fetchval("SELECT count(*) FROM map_units WHERE map_id = 2") == len(units)
    assert await db.fetchval("SELECT count(*) FROM map_changes WHERE map_id = 2") == len(mapping)
    # Every live figure in the new map: a unit holds the work of the teams now under it.
    parents = {u.code: u.parent_code for u in units}
    expected: Counter[str] = Counter()
    for team, n in credited.items():
        unit: str | None = team
        while unit is not None:
            expected[unit] += n
            unit = parents[unit]
    live = {r["unit"]: r["credited"] for r in await db.fetch("SELECT unit, credited FROM unit_total")}
    assert live == dict(expected)
    assert live[MERGED_INTO] == sum(credited[t] for t in teams if t.startswith((f"{MERGED_INTO}-", f"{MERGED_AWAY}-")))
    assert live[SPLIT_A] == credited[f"{SPLIT}-T1"] + credited[f"{SPLIT}-T2"]
    assert live[RENAMED_TO] == sum(credited[f"{RENAMED}-T{n}"] for n in (1, 2, 3))
    assert "TH-01" not in live and MERGED_AWAY not in live

    audit = await db.fetchrow("SELECT actor, action, target, row_count, detail::jsonb->>'summary' AS summary "
                              "FROM audit_log ORDER BY id DESC LIMIT 1")
    assert tuple(audit)[:4] == ("carol", "org.load", "two_tier.csv", len(units))
    assert audit["summary"].startswith(f"{len(units)} units from two_tier.csv with mapping mapping.csv: map 2, ")

    code, out, err = await tally06(database, "org", "maps")
    assert code == 0, err
    listed = {line.split("│")[1].strip(): flat(line) for line in out.splitlines() if line.count("│") > 5}
    assert set(listed) == {"1", "2"}
    assert "2000-01-01" in listed["1"] and "superseded" in listed["1"] and "live" not in listed["1"]
    assert "in force today, live figures" in listed["2"] and "two_tier.csv" in listed["2"]

    code, out, err = await tally06(database, "org", "export")
    assert code == 0, err
    exported = list(csv.reader(io.StringIO(out)))
    assert exported[0] == ["code", "name", "kind", "parent_code"]
    assert sorted(exported[1:]) == sorted([u.code, u.name, u.kind.value, u.parent_code or ""] for u in units)
    assert exported[1][0] == "TH"  # parents first
    code, out, _ = await tally06(database, "org", "export", "--map", "1")
    assert sorted(list(csv.reader(io.StringIO(out)))[1:]) == sorted(
        [u.code, u.name, u.kind.value, u.parent_code or ""] for u in demo_org().units())

    # The same file again is no new version.
    code, out, _ = await tally06(database, "org", "load", str(tmp_path / "two_tier.csv"))
    assert code == 0 and "nothing loaded" in out
    assert await db.fetchval("SELECT count(*) FROM org_maps") == 2


async def test_a_map_for_a_later_day_waits_for_it(database, db, tmp_path):
    units, mapping = two_tier()
    code, out, err = await tally06(database, "org", "load", str(write_map(tmp_path / "m.csv", units)),
                                   "--mapping", str(write_mapping(tmp_path / "x.csv", mapping)),
                                   "--effective", "2099-07-01")
    assert code == 0, out + err
    assert "in force from 2099-07-01" in flat(out)
    assert "live figures: stay in map 1 until 2099-07-01" in flat(out)
    assert await db.fetchval("SELECT map_id FROM read_model_map") == 1
    code, out, _ = await tally06(database, "org", "maps")
    assert "from 2099-07-01" in out


async def test_a_map_with_bad_rows_changes_nothing(database, db, tmp_path):
    units, mapping = two_tier()
    lines = to_org_csv(units).splitlines()
    # Rows are numbered as in a spreadsheet: the header is row 1.
    lines[5] = lines[5].replace(",commune,", ",ward,")           # row 6
    lines.insert(8, lines[7])                                     # row 9 repeats row 8
    lines.append("TH-99-T1,Tổ lạc,team,")                         # a team at the root
    lines.append(f"TH-99-C1,Xã trong xã,commune,{SPLIT_A}")       # not a tree of levels
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    said = await refused(database, db, str(bad), "--mapping", str(write_mapping(tmp_path / "m.csv", mapping)))
    n = len(lines)
    assert "bad.csv: 4 bad rows; nothing loaded" in said
    assert "bad.csv row 6 (kind): 'ward' is not one of" in said
    assert f"bad.csv row 9 (code): unit {lines[7].split(',')[0]} is already given on row 8" in said
    assert f"bad.csv row {n - 1} (parent_code): team TH-99-T1 must sit under a unit, not at the root" in said
    assert f"bad.csv row {n} (parent_code): a commune cannot sit under a commune ({SPLIT_A}" in said


async def test_a_bad_mapping_changes_nothing(database, db, tmp_path):
    units, mapping = two_tier()
    mapping[3] = (mapping[3][0], "TH", "abolish")       # row 5
    mapping.append((MERGED_AWAY, SPLIT_A, "merge"))      # row 33: MERGED_AWAY also on row 29
    said = await refused(database, db, str(write_map(tmp_path / "m.csv", units)),
                         "--mapping", str(write_mapping(tmp_path / "mapping.csv", mapping)))
    assert "mapping.csv: 3 bad rows; nothing loaded" in said
    assert "mapping.csv row 5 (change): 'abolish' is not one of merge, split, rename, move, dissolve" in said
    assert f"mapping.csv row 29 (change): {MERGED_AWAY} is also mapped on row 33" in said
    assert f"mapping.csv row 33 (change): {MERGED_AWAY} is also mapped on row 29" in said


async def test_a_mapping_naming_unknown_units_changes_nothing(database, db, tmp_path):
    units, mapping = two_tier()
    mapping += [("TH-99-C01", MERGED_INTO, "merge"), ("TH-04-C01", "TH-88-C01", "rename")]  # rows 33, 34
    said = await refused(database, db, str(write_map(tmp_path / "m.csv", units)),
                         "--mapping", str(write_mapping(tmp_path / "mapping.csv", mapping)))
    assert "the map was not loaded" in said
    assert "mapping row 33: old unit 'TH-99-C01' is not in the map in force" in said
    assert "mapping row 34: new unit 'TH-88-C01' is not in the new map" in said


async def test_leaving_work_without_a_unit_changes_nothing(database, db, tmp_path):
    units, mapping = two_tier()
    # A team dropped without a row, and the districts dropped without saying what became of them.
    kept = [u for u in units if u.code != "TH-04-C01-T3"]
    said = await refused(database, db, str(write_map(tmp_path / "m.csv", kept)),
                         "--mapping", str(write_mapping(tmp_path / "mapping.csv", mapping[2:])))
    assert "team TH-04-C01-T3 has no team in the new map" in said
    assert "unit TH-01 (Thành phố Thanh Hóa) is not in the new map and the mapping does not say" in said
    assert "unit TH-02 " in said and "unit TH-03 " not in said  # rows 2 and 3 were the first two districts

    # A merge whose teams now sit elsewhere: the history would land in the wrong commune.
    moved = [Unit(u.code, u.name, u.kind, SPLIT_B) if u.code == f"{MERGED_AWAY}-T1" else u for u in units]
    said = await refused(database, db, str(write_map(tmp_path / "m2.csv", moved)),
                         "--mapping", str(write_mapping(tmp_path / "mapping.csv", mapping)))
    assert f"mapping row 29: team {MERGED_AWAY}-T1 of {MERGED_AWAY} now sits under {SPLIT_B}, not under " \
           f"{MERGED_INTO}" in said

    # Without any mapping at all.
    said = await refused(database, db, str(write_map(tmp_path / "m3.csv", units)))
    assert "unit TH-27 " in said and f"unit {SPLIT} " in said


async def test_a_map_before_the_latest_is_refused(database, db, tmp_path):
    said = await refused(database, db, str(write_map(tmp_path / "m.csv", two_tier()[0])), "--effective", "2025-07-01")
    assert "a map taking effect on 2025-07-01, before today, changes the reports" in said
    assert "load it with --backdate" in said
    said = await refused(database, db, str(tmp_path / "m.csv"), "--effective", "1999-12-31", "--backdate")
    assert "would come before map 1, in force since 2000-01-01; maps are added in order" in said
    said = await refused(database, db, str(tmp_path / "m.csv"), "--effective", "31/12/2025")
    assert "--effective: '31/12/2025' is not a day, YYYY-MM-DD" in said
    said = await refused(database, db, str(tmp_path / "missing.csv"))
    assert "missing.csv: no such file" in said


async def test_the_demo_csvs_load_as_they_are_printed(database, db, tmp_path):
    """What `org demo-csv` prints is what `org load` takes: the two-tier map with its mapping."""
    files = {}
    for name, args in (("map", ["--two-tier"]), ("mapping", ["--mapping"])):
        code, out, err = await tally06(database, "org", "demo-csv", *args)
        assert code == 0, err
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(out, encoding="utf-8")
    code, out, err = await tally06(database, "org", "load", str(files["map"]), "--mapping", str(files["mapping"]))
    assert code == 0, out + err
    kinds = Counter(r["kind"] for r in csv.DictReader(io.StringIO(files["map"].read_text(encoding="utf-8"))))
    assert kinds == {"province": 1, "commune": 166, "team": 501}
    assert await db.fetchval("SELECT map_id FROM read_model_map") == 2
    assert await db.fetchval("SELECT count(*) FROM map_units WHERE map_id = 2 AND kind = 'commune'") == 166

"""Registry extracts applied to the real database: idempotent, in order of as_of, all or nothing."""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from pathlib import Path

from tally06.contract.events import LOCAL_TZ
from tally06.domain.pii import CitizenProtector, KeyRing, SealedPii, new_key
from tally06.domain.registry import RegistryStatus as S
from tally06.imports.registry_extract import read_extract
from tally06.simulator.registry_extracts import ExtractRow, write_extract
from tally06.store.pii_rotation import rekey, rows_by_key
from tally06.store.registry_extracts import Outcome, apply_extract
from tests.conftest import TEST_KEYS
from tests.support import factories

PROTECTOR = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])
DAY = dt.date(2024, 11, 20)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(17), LOCAL_TZ)


def key_of(cccd: str) -> str:
    raw = base64.urlsafe_b64decode(TEST_KEYS["TALLY06_HMAC_KEY"] + "=" * (-len(TEST_KEYS["TALLY06_HMAC_KEY"]) % 4))
    return hmac.new(raw, cccd.encode(), "sha256").hexdigest()


def person(status: S = S.APPROVED, commune: str = "TH-03-C01", **changes: object) -> ExtractRow:
    days = {"collected_on": dt.date(2024, 11, 1), "approved_on": dt.date(2024, 11, 3)}
    if status is S.ACTIVATED:
        days["activated_on"] = dt.date(2024, 11, 5)
    if status is S.COLLECTED:
        del days["approved_on"]
    fields = {"cccd": factories.cccd(), "status": status, "level": 2, "commune": commune,
              "full_name": "Nguyễn Thị Mai", "phone": factories.phone(), **days, **changes}
    return ExtractRow(**fields)  # type: ignore[arg-type]


def moved_on(row: ExtractRow) -> ExtractRow:
    return ExtractRow(**{**row.__dict__, "status": S.ACTIVATED, "activated_on": dt.date(2024, 11, 20)})


async def load(db, tmp_path: Path, name: str, rows: list[ExtractRow], day: dt.date, **options):
    path = tmp_path / name
    write_extract(path, rows)
    return await apply_extract(db, read_extract(path, PROTECTOR), as_of=at(day), actor="tester", **options)


async def records(db) -> dict[str, dict]:
    return {r["citizen_key"]: dict(r) for r in await db.fetch("SELECT * FROM registry_citizens")}


async def test_same_file_twice_daily_delta_and_overlap(db, tmp_path):
    people = [person(S.APPROVED) for _ in range(6)] + [person(S.COLLECTED), person(S.ACTIVATED)]
    first = await load(db, tmp_path, "day1.csv", people, DAY)
    assert first.outcome is Outcome.APPLIED and (first.added, first.updated) == (8, 0)
    before = await records(db)
    assert set(before) == {key_of(p.cccd) for p in people}
    row = before[key_of(people[0].cccd)]
    assert (row["status"], row["level"], row["approved_on"], row["as_of"]) == ("approved", 2, dt.date(2024, 11, 3),
                                                                               at(DAY))
    assert PROTECTOR.open(SealedPii(row["pii_key_id"], row["pii_sealed"]), associated=row["citizen_key"]) == {
        "full_name": "Nguyễn Thị Mai", "phone": people[0].phone}

    # The same file again: recognised, nothing changes, not even the change numbers.
    again = await apply_extract(db, read_extract(tmp_path / "day1.csv", PROTECTOR), as_of=at(DAY), actor="tester")
    assert again.outcome is Outcome.ALREADY_LOADED and again.extract_id == first.extract_id
    assert await records(db) == before
    assert await db.fetchval("SELECT count(*) FROM registry_extracts") == 1

    # The next day's delta: two activated, one new citizen; the others are not in it and stay.
    newcomer = person(S.COLLECTED, commune="TH-03-C02")
    delta = await load(db, tmp_path, "day2.csv", [moved_on(people[0]), moved_on(people[1]), newcomer],
                       DAY + dt.timedelta(days=1))
    assert (delta.added, delta.updated, delta.unchanged) == (1, 2, 0)
    after = await records(db)
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {key_of(people[0].cccd), key_of(people[1].cccd)}
    assert after[key_of(people[0].cccd)]["status"] == "activated"
    assert min(after[k]["change_seq"] for k in changed) > max(r["change_seq"] for r in before.values())

    # An overlapping extract (another commune's file, same day): its rows already known and
    # unchanged keep their change number; the one that differs takes a new one.
    other_phone = factories.phone()
    overlap = await load(db, tmp_path, "day2b.csv", [people[2], people[3], ExtractRow(
        **{**people[4].__dict__, "phone": other_phone})], DAY + dt.timedelta(days=1))
    assert (overlap.added, overlap.updated, overlap.unchanged) == (0, 1, 2)
    final = await records(db)
    assert final[key_of(people[2].cccd)] == after[key_of(people[2].cccd)]
    fourth = final[key_of(people[4].cccd)]
    assert fourth["change_seq"] > max(r["change_seq"] for r in after.values())
    assert PROTECTOR.open(SealedPii(fourth["pii_key_id"], fourth["pii_sealed"]),
                          associated=fourth["citizen_key"])["phone"] == other_phone
    entries = await db.fetch("SELECT action, row_count FROM audit_log ORDER BY id")
    assert [(e["action"], e["row_count"]) for e in entries] == [("registry.import", 8), ("registry.import", 3),
                                                               ("registry.import", 1)]


async def test_an_older_extract_is_refused_unless_forced_and_never_overwrites(db, tmp_path):
    known, unknown = person(S.APPROVED), person(S.COLLECTED)
    await load(db, tmp_path, "new.csv", [moved_on(known)], DAY)
    before = await records(db)
    old_rows = [known, unknown]  # the older extract still says "approved" for the first
    refused = await load(db, tmp_path, "old.csv", old_rows, DAY - dt.timedelta(days=2))
    assert refused.outcome is Outcome.OLDER and refused.other_as_of == at(DAY)
    assert await records(db) == before and await db.fetchval("SELECT count(*) FROM registry_extracts") == 1

    forced = await apply_extract(db, read_extract(tmp_path / "old.csv", PROTECTOR), as_of=at(DAY - dt.timedelta(days=2)),
                                 actor="tester", force=True)
    assert forced.applied and forced.forced and (forced.added, forced.updated, forced.kept_newer) == (1, 0, 1)
    after = await records(db)
    assert after[key_of(known.cccd)] == before[key_of(known.cccd)]  # the newer record stands
    assert after[key_of(unknown.cccd)]["status"] == "collected"
    assert await db.fetchval("SELECT forced FROM registry_extracts WHERE id = $1", forced.extract_id)


async def test_bad_rows_below_the_share_are_left_out_above_it_nothing_changes(db, tmp_path):
    good = [person() for _ in range(9)]
    bad = ExtractRow(**{**person().__dict__, "approved_on": None})  # approved without its day
    below = await load(db, tmp_path, "below.csv", [*good, bad], DAY, max_bad_share=0.1)
    assert below.applied and below.rows == 9 and below.bad_rows == 1
    assert [(e.row, e.field) for e in below.errors] == [(11, "approved_on")]
    assert len(await records(db)) == 9

    more = [person() for _ in range(8)]
    above = await load(db, tmp_path, "above.csv", [*more, bad, ExtractRow(**{**bad.__dict__, "cccd": factories.cccd()})],
                       DAY, max_bad_share=0.1)
    assert above.outcome is Outcome.TOO_MANY_BAD_ROWS and above.bad_rows == 2
    assert [(e.row, e.field) for e in above.errors] == [(10, "approved_on"), (11, "approved_on")]
    assert len(await records(db)) == 9
    assert await db.fetchval("SELECT count(*) FROM registry_extracts") == 1
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_no_clear_cccd_or_phone_in_the_registry_tables(db, tmp_path):
    people = [person(S.ACTIVATED) for _ in range(5)]
    await load(db, tmp_path, "extract.csv", people, DAY)
    text = "\n".join([r["t"] for r in await db.fetch("SELECT t::text FROM registry_citizens t")]
                     + [r["t"] for r in await db.fetch("SELECT t::text FROM registry_extracts t")]
                     + [r["t"] for r in await db.fetch("SELECT t::text FROM audit_log t")])
    for p in people:
        assert p.cccd not in text and p.phone not in text and "Nguyễn Thị Mai" not in text
        assert key_of(p.cccd) in text


async def test_rekey_reseals_the_registry_records_too(db, tmp_path):
    people = [person(S.ACTIVATED) for _ in range(7)]
    await load(db, tmp_path, "extract.csv", people, DAY)
    old_id = PROTECTOR.active_key_id
    fresh = new_key()
    rotated = KeyRing(f"r2:{fresh},{TEST_KEYS['TALLY06_PII_KEYS']}")
    assert await rows_by_key(db) == {old_id: 7}
    result = await rekey(db, rotated, batch_size=3)
    assert result.complete and result.resealed == 7 and result.batches == 3
    assert await rows_by_key(db) == {"r2": 7}
    only_new = KeyRing(f"r2:{fresh}")  # the old key may leave the ring
    for row in await db.fetch("SELECT citizen_key, pii_key_id, pii_sealed FROM registry_citizens"):
        assert row["pii_key_id"] == "r2"
        opened = only_new.open(SealedPii(row["pii_key_id"], row["pii_sealed"]), associated=row["citizen_key"])
        assert opened["phone"] in {p.phone for p in people}

"""Retention of clear personal data on the real database, through `tally06 pii retention`."""

from __future__ import annotations

import datetime as dt
import json

from tally06.domain.registry import RegistryRecord, RegistryStatus
from tally06_aggregator.rebuild import rebuild_counters
from tests.conftest import TEST_KEYS
from tests.integration.tally06.store.test_pii_rotation import ingest
from tests.support.cli import tally06
from tests.support.registry_citizen_rows import new_keys, write_extract

COUNTED = ("events", "credits", "unit_daily", "unit_total", "officer_daily", "officer_total")


async def snapshot(db) -> dict[str, list]:
    """Everything counted, row by row: retention must leave all of it as it was."""
    return {table: [r["row"] for r in await db.fetch(f"SELECT t::text AS row FROM {table} t ORDER BY 1")]
            for table in COUNTED}


async def test_retention_erases_old_personal_data_only_and_is_audited(database, db):
    stored = await ingest(database, TEST_KEYS["TALLY06_PII_KEYS"], 12)
    seqs = sorted(stored)
    # Seven rows stored 400 days ago, one 300 days ago, four today.
    await db.execute("UPDATE citizen_pii SET created_at = now() - interval '400 days' WHERE seq = ANY($1::bigint[])",
                     seqs[:7])
    await db.execute("UPDATE citizen_pii SET created_at = now() - interval '300 days' WHERE seq = $1", seqs[7])
    await rebuild_counters(database)
    counted = await snapshot(db)
    assert len(counted["events"]) == 12 and counted["unit_total"]

    code, out, err = await tally06(database, "pii", "retention", "--older-than-days", "365", "--dry-run")
    assert code == 0, out + err
    assert "dry run: would erase 7 rows of personal data stored before" in out
    assert await db.fetchval("SELECT count(*) FROM citizen_pii") == 12
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0  # a dry run changes nothing

    started = dt.datetime.now(dt.UTC)
    code, out, err = await tally06(database, "pii", "retention", "--older-than-days", "365", "--batch-size", "3",
                                   "--actor", "dpo")
    finished = dt.datetime.now(dt.UTC)
    assert code == 0, out + err
    assert "erased 7 rows of personal data stored before" in out and "in 3 batches" in out
    assert [r["seq"] for r in await db.fetch("SELECT seq FROM citizen_pii ORDER BY seq")] == seqs[7:]
    assert await snapshot(db) == counted

    (entry,) = await db.fetch("SELECT * FROM audit_log")
    assert (entry["actor"], entry["role"], entry["action"], entry["target"], entry["row_count"], entry["clear_pii"]) \
        == ("dpo", "admin", "pii.retention", "citizen_pii", 7, False)
    assert started - dt.timedelta(days=365) <= entry["period_to"] <= finished - dt.timedelta(days=365)
    detail = json.loads(entry["detail"])
    assert detail["retention_days"] == 365 and detail["batches"] == 3 and detail["finished"] is True
    assert detail["summary"].startswith("7 rows of personal data stored before ")

    # The default period comes from the setting; a run with nothing to erase is audited too.
    code, out, err = await tally06(database, "pii", "retention", TALLY06_PII_RETENTION_DAYS="200")
    assert code == 0, out + err
    assert "erased 1 rows" in out and "(200 days)" in out
    code, out, err = await tally06(database, "pii", "retention", TALLY06_PII_RETENTION_DAYS="200")
    assert code == 0 and "erased 0 rows" in out, out + err
    assert [r["seq"] for r in await db.fetch("SELECT seq FROM citizen_pii ORDER BY seq")] == seqs[8:]
    assert await snapshot(db) == counted
    assert [(r["action"], r["row_count"]) for r in await db.fetch("SELECT * FROM audit_log ORDER BY id")] == [
        ("pii.retention", 7), ("pii.retention", 1), ("pii.retention", 0)]


async def test_retention_refuses_a_period_under_one_day(database, db):
    await ingest(database, TEST_KEYS["TALLY06_PII_KEYS"], 2)
    code, _, err = await tally06(database, "pii", "retention", "--older-than-days", "0")
    assert code == 2 and "at least 1 day" in err
    assert await db.fetchval("SELECT count(*) FROM citizen_pii") == 2
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_retention_erases_names_and_phones_of_registry_records_off_every_list(database, db):
    old, recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=400), dt.datetime.now(dt.UTC)
    day = dt.date(2024, 11, 1)
    keys = new_keys(4)
    done_long_ago = [RegistryRecord(keys[0], RegistryStatus.ACTIVATED, 2, "TH-03-C01", activated_on=day),
                     RegistryRecord(keys[1], RegistryStatus.REJECTED, 2, "TH-03-C01", rejected_on=day)]
    await write_extract(db, old, done_long_ago + [
        RegistryRecord(keys[2], RegistryStatus.APPROVED, 2, "TH-03-C01", approved_on=day)])  # still on a list
    await write_extract(db, recent, [RegistryRecord(keys[3], RegistryStatus.ACTIVATED, 1, "TH-03-C01",
                                                    activated_on=day)])  # activated, but lately
    await db.execute("UPDATE registry_citizens SET pii_key_id = 't1', pii_sealed = '\\x00'::bytea")

    code, out, err = await tally06(database, "pii", "retention", "--older-than-days", "365", "--dry-run")
    assert code == 0 and "phones of 2 registry records off every work list" in out, out + err
    code, out, err = await tally06(database, "pii", "retention", "--older-than-days", "365")
    assert code == 0 and "phones of 2 registry records off every work list" in out, out + err
    kept = {r["citizen_key"]: r["pii_sealed"] is not None for r in await db.fetch(
        "SELECT citizen_key, pii_sealed, status FROM registry_citizens")}
    assert kept == {keys[0]: False, keys[1]: False, keys[2]: True, keys[3]: True}
    # The records themselves stay: claims are judged against them.
    assert await db.fetchval("SELECT count(*) FROM registry_citizens WHERE status = 'activated'") == 2
    (entry,) = await db.fetch("SELECT detail FROM audit_log")
    assert json.loads(entry["detail"])["registry_contacts_erased"] == 2

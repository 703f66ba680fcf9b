"""`tally06 spotcheck …` as a user runs it, on the test database: design, thresholds, a draw,
the items masked and in clear (each clear view audited, a refusal too), outcomes with a retry and
a conflict, the replay and the Excel export."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import uuid

import openpyxl

from tally06.contract.events import LOCAL_TZ
from tally06.domain.pii import CitizenProtector
from tally06.domain.spot_checks import Outcome
from tally06.store.spot_checks import record_outcome
from tests.conftest import TEST_KEYS
from tests.integration.tally06.store.test_spot_checks_store import START, TEAMS, UNIT, claim, store
from tests.support import factories
from tests.support.cli import tally06

END = "2024-10-31T17:00+07:00"
SEED = "00112233445566778899aabbccddeeff"


async def claims_with_citizens(db, count: int) -> dict[int, tuple[str, str]]:
    """``count`` credited activations of UNIT with their sealed name and phone, as ingest stores
    them; returns seq → (name, phone)."""
    protector = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])
    people = [("Trần Văn Bình", factories.phone(), factories.cccd()) for _ in range(count)]
    keys = [protector.citizen_key(p[2]) for p in people]
    seqs = await store(db, [claim(TEAMS[i % 2], START + dt.timedelta(hours=5 + i), citizen=keys[i])
                            for i in range(count)])
    rows = []
    for seq, key, (name, phone, cccd) in zip(seqs, keys, people, strict=True):
        sealed = protector.seal({"full_name": name, "phone": phone, "id_number": cccd}, associated=key)
        rows.append((seq, key, sealed.key_id, sealed.blob))
    await db.executemany("INSERT INTO citizen_pii (seq, citizen_key, key_id, sealed) VALUES ($1,$2,$3,$4)", rows)
    return {seq: (p[0], p[1]) for seq, p in zip(seqs, people, strict=True)}


async def test_draw_show_record_replay_export(database, db, tmp_path):
    citizens = await claims_with_citizens(db, 30)

    code, out, err = await tally06(database, "spotcheck", "design", "--upper", "0.8", "--lower", "0.5",
                                   "--alpha", "0.1", "--beta", "0.1")
    assert code == 0, out + err
    assert "n = 19, d = 6" in out  # Valadez's classic 13 of 19
    code, out, err = await tally06(database, "spotcheck", "thresholds", "set", "--unit", "TH", "--upper", "0.9",
                                   "--lower", "0.6", "--alpha", "0.05", "--beta", "0.1", "--actor", "province")
    assert code == 0, out + err
    code, out, err = await tally06(database, "spotcheck", "thresholds", "show", "--unit", UNIT)
    assert code == 0 and "set for TH" in out and "upper 0.9" in out, out + err

    code, out, err = await tally06(database, "spotcheck", "draw", "--unit", UNIT, "--to", END, "--seed", SEED,
                                   "--actor", "focal-sam-son", "--role", "team_lead")
    assert code == 3 and "may not draw" in err
    code, out, err = await tally06(database, "spotcheck", "draw", "--unit", UNIT, "--to", END, "--seed", SEED,
                                   "--actor", "focal-sam-son", "--role", "district_focal")
    assert code == 0, out + err
    check_id = int(re.search(r"check (\d+) of TH-03-C01", out).group(1))  # type: ignore[union-attr]
    stored = await db.fetchrow("SELECT n, d, population_size, seed FROM spot_checks WHERE id = $1", check_id)
    # TH's 0.90 / 0.60 / 5 % / 10 %: n = 18, d = 4 (alpha 0.028, beta 0.094).
    assert (stored["n"], stored["d"], stored["population_size"], bytes(stored["seed"]).hex()) == (18, 4, 30, SEED)
    n, d = stored["n"], stored["d"]
    order = sorted(citizens, key=lambda s: hmac.new(bytes.fromhex(SEED), str(s).encode(), hashlib.sha256).digest())
    first_name, first_phone = citizens[order[0]]

    code, out, err = await tally06(database, "spotcheck", "list", "--unit", UNIT)
    assert code == 0 and re.search(rf"│ {check_id} +│ TH-03-C01 ", out), out

    code, out, err = await tally06(database, "spotcheck", "show", str(check_id))
    assert code == 0, out + err
    assert first_phone not in out and first_phone[:3] + "****" + first_phone[-3:] in out and "T. V. Bình" in out
    code, out, err = await tally06(database, "spotcheck", "show", str(check_id), "--clear", "--role", "team_lead",
                                   "--actor", "lead")
    assert code == 3 and "refused and logged" in err and first_phone not in out
    code, out, err = await tally06(database, "spotcheck", "show", str(check_id), "--clear", "--role",
                                   "district_focal", "--actor", "focal-sam-son")
    assert code == 0 and first_phone in out and first_name in out, out + err
    audited = await db.fetch("SELECT actor, role, action, clear_pii, row_count FROM audit_log "
                             "WHERE action LIKE 'spotcheck.view%' ORDER BY id")
    assert [tuple(r) for r in audited] == [("lead", "team_lead", "spotcheck.view.refused", True, 0),
                                           ("focal-sam-son", "district_focal", "spotcheck.view", True, 27)]  # 18 + 9 reserves

    oid = str(uuid.uuid4())
    code, out, err = await tally06(database, "spotcheck", "outcome", str(check_id), "0", "not_guided", "--note",
                                   "người dân nói tự cài", "--id", oid, "--actor", "verifier-a", "--role",
                                   "district_focal")
    assert code == 0 and "Cán bộ được ghi không hướng dẫn" in out, out + err
    code, out, err = await tally06(database, "spotcheck", "outcome", str(check_id), "0", "not_guided", "--id", oid,
                                   "--actor", "verifier-a")
    assert code == 0 and "(already recorded)" in out, out + err
    code, out, err = await tally06(database, "spotcheck", "outcome", str(check_id), "0", "confirmed",
                                   "--actor", "verifier-b")
    assert code == 4 and "--outcome:" in err and "verifier-a" in err and "not_guided" in err
    assert await db.fetchval("SELECT count(*) FROM spot_check_outcomes WHERE check_id = $1", check_id) == 1
    for rank in range(1, n - d - 1 + 1):  # 13 confirmed through the store (each CLI run takes seconds)...
        await record_outcome(db, check_id, rank, outcome_id=uuid.uuid4(), outcome=Outcome.CONFIRMED, note=None,
                             actor="verifier-a")
    code, out, err = await tally06(database, "spotcheck", "outcome", str(check_id), str(n - d), "confirmed")
    assert code == 0, out + err
    assert "status: passed (Đạt / Passed)" in out  # ... and the 14th = n − d settles it

    code, out, err = await tally06(database, "spotcheck", "replay", str(check_id))
    assert code == 0 and "same sample" in out and "the population now is the same" in out, out + err
    assert " ".join(str(s) for s in order[:n]) in out

    path = tmp_path / "check.xlsx"
    code, out, err = await tally06(database, "spotcheck", "export", str(check_id), "--out", str(path),
                                   "--actor", "focal-sam-son")
    assert code == 0, out + err
    sheet = openpyxl.load_workbook(path)["Mẫu"]
    first = next(sheet.iter_rows(min_row=3, values_only=True))
    assert first[8] == first_phone[:3] + "****" + first_phone[-3:]
    assert first[9] == "Cán bộ được ghi không hướng dẫn" and first[12] == "verifier-a"
    entry = await db.fetchrow("SELECT action, clear_pii, unit, period_to FROM audit_log "
                              "WHERE action = 'export.spotcheck'")
    assert (entry["clear_pii"], entry["unit"]) == (False, UNIT)
    assert entry["period_to"] == dt.datetime(2024, 10, 31, 17, tzinfo=LOCAL_TZ)

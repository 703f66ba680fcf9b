"""Registry records written straight into ``registry_citizens``, as an import would leave them,
for tests of what is read from them (goals, funnel). Every citizen's key comes from a CCCD the
factories made, so the after-all scan knows every number involved."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from tally06.domain.pii import CitizenProtector
from tally06.domain.registry import RegistryRecord
from tests.conftest import TEST_KEYS
from tests.support import factories

_PROTECTOR = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])


def new_keys(n: int) -> list[str]:
    """``n`` distinct citizen keys of factory-made CCCDs."""
    keys: dict[str, None] = {}
    while len(keys) < n:
        keys[_PROTECTOR.citizen_key(factories.cccd())] = None
    return list(keys)


async def write_extract(conn: asyncpg.Connection, as_of: dt.datetime, records: Sequence[RegistryRecord]) -> int:
    """One extract: its row in ``registry_extracts`` and its records replacing the citizens'."""
    async with conn.transaction():
        extract_id = await conn.fetchval(
            "INSERT INTO registry_extracts (as_of, digest, source, rows, changed) VALUES ($1, $2, 'test', $3, $3) "
            "RETURNING id", as_of, uuid.uuid4().hex, len(records))
        await conn.executemany(
            "INSERT INTO registry_citizens (citizen_key, status, level, collected_on, approved_on, activated_on, "
            "rejected_on, commune, village, as_of, extract_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (citizen_key) DO UPDATE SET status = excluded.status, level = excluded.level, "
            "collected_on = excluded.collected_on, approved_on = excluded.approved_on, "
            "activated_on = excluded.activated_on, rejected_on = excluded.rejected_on, commune = excluded.commune, "
            "village = excluded.village, as_of = excluded.as_of, extract_id = excluded.extract_id, "
            "change_seq = nextval('registry_change_seq')",
            [(r.citizen_key, r.status.value, r.level, r.collected_on, r.approved_on, r.activated_on, r.rejected_on,
              r.commune, r.village, as_of, extract_id) for r in records])
    return int(extract_id)

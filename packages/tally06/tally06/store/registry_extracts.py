"""Loading a registry extract into ``registry_citizens`` (migration 0015, docs/registry-extracts.md).

One import is one transaction, and imports run one at a time: the transaction starts by locking
``registry_extracts`` (EXCLUSIVE: plain reads go on), because the reconciler follows
``change_seq`` by position and must never see a later number commit before an earlier one.

The rows stream from the file into a temporary table (COPY, while the next rows are read), then
one INSERT … ON CONFLICT merges them. A row replaces a citizen's record only when its extract is
at least as recent as the record's and something differs, so the same rows sent again, by the
same file or by an overlapping one, change nothing and take no new change number. Citizens an
extract does not mention stay as they were: extracts may be partial (one commune, one day's
changes). The file itself is never copied; only the keyed digest of its bytes is kept, to
recognise it when it comes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import threading
from dataclasses import dataclass, field

import asyncpg

from tally06.contract.events import LOCAL_TZ
from tally06.imports.registry_extract import RECORD_COLUMNS, ExtractRecord, ParsedExtract
from tally06.imports.row_errors import RowError
from tally06.store.audit_log import record_change

DEFAULT_MAX_BAD_SHARE = 0.01
BATCH = 100_000  # rows merged at once: large enough for one sort and merge, small enough to overlap

_REGISTRY_FIELDS = ("status", "level", "collected_on", "approved_on", "activated_on", "rejected_on", "commune",
                    "village")
_PII_FIELDS = ("pii_key_id", "pii_sealed", "pii_digest")


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    ALREADY_LOADED = "already_loaded"  # the same file (its digest) was loaded before: nothing changed
    OLDER = "older"  # older than the newest extract loaded, and not forced
    TOO_MANY_BAD_ROWS = "too_many_bad_rows"
    BAD_HEADER = "bad_header"
    NO_ROWS = "no_rows"


@dataclass
class ExtractResult:
    outcome: Outcome
    as_of: dt.datetime
    source: str
    extract_id: int | None = None
    rows: int = 0  # good rows read
    bad_rows: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first of them (imports.registry_extract.KEPT_ERRORS)
    added: int = 0
    updated: int = 0
    kept_newer: int = 0  # rows of a forced older extract whose citizen has a newer record
    forced: bool = False
    other_as_of: dt.datetime | None = None  # ALREADY_LOADED: the as_of it was loaded with; OLDER: the newest

    @property
    def changed(self) -> int:
        return self.added + self.updated

    @property
    def unchanged(self) -> int:
        return self.rows - self.changed

    @property
    def applied(self) -> bool:
        return self.outcome is Outcome.APPLIED


class _Refused(Exception):  # noqa: N818 - a signal to roll back, never seen outside this module
    def __init__(self, result: ExtractResult) -> None:
        self.result = result


_INCOMING = """CREATE TEMP TABLE registry_incoming (
    citizen_key text, status text, level smallint, collected_on date, approved_on date, activated_on date,
    rejected_on date, commune text, village text, pii_key_id text, pii_sealed bytea, pii_digest text
) ON COMMIT DROP"""


def _merge_sql(carries_pii: bool) -> str:
    """The one statement that applies the rows. Without name and phone columns the stored
    personal data is kept, so it is neither written nor compared."""
    written = _REGISTRY_FIELDS + (_PII_FIELDS if carries_pii else ())
    columns = ", ".join(("citizen_key", *written, "as_of", "extract_id"))
    sets = ", ".join(f"{c} = excluded.{c}" for c in (*written, "as_of", "extract_id"))
    old = ", ".join(f"r.{c}" for c in written if c not in ("pii_key_id", "pii_sealed"))
    new = ", ".join(f"excluded.{c}" for c in written if c not in ("pii_key_id", "pii_sealed"))
    # Sorted by key: the primary key's index then grows in order instead of at random places.
    return f"""
        WITH merged AS (
            INSERT INTO registry_citizens AS r ({columns})
            SELECT citizen_key, {", ".join(written)}, $1, $2 FROM registry_incoming ORDER BY citizen_key
            ON CONFLICT (citizen_key) DO UPDATE SET {sets}, change_seq = nextval('registry_change_seq')
            WHERE r.as_of <= excluded.as_of AND ({old}) IS DISTINCT FROM ({new})
            RETURNING xmax = 0 AS added)
        SELECT count(*) FILTER (WHERE added) AS added, count(*) FILTER (WHERE NOT added) AS updated FROM merged"""


async def _load(conn: asyncpg.Connection, parsed: ParsedExtract, result: ExtractResult, *, older: bool) -> None:
    """Read the file in a thread while the database merges the batch read before: the two cores
    of a small server both work (reading is Python, merging is PostgreSQL). The bad rows are only
    all known at the end; if there are too many, the caller rolls every batch back."""
    loop = asyncio.get_running_loop()
    batches: asyncio.Queue[list[ExtractRecord] | None] = asyncio.Queue(maxsize=2)
    stop = threading.Event()
    last_day = result.as_of.astimezone(LOCAL_TZ).date()

    def read() -> None:
        try:
            for batch in parsed.records(last_day=last_day, batch=BATCH):
                if stop.is_set():
                    return
                asyncio.run_coroutine_threadsafe(batches.put(batch), loop).result()
        finally:
            asyncio.run_coroutine_threadsafe(batches.put(None), loop).result()

    reader = asyncio.ensure_future(asyncio.to_thread(read))
    merge = _merge_sql(parsed.carries_pii)
    try:
        while (batch := await batches.get()) is not None:
            await conn.copy_records_to_table("registry_incoming", records=batch, columns=RECORD_COLUMNS)
            if older:
                result.kept_newer += await conn.fetchval(
                    "SELECT count(*) FROM registry_incoming i JOIN registry_citizens r USING (citizen_key) "
                    "WHERE r.as_of > $1", result.as_of)
            merged = await conn.fetchrow(merge, result.as_of, result.extract_id)
            result.added += merged["added"]
            result.updated += merged["updated"]
            await conn.execute("TRUNCATE registry_incoming")
    except BaseException:
        stop.set()
        while not reader.done():  # let the reader finish its put and see the stop
            with contextlib.suppress(asyncio.QueueEmpty):
                batches.get_nowait()
            await asyncio.sleep(0.01)
        raise
    await reader  # a file that turned out unreadable half-way raises here


async def apply_extract(
    conn: asyncpg.Connection, parsed: ParsedExtract, *, as_of: dt.datetime, source: str | None = None,
    force: bool = False, actor: str, max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
) -> ExtractResult:
    """Load ``parsed`` as the registry's word at ``as_of``: all of it or, refused, none of it.

    Refused (nothing changes): the same file again (ALREADY_LOADED), an extract older than the
    newest loaded without ``force`` (OLDER), more bad rows than ``max_bad_share`` of its rows
    (TOO_MANY_BAD_ROWS, every bad row in ``errors``), a header that names no extract, no rows.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be an aware time")
    result = ExtractResult(Outcome.APPLIED, as_of, source or parsed.source)
    if parsed.header_errors:
        result.outcome, result.errors = Outcome.BAD_HEADER, list(parsed.header_errors)
        return result
    try:
        async with conn.transaction():
            await _apply(conn, parsed, result, force=force, actor=actor, max_bad_share=max_bad_share)
    except _Refused as refused:
        return refused.result
    return result


async def _apply(conn: asyncpg.Connection, parsed: ParsedExtract, result: ExtractResult, *, force: bool,
                 actor: str, max_bad_share: float) -> None:
    as_of = result.as_of
    await conn.execute("LOCK TABLE registry_extracts IN EXCLUSIVE MODE")
    if earlier := await conn.fetchrow("SELECT id, as_of FROM registry_extracts WHERE digest = $1", parsed.digest):
        result.outcome, result.extract_id, result.other_as_of = Outcome.ALREADY_LOADED, earlier["id"], earlier["as_of"]
        raise _Refused(result)
    newest = await conn.fetchval("SELECT max(as_of) FROM registry_extracts")
    result.forced = older = newest is not None and as_of < newest
    if older and not force:
        result.outcome, result.other_as_of = Outcome.OLDER, newest
        raise _Refused(result)
    result.extract_id = await conn.fetchval(
        "INSERT INTO registry_extracts (as_of, digest, source, rows, changed, forced, imported_by) "
        "VALUES ($1, $2, $3, 0, 0, $4, $5) RETURNING id", as_of, parsed.digest, result.source, older, actor)
    await conn.execute(_INCOMING)
    await conn.execute("SET LOCAL work_mem = '64MB'")  # each batch sorted in memory
    await _load(conn, parsed, result, older=older)
    tally = parsed.tally
    result.rows, result.bad_rows, result.errors = tally.good, tally.bad, tally.errors
    if tally.bad > max_bad_share * tally.rows:
        result.outcome = Outcome.TOO_MANY_BAD_ROWS
        raise _Refused(result)
    if not tally.good:
        result.outcome = Outcome.NO_ROWS
        raise _Refused(result)
    await conn.execute("UPDATE registry_extracts SET rows = $2, changed = $3 WHERE id = $1",
                       result.extract_id, result.rows, result.changed)
    await record_change(
        conn, actor=actor, action="registry.import", target=result.source, row_count=result.changed,
        period_to=as_of,
        summary=(f"registry extract {result.extract_id} as of {as_of.isoformat()}: {result.rows} rows, "
                 f"{result.added} citizens added, {result.updated} changed, {result.unchanged} unchanged"
                 + (f", {result.bad_rows} bad rows left out" if result.bad_rows else "")
                 + (f"; forced, older than {newest.isoformat()}" if older else "")),
        detail={"extract_id": result.extract_id, "rows": result.rows, "bad_rows": result.bad_rows,
                "added": result.added, "updated": result.updated, "unchanged": result.unchanged,
                "kept_newer": result.kept_newer, "forced": older})


@dataclass(frozen=True)
class LoadedExtract:
    id: int
    as_of: dt.datetime
    source: str | None
    rows: int
    changed: int
    forced: bool
    imported_by: str | None
    imported_at: dt.datetime


async def list_extracts(conn: asyncpg.Connection, limit: int = 50) -> list[LoadedExtract]:
    """The extracts loaded, newest moment first."""
    rows = await conn.fetch(
        "SELECT id, as_of, source, rows, changed, forced, imported_by, imported_at FROM registry_extracts "
        "ORDER BY as_of DESC, id DESC LIMIT $1", limit)
    return [LoadedExtract(**dict(r)) for r in rows]

"""``tally06 pii …``: personal data at rest: encryption keys, re-encryption, retention
(docs/personal-data.md)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import asyncpg
import typer
from rich.markup import escape
from rich.table import Table

from tally06.cli.context import AdminActorOption, BatchOption, audit, console, err, fail, on_db, progress_bar, settings
from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import KeyRing, new_key_entry
from tally06.store.pii_retention import (
    erase_expired,
    erase_registry_contacts,
    expired,
    registry_contacts_expired,
    retention_cutoff,
)
from tally06.store.pii_rotation import ACTIVE, OLD, UNKNOWN, RekeyResult, key_usage, new_result, rekey, rows_by_key

pii_app = typer.Typer(help="Personal data at rest: encryption keys, re-encryption, retention (docs/personal-data.md).",
                      no_args_is_help=True)


def _key_ring() -> KeyRing:

    try:
        return KeyRing(settings().pii_keys)
    except KeyConfigError as exc:
        fail(f"{exc} (the embedded stack keeps TALLY06_PII_KEYS in .tally06/keys.env)")


@pii_app.command("new-key")
def pii_new_key(
    key_id: Annotated[str | None, typer.Option("--id", help="Key id; default k<today>, e.g. k20250131")] = None,
) -> None:
    """Print a new key as id:base64, to put FIRST in TALLY06_PII_KEYS on every service."""

    try:
        entry = new_key_entry(key_id or f"k{dt.datetime.now(dt.UTC):%Y%m%d}")
    except KeyConfigError as exc:
        fail(str(exc))
    err.print("put it first in TALLY06_PII_KEYS, keep the old keys, restart, then run "
              "'tally06 pii rekey' (docs/personal-data.md)")
    print(entry)


@pii_app.command("keys")
def pii_keys() -> None:
    """The key ids of TALLY06_PII_KEYS and how many rows each still seals (never key material)."""

    ring = _key_ring()
    usage = key_usage(ring.ids, on_db(rows_by_key))
    meaning = {ACTIVE: "active: seals new rows", OLD: "old: opens only",
               UNKNOWN: "NOT IN TALLY06_PII_KEYS: unreadable here"}
    table = Table("key id", "use", "rows")
    for u in usage:
        note = " (may leave the ring)" if u.status == OLD and u.rows == 0 else ""
        table.add_row(escape(u.key_id), meaning[u.status] + note, f"{u.rows:,}")
    console.print(table)


@pii_app.command("rekey")
def pii_rekey(batch_size: BatchOption = 500, actor: AdminActorOption = None) -> None:
    """Re-encrypt every sealed row (citizen_pii, and registry names and phones) still under an old key with the
    first key of the ring.

    Batches of short transactions: safe while ingest runs, safe to stop and to run again or twice
    at once. Exit 1 when rows remain that this ring cannot open (they are listed, not touched).
    """


    ring = _key_ring()
    with progress_bar(f"re-encrypting under key {ring.active_id}") as bar:
        task = bar.add_task("rekey", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def work(conn: asyncpg.Connection) -> RekeyResult:
            result, finished = new_result(ring), False
            try:
                await rekey(conn, ring, batch_size=batch_size, progress=advance, result=result)
                finished = True
            finally:
                # Batches commit one by one, so the entry follows them: also after a stop half-way.
                await audit(conn, actor, "pii.rekey", "citizen_pii",
                            f"{result.resealed} rows re-encrypted under key {ring.active_id}"
                            + ("" if finished else " before the run stopped")
                            + (f"; {sum(result.unreadable.values())} unreadable" if result.unreadable else "")
                            + (f"; {sum(result.unknown.values())} with keys not in the ring" if result.unknown else ""),
                            row_count=result.resealed,
                            detail={"active_key": ring.active_id, "old_keys": result.old_ids, "batches": result.batches,
                                    "unreadable": result.unreadable, "unknown_keys": result.unknown,
                                    "remaining": result.remaining, "finished": finished})
            return result

        result = on_db(work)
    console.print(f"re-encrypted {result.resealed:,} rows under key {result.active_id} in {result.batches} batches")
    for key_id, n in sorted(result.unreadable.items()):
        err.print(f"[yellow]{n:,} rows under key {escape(key_id)} did not open with that key[/] (wrong key "
                  "material under that id?); left as they were")
    for key_id, n in sorted(result.unknown.items()):
        err.print(f"[yellow]{n:,} rows are sealed with key {escape(repr(key_id))}, which is not in "
                  "TALLY06_PII_KEYS:[/] add it (anywhere after the first) and run again, or accept them as erased")
    waiting = result.remaining - sum(result.unreadable.values())
    if waiting > 0:
        err.print(f"[yellow]{waiting:,} rows were written meanwhile with an old key:[/] restart every service "
                  f"with {result.active_id} first in the ring, then run again")
    if result.complete:
        console.print("every row is sealed with the active key: the old keys may leave the ring")
    else:
        raise typer.Exit(1)


@pii_app.command("retention")
def pii_retention(
    older_than_days: Annotated[int | None, typer.Option(
        help="Erase personal data stored more than this many days ago; "
             "default TALLY06_PII_RETENTION_DAYS (365)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only count what would be erased")] = False,
    batch_size: BatchOption = 1000,
    actor: AdminActorOption = None,
) -> None:
    """Erase clear personal data past retention (citizen_pii rows, and the names and phones of registry
    records off every work list); counts and reports stay as they were."""

    days = older_than_days if older_than_days is not None else settings().pii_retention_days
    try:
        cutoff = retention_cutoff(dt.datetime.now(dt.UTC), days)
    except ValueError as exc:
        fail(f"--older-than-days {days}: {exc}")

    if dry_run:
        found = on_db(lambda conn: expired(conn, cutoff))
        contacts = on_db(lambda conn: registry_contacts_expired(conn, cutoff))
        oldest = f" (the oldest stored {found.oldest:%Y-%m-%d})" if found.oldest else ""
        console.print(f"dry run: would erase {found.rows:,} rows of personal data stored before "
                      f"{cutoff.isoformat(timespec='seconds')} ({days} days){oldest}, and the names and "
                      f"phones of {contacts:,} registry records off every work list")
        return

    async def work(conn: asyncpg.Connection) -> tuple[int, int, int]:

        erased, batches, cleared, finished, shown = 0, 0, 0, False, time.monotonic()

        def advance(done: int, total: int) -> None:
            # Plain lines, every few seconds: a CronJob's log is no terminal for a progress bar.
            nonlocal erased, batches, shown
            erased, batches = done, batches + 1
            if done == total or time.monotonic() - shown >= 5:
                shown = time.monotonic()
                err.print(f"erased {done:,} of {total:,}")

        try:
            await erase_expired(conn, cutoff, batch_size=batch_size, progress=advance)
            cleared = await erase_registry_contacts(conn, cutoff, batch_size=batch_size)
            finished = True
        finally:
            # One entry per run, after the batches (each commits on its own), also after a stop.
            await audit(conn, actor, "pii.retention", "citizen_pii",
                        f"{erased} rows of personal data stored before {cutoff.isoformat(timespec='seconds')} "
                        f"erased ({days} days retention)" + ("" if finished else " before the run stopped"),
                        row_count=erased, period_to=cutoff,
                        detail={"retention_days": days, "batches": batches, "finished": finished,
                                "registry_contacts_erased": cleared})
        return erased, batches, cleared

    erased, batches, cleared = on_db(work)
    console.print(f"erased {erased:,} rows of personal data stored before {cutoff.isoformat(timespec='seconds')} "
                  f"({days} days) in {batches} batches, and the names and phones of {cleared:,} registry records "
                  "off every work list")

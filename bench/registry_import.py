"""Registry extract import benchmark (issue 17): a province's extract of 3,000,000 rows must import
in under a minute.

The extract is made here by a deterministic generator (its CCCDs and phones are made up here and
never leave the benchmark's temporary folder). Measured in one run, on a fresh database:

* baseline: a plain COPY of the same file into an unindexed table of text columns (what the
  database takes with no checks, no hashing, no encryption, no merge);
* parse only: reading and checking the rows, hashing the CCCDs and sealing names and phones;
* the import itself (``apply_extract``: parse, COPY to a temporary table, one merge);
* the same file again (recognised by its digest: nothing changes);
* a daily delta: the next day's extract of the 10 % of citizens whose record moved on.

``python -m bench.registry_import --rows 3000000`` runs it alone on an embedded PostgreSQL;
``python -m bench`` runs it as one of its sections.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import typer

from tally06.contract.events import LOCAL_TZ
from tally06.domain.pii import CitizenProtector, new_key
from tally06.domain.registry import ReconcileRules
from tally06.imports.registry_extract import read_extract
from tally06.imports.registry_words import COLUMNS
from tally06.store.reconciliation import reconcile
from tally06.store.registry_extracts import apply_extract

FULL_ROWS = 3_000_000
GOAL_S = 60.0
DAY0 = dt.date(2024, 10, 1)
AS_OF = dt.datetime(2024, 11, 20, 17, 0, tzinfo=LOCAL_TZ)
_DAYS = [(DAY0 + dt.timedelta(days=n)).isoformat() for n in range(60)]
_NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Vũ Thị Giang",
          "Đặng Văn Hải", "Bùi Thị Lan", "Đỗ Văn Minh", "Ngô Thị Nga", "Dương Văn Phúc"]
# Of 20 citizens: 12 activated, 4 approved, 3 collected, 1 rejected (the shape of a campaign's registry).
_STATUSES = ["activated"] * 12 + ["approved"] * 4 + ["collected"] * 3 + ["rejected"]
_NEXT = {"collected": "approved", "approved": "activated"}


def _row(i: int, status: str, moved: bool) -> list[str]:
    d = i % 40
    phone = f"09{(i * 31 + 7 + (1 if moved and status in ('activated', 'rejected') else 0)) % 10**8:08d}"
    commune = f"TH-{i % 27 + 1:02d}-C{i % 13 + 1:02d}"
    return [f"038{(i * 7919 + 12345) % 10**9:09d}", _NAMES[i % len(_NAMES)], phone, status, "2" if i % 3 else "1",
            _DAYS[d], _DAYS[d + 2] if status in ("approved", "activated") else "",
            _DAYS[d + 5] if status == "activated" else "", _DAYS[d + 3] if status == "rejected" else "",
            commune, f"{commune}-V{i % 7 + 1}" if i % 2 else ""]


def write_extract_file(path: Path, rows: int, *, delta: bool = False) -> int:
    """``rows`` citizens; with ``delta`` only every tenth, one stage further on (or, when there
    is none, with a new phone): the next day's changes. Returns the rows written."""
    written = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i in range(rows):
            status = _STATUSES[i % len(_STATUSES)]
            if delta:
                if i % 10:
                    continue
                status = _NEXT.get(status, status)
            writer.writerow(_row(i, status, delta))
            written += 1
    return written


async def _copy_baseline(conn: asyncpg.Connection, path: Path) -> float:
    await conn.execute(f"CREATE UNLOGGED TABLE bench_plain ({', '.join(f'{c} text' for c in COLUMNS)})")
    started = time.perf_counter()
    with path.open("rb") as f:
        await conn.copy_to_table("bench_plain", source=f, format="csv", header=True)
    elapsed = time.perf_counter() - started
    await conn.execute("DROP TABLE bench_plain")
    return elapsed


def _parse_only(path: Path, protector: CitizenProtector) -> tuple[float, int]:
    started = time.perf_counter()
    parsed = read_extract(path, protector)
    rows = sum(len(chunk) for chunk in parsed.records(last_day=AS_OF.date()))
    return time.perf_counter() - started, rows


async def _import(conn: asyncpg.Connection, path: Path, protector: CitizenProtector,
                  as_of: dt.datetime) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await apply_extract(conn, read_extract(path, protector), as_of=as_of, actor="bench")
    return time.perf_counter() - started, result


async def run_registry_import(dsn: str, rows: int, workdir: Path) -> dict[str, Any]:
    protector = CitizenProtector(new_key(), f"bench:{new_key()}")
    full, delta = workdir / "registry-extract.csv", workdir / "registry-delta.csv"
    started = time.perf_counter()
    write_extract_file(full, rows)
    delta_rows = write_extract_file(delta, rows, delta=True)
    generate_s = time.perf_counter() - started
    file_mb = round(full.stat().st_size / 2**20, 1)
    conn = await asyncpg.connect(dsn)
    try:
        copy_s = await _copy_baseline(conn, full)
        parse_s, parsed_rows = await asyncio.to_thread(_parse_only, full, protector)
        import_s, first = await _import(conn, full, protector, AS_OF)
        # What the aggregator does next: judge the whole extract (no claims here, so every
        # activation is unclaimed), in the chunks its timer takes.
        started = time.perf_counter()
        steps = await reconcile(conn, ReconcileRules())
        reconcile_s = time.perf_counter() - started
        again_s, again = await _import(conn, full, protector, AS_OF)
        delta_s, moved = await _import(conn, delta, protector, AS_OF + dt.timedelta(days=1))
        stored = await conn.fetchval("SELECT count(*) FROM registry_citizens")
    finally:
        await conn.close()
        full.unlink(missing_ok=True)
        delta.unlink(missing_ok=True)
    checks = {"imported": first.added == rows == parsed_rows == stored, "again_unchanged": again.changed == 0
              and again.outcome == "already_loaded", "delta_changed": moved.updated == delta_rows}
    if not all(checks.values()):
        raise AssertionError(f"registry import bench: {checks} ({first}, {again.outcome}, {moved.updated})")
    return {"rows": rows, "file_mb": file_mb,
            "generate_s": generate_s, "copy_baseline_s": copy_s, "parse_only_s": parse_s, "import_s": import_s,
            "import_rows_per_s": rows / import_s, "vs_copy": import_s / copy_s, "vs_parse": import_s / parse_s,
            "reconcile_s": reconcile_s, "reconcile_steps": len(steps), "vs_copy_reconcile": reconcile_s / copy_s,
            "same_file_again_s": again_s, "delta_rows": delta_rows, "delta_s": delta_s,
            "import_3m_s_estimate": import_s * FULL_ROWS / rows,
            "goal_s": GOAL_S, "full_size": rows >= FULL_ROWS}


def describe(r: dict[str, Any]) -> list[str]:
    """The section's lines, as ``python -m bench`` prints them."""
    size = ("a province's full extract" if r["full_size"] else
            f"NOT the full 3,000,000 rows (estimate for 3M: {r['import_3m_s_estimate']:.1f} s, linear)")
    return [f"registry import of {r['rows']:,} rows ({size}): {r['import_s']:.1f} s "
            f"({r['import_rows_per_s']:,.0f} rows/s), goal < {GOAL_S:g} s for 3M",
            f"  baseline, same run: plain COPY of the file {r['copy_baseline_s']:.1f} s "
            f"(import {r['vs_copy']:.2f}× it); parse, hash and seal only {r['parse_only_s']:.1f} s "
            f"({r['vs_parse']:.2f}×)",
            f"  judging it against the claims (reconciler, {r['reconcile_steps']} steps): {r['reconcile_s']:.1f} s "
            f"({r['vs_copy_reconcile']:.2f}× the plain COPY)",
            f"  the same file again {r['same_file_again_s']:.2f} s (nothing changed); a daily delta of "
            f"{r['delta_rows']:,} changed rows {r['delta_s']:.1f} s"]


def main(rows: int = typer.Option(FULL_ROWS, help="citizens in the extract (3,000,000: a province)")) -> None:
    from tally06.kit.ports import free_port
    from tally06.stack.embedded.postgres import EmbeddedPostgres
    from tests.support.databases import create_database

    with tempfile.TemporaryDirectory(prefix="tally06-bench-registry-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", free_port())
        pg.start()
        try:
            dsn = asyncio.run(create_database(pg.dsn("").rstrip("/"), prefix="bench_"))
            result = asyncio.run(run_registry_import(dsn, rows, Path(tmp)))
        finally:
            pg.stop()
    for line in describe(result):
        print(line)


if __name__ == "__main__":
    typer.run(main)

"""One export flow for every official report: build it → write its audit entry → write the file.

The CLI and the read API both call these, so an export is audited the same way whoever asks. The
build and its entry share the database connection (Appendix II in one transaction: no read of
personal data without its audit row); writing the file comes after, without the connection.

A report is made in the map in force at the end of its period, or in the map ``map_id`` names;
the audit entry says which map it was (``detail.map_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tally06.domain.org import OrgRegistry
from tally06.domain.pii import CitizenProtector
from tally06.reports.appendix1 import Appendix1Report, build_appendix1
from tally06.reports.appendix1_writers import write_appendix1
from tally06.reports.appendix2 import Appendix2Report, OfficerReport, build_appendix2, build_officer_report
from tally06.reports.appendix2_writers import write_appendix2, write_officer_report
from tally06.reports.scope import MapRef
from tally06.store.audit_log import record_export

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Export:
    """A built and audited report, ready to be written as .xlsx or .csv (by the path's suffix)."""

    report: Any
    rows: int
    write: Callable[[Path, Progress | None], list[Path]]


@dataclass(frozen=True)
class ExportRequest:
    """Who exports which unit's report for which period, and where it goes (for the audit log)."""

    actor: str
    role: str
    unit: str
    period_to: dt.datetime
    period_from: dt.datetime | None
    target: Path | str
    map_id: int | None = None  # default: the map in force on the local day of period_to
    basis: str = "claimed"  # Appendix I: claimed or registry-confirmed activations (domain.metrics.BASES)

    async def _record(self, conn: asyncpg.Connection | asyncpg.Pool, action: str, rows: int,
                      clear_pii: bool = False, in_map: MapRef | None = None, basis: str | None = None) -> None:
        detail: dict[str, Any] = {"map_id": in_map.id} if in_map is not None else {}
        if basis is not None:
            detail["basis"] = basis
        await record_export(conn, actor=self.actor, role=self.role, action=action, unit=self.unit,
                            period_from=self.period_from, period_to=self.period_to, clear_pii=clear_pii,
                            row_count=rows, target=self.target, detail=detail)

    async def appendix1(self, conn: asyncpg.Connection, *, org: OrgRegistry | None = None,
                        progress: Callable[[str], None] | None = None) -> Export:
        """Appendix I as of ``period_to`` on the request's basis (the audit entry says which);
        ``period_from`` is the previous cutoff whose corrections it lists.

        ``org`` is not used: the report's map is the one in force at the cutoff (or ``map_id``),
        read from the database; the argument stays for callers that still pass the live registry.
        """
        del org
        report: Appendix1Report = await build_appendix1(conn, self.unit, self.period_to, self.period_from,
                                                        map_id=self.map_id, progress=progress, basis=self.basis)
        await self._record(conn, "export.appendix1", len(report.rows), in_map=report.map, basis=report.basis)
        return Export(report, len(report.rows), lambda path, advance: write_appendix1(report, path, advance))

    async def refuse_clear(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        """Clear personal data asked for by a role that may not see it: logged, nothing read."""
        await self._record(conn, "export.appendix2.refused", 0, clear_pii=True)

    async def appendix2(self, conn: asyncpg.Connection, *, protector: CitizenProtector, clear: bool,
                        progress: Progress | None = None) -> Export:
        async with conn.transaction():
            report: Appendix2Report = await build_appendix2(
                conn, self.unit, self.period_to, self.period_from, protector=protector, clear=clear,
                map_id=self.map_id, progress=progress)
            await self._record(conn, "export.appendix2", len(report.rows), clear_pii=clear, in_map=report.map)

        def write(path: Path, advance: Progress | None) -> list[Path]:
            write_appendix2(report, path, advance)
            return [path]

        return Export(report, len(report.rows), write)

    async def officers(self, conn: asyncpg.Connection) -> Export:
        """Activations per team and per officer, with the plan-70 rule of 10 citizens per official."""
        report: OfficerReport = await build_officer_report(conn, self.unit, self.period_to, self.period_from,
                                                           map_id=self.map_id)
        await self._record(conn, "export.officers", len(report.officers), in_map=report.map)
        return Export(report, len(report.officers), lambda path, _advance: write_officer_report(report, path))

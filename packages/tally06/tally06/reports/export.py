"""One export flow for every official report: build it → write its audit entry → write the file.

The CLI and the read API both call these, so an export is audited the same way whoever asks. The
build and its entry share the database connection (Appendix II in one transaction: no read of
personal data without its audit row); writing the file comes after, without the connection.
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
from tally06.reports.appendix2 import Appendix2Report, OfficerRow, TeamRow, build_appendix2, build_officer_report
from tally06.reports.appendix2_writers import period_label, write_appendix2, write_officer_report
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

    async def _record(self, conn: asyncpg.Connection | asyncpg.Pool, action: str, rows: int,
                      clear_pii: bool = False) -> None:
        await record_export(conn, actor=self.actor, role=self.role, action=action, unit=self.unit,
                            period_from=self.period_from, period_to=self.period_to, clear_pii=clear_pii,
                            row_count=rows, target=self.target)

    async def appendix1(self, conn: asyncpg.Connection, *, org: OrgRegistry | None = None,
                        progress: Callable[[str], None] | None = None) -> Export:
        """Appendix I as of ``period_to``; ``period_from`` is the previous cutoff whose corrections it lists."""
        report: Appendix1Report = await build_appendix1(conn, self.unit, self.period_to, self.period_from,
                                                        org=org, progress=progress)
        await self._record(conn, "export.appendix1", len(report.rows))
        return Export(report, len(report.rows), lambda path, advance: write_appendix1(report, path, advance))

    async def refuse_clear(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        """Clear personal data asked for by a role that may not see it: logged, nothing read."""
        await self._record(conn, "export.appendix2.refused", 0, clear_pii=True)

    async def appendix2(self, conn: asyncpg.Connection, *, protector: CitizenProtector, clear: bool,
                        progress: Progress | None = None) -> Export:
        async with conn.transaction():
            report: Appendix2Report = await build_appendix2(conn, self.unit, self.period_to, self.period_from,
                                                            protector=protector, clear=clear, progress=progress)
            await self._record(conn, "export.appendix2", len(report.rows), clear_pii=clear)

        def write(path: Path, advance: Progress | None) -> list[Path]:
            write_appendix2(report, path, advance)
            return [path]

        return Export(report, len(report.rows), write)

    async def officers(self, conn: asyncpg.Connection) -> Export:
        """Activations per team and per officer, with the plan-70 rule of 10 citizens per official."""
        teams, officers = await build_officer_report(conn, self.unit, self.period_to, self.period_from)
        await self._record(conn, "export.officers", len(officers))
        title = f"Kết quả theo tổ công tác và cán bộ — {self.unit} — {period_label(self.period_from, self.period_to)}"
        built: tuple[list[TeamRow], list[OfficerRow]] = (teams, officers)
        return Export(built, len(officers), lambda path, _advance: write_officer_report(teams, officers, path, title))

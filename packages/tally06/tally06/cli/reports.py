"""``tally06 report …``: official reports as .xlsx or .csv, each export in the audit log.

Each report is made in the map in force on the local day of its cutoff (or end of period), or
in the map ``--map`` names (``tally06 org maps`` lists them); the output says which.
"""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated

import typer

from tally06.cli.context import ActorOption, actor_name, console, fail, moment, on_db, progress_bar, settings
from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import CitizenProtector
from tally06.reports import ReportError
from tally06.reports.appendix2 import MIN_CITIZENS_PER_OFFICIAL, OfficerReport, may_see_clear
from tally06.reports.export import Export, ExportRequest
from tally06.reports.scope import MapRef, level_en


class Basis(enum.StrEnum):
    """What Appendix I counts (``tally06.domain.metrics.BASES``)."""

    CLAIMED = "claimed"
    CONFIRMED = "confirmed"


BASIS_EN = {Basis.CLAIMED: "the activations teams claimed",
            Basis.CONFIRMED: "of the activations teams claimed, those the national registry confirmed"}

report_app = typer.Typer(help="Official reports (Appendix I of plan 70) as .xlsx or .csv.", no_args_is_help=True)

RoleOption = Annotated[str, typer.Option(help="Role of who exports; only 'police' may export clear personal data")]
UnitOption = Annotated[str, typer.Option(help="Unit whose activations are listed (any level)")]
ToOption = Annotated[str, typer.Option("--to", help="End of the period / cutoff (ISO 8601 with offset)")]
OutOption = Annotated[Path, typer.Option(help="Output file, .xlsx or .csv")]
MapOption = Annotated[int | None, typer.Option(
    "--map", help="Map id to report in (see 'tally06 org maps'); default the map in force at the cutoff")]


def _request(out: Path, unit: str, end: str, start: str | None, actor: str | None, role: str,
             map_id: int | None, options: tuple[str, str] = ("--to", "--from"),
             basis: str = "claimed") -> ExportRequest:
    """The output file's kind checked, then the period's end and optional start."""
    if out.suffix.lower() not in (".xlsx", ".csv"):
        fail(f"--out must end in .xlsx or .csv, not {out.suffix or '(nothing)'}")
    period_to = moment(end, options[0])
    period_from: dt.datetime | None = moment(start, options[1]) if start else None
    return ExportRequest(actor_name(actor), role, unit, period_to, period_from, out.resolve(), map_id, basis)


def _in_map(ref: MapRef | None) -> str:
    return f" in {ref.label_en()}" if ref is not None else ""


@report_app.command("appendix1")
def report_appendix1(
    unit: Annotated[str, typer.Option(
        help="The unit whose child units are listed (a province → its districts, or its communes in a two-tier map)")],
    cutoff: Annotated[str, typer.Option(help="Figures as of this moment (ISO 8601 with offset)")],
    out: OutOption,
    since: Annotated[str | None, typer.Option(
        help="Previous report's cutoff: list the corrections that arrived after it")] = None,
    map_id: MapOption = None,
    actor: ActorOption = None,
    role: RoleOption = "staff",
    basis: Annotated[Basis, typer.Option(
        help="claimed: the activations teams report; confirmed: of those, the ones the national registry "
             "confirmed")] = Basis.CLAIMED,
) -> None:
    """Appendix I (targets, activations, completion %, remaining) as of a cutoff, from the event store."""
    request = _request(out, unit, cutoff, since, actor, role, map_id, ("--cutoff", "--since"), basis.value)
    with progress_bar("{task.description}") as bar:
        task = bar.add_task("reading the event store", total=None)
        try:
            export = on_db(lambda conn: request.appendix1(
                conn, progress=lambda what: bar.update(task, description=f"reading {what}")))
        except ReportError as exc:
            fail(str(exc))
        bar.update(task, description=f"writing {out.name}", completed=0, total=export.rows + 1)
        files = export.write(out, lambda done, total: bar.update(task, completed=done, total=total))
    report = export.report
    t = report.total
    counted = "activated" if report.basis == Basis.CLAIMED else "confirmed"
    console.print(f"Appendix I of {report.unit_code}{_in_map(report.map)} as of {request.period_to.isoformat()}: "
                  f"{len(report.rows)} units ({level_en(report.levels) or 'none'}), "
                  f"{counted} {t.activated_total:,} of {t.target_total:,} ({t.completion_pct} %), "
                  f"remaining {t.remaining:,}")
    console.print(f"basis: {report.basis} ({BASIS_EN[Basis(report.basis)]})")
    if request.period_from is not None:
        late = sum(c.activated_total for c in report.corrections)
        console.print(f"corrections since {request.period_from.isoformat()}: {late:,} late activations in "
                      f"{len(report.corrections)} units")
    console.print("written: " + ", ".join(str(f) for f in files))


@report_app.command("appendix2")
def report_appendix2(
    unit: UnitOption,
    to: ToOption,
    out: OutOption,
    start: Annotated[str | None, typer.Option(
        "--from", help="Start of the period (exclusive); default: from the beginning")] = None,
    clear: Annotated[bool, typer.Option(
        help="Clear CCCD, names and phones (role 'police' only); masked otherwise")] = False,
    map_id: MapOption = None,
    actor: ActorOption = None,
    role: RoleOption = "staff",
) -> None:
    """Appendix II: the per-activation list (citizen, CCCD, phone, guiding officer, running total)."""
    request = _request(out, unit, to, start, actor, role, map_id)
    if clear and not may_see_clear(role):
        on_db(request.refuse_clear)
        fail(f"role {role!r} may not export clear personal data (refused and logged)", 3)
    config = settings()
    try:
        protector = CitizenProtector(config.hmac_key, config.pii_keys)
    except KeyConfigError as exc:
        fail(f"{exc} (set TALLY06_HMAC_KEY and TALLY06_PII_KEYS; the embedded stack keeps them in .tally06/keys.env)")
    with progress_bar("{task.description}") as bar:
        task = bar.add_task("reading activations", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            export: Export = on_db(lambda conn: request.appendix2(conn, protector=protector, clear=clear,
                                                                  progress=advance))
        except ReportError as exc:
            fail(str(exc))
        bar.update(task, description=f"writing {out.name}", completed=0, total=max(1, export.rows))
        export.write(out, advance)
    console.print(f"Appendix II of {export.report.unit_code}{_in_map(export.report.map)}: {export.rows:,} activations, "
                  f"{'clear' if clear else 'masked'} personal data; written: {out}")


@report_app.command("officers")
def report_officers(
    unit: Annotated[str, typer.Option(help="Unit whose teams and officers are listed")],
    to: ToOption,
    out: OutOption,
    start: Annotated[str | None, typer.Option("--from", help="Start of the period (exclusive)")] = None,
    map_id: MapOption = None,
    actor: ActorOption = None,
    role: RoleOption = "staff",
) -> None:
    """Per team and per officer, with the rule that every official guides at least 10 citizens."""
    request = _request(out, unit, to, start, actor, role, map_id)
    try:
        export = on_db(request.officers)
    except ReportError as exc:
        fail(str(exc))
    export.write(out, None)
    report: OfficerReport = export.report
    below = sum(not o.meets_minimum for o in report.officers)
    console.print(f"{report.unit_code}{_in_map(report.map)}: {len(report.teams)} teams, {len(report.officers)} "
                  f"officers, {below} below {MIN_CITIZENS_PER_OFFICIAL} citizens; written: {out}")


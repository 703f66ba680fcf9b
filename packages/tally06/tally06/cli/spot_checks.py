"""``tally06 spotcheck …``: spot checks by random sampling (kiểm tra xác suất) from the command line.

The CLI cannot tell people apart (whoever holds the database URL runs it): ``--actor`` names who
acts and ``--role`` says in which role, both written to the audit log. Draws and outcomes are for
the verifier roles (and the administrator); names and phones in clear only for the roles that may
see them (``CLEAR_PII_ROLES``), each view audited, a refusal too, as ``report appendix2 --clear``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.markup import escape
from rich.table import Table

from tally06.cli.context import ActorOption, actor_name, console, fail, moment, on_db, settings
from tally06.cli.spot_check_rules import RoleOption, design_cmd, refuse, thresholds_app
from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import CLEAR_PII_ROLES, Role
from tally06.domain.exceptions import KeyConfigError
from tally06.domain.lqas import DecisionRule
from tally06.domain.pii import CitizenProtector, mask_phone
from tally06.domain.spot_checks import (
    OUTCOME_TEXTS,
    STATUS_TEXTS,
    VERIFIER_ROLES,
    AuditAction,
    CheckStatus,
    Outcome,
    Population,
)
from tally06.kit.clock import clock_from_setting
from tally06.reports import ReportError
from tally06.reports.appendix2 import mask_name
from tally06.reports.scope import report_scope
from tally06.reports.spot_check_writers import write_check_xlsx
from tally06.store.audit_log import record_export
from tally06.store.spot_checks import (
    CheckRow,
    Contact,
    ItemRow,
    SpotCheckError,
    contacts,
    draw_check,
    get_check,
    items,
    list_checks,
    record_outcome,
    replay,
    thresholds_source,
)

spotcheck_app = typer.Typer(help="Spot checks by random sampling (LQAS): design, draw, outcomes, verdicts.",
                            no_args_is_help=True)
spotcheck_app.command("design")(design_cmd)
spotcheck_app.add_typer(thresholds_app, name="thresholds")

ClearOption = Annotated[bool, typer.Option(help="Names and phones in clear (audited); masked otherwise")]
CheckArg = Annotated[int, typer.Argument(help="The check's id (see 'tally06 spotcheck list')")]


def _local(moment_: dt.datetime | None) -> str:
    return moment_.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment_ else ""


def _print_check(check: CheckRow) -> None:
    status_vi, status_en = STATUS_TEXTS[check.status]
    console.print(f"check {check.id} of {check.unit}: {check.population.value} claims "
                  f"{_local(check.period_from) or 'from the beginning'} → {_local(check.period_to)}")
    console.print(f"rule n = {check.n}, d = {check.d}{' (given)' if check.rule_given else ''}; exact risks "
                  f"alpha {check.alpha_actual:.4f}, beta {check.beta_actual:.4f} at {check.upper} / {check.lower}")
    console.print(f"seed {check.seed_hex}; population {check.population_size} claims, digest "
                  f"{check.population_digest}; drawn {check.drawn} by {escape(check.drawn_by)} at "
                  f"{_local(check.drawn_at)}")
    estimate = "" if check.estimate is None else (
        f", estimate {check.estimate:.1%} (95 % CI {check.ci_low or 0:.1%}–{check.ci_high or 1:.1%})")
    console.print(f"status: {check.status.value} ({status_vi} / {status_en}); {check.successes} confirmed, "
                  f"{check.failures} failed{estimate}" + (f"; decided {_local(check.decided_at)}"
                                                          if check.decided_at else ""))


def _may_verify(role: Role) -> None:
    if role not in VERIFIER_ROLES and role is not Role.ADMIN:
        fail(f"role {role.value!r} may not draw spot checks nor record their outcomes", 3)


@spotcheck_app.command("draw")
def draw_cmd(
    unit: Annotated[str, typer.Option(help="The unit checked (any level)")],
    population: Annotated[Population, typer.Option(help="credited activations, or the unconfirmed ones")]
    = Population.CREDITED,
    to: Annotated[str | None, typer.Option("--to", help="End of the period (ISO 8601 with offset); default now")]
    = None,
    start: Annotated[str | None, typer.Option("--from", help="Start of the period (exclusive)")] = None,
    n: Annotated[int | None, typer.Option("--n", help="Sample size given explicitly (with --d)")] = None,
    d: Annotated[int | None, typer.Option("--d", help="Failures allowed (with --n)")] = None,
    seed: Annotated[str | None, typer.Option(help="The seed in hex; default 16 random bytes")] = None,
    marks_figures: Annotated[bool, typer.Option(help="A failure marks the unit's figures")] = True,
    map_id: Annotated[int | None, typer.Option("--map", help="Map id; default the map in force at --to")] = None,
    actor: ActorOption = None, role: RoleOption = Role.ADMIN,
) -> None:
    """Draw a sample of the unit's claims in the period, by the rule its thresholds give (audited)."""
    _may_verify(role)
    if (n is None) != (d is None):
        fail("--n and --d go together")
    period_to = moment(to, "--to") if to else clock_from_setting(settings().clock).now()
    period_from = moment(start, "--from") if start else None
    try:
        seed_bytes = bytes.fromhex(seed) if seed is not None else None
    except ValueError:
        fail(f"--seed: {seed!r} is not hexadecimal")

    async def work(conn: asyncpg.Connection) -> CheckRow:
        try:
            scope = await report_scope(conn, unit, period_to, map_id)
        except ReportError as exc:
            fail(str(exc))
        chain = [u.code for u in scope.map.registry.chain(unit)]
        thresholds, _ = await thresholds_source(conn, chain)
        return await draw_check(
            conn, unit=unit, teams=scope.team_codes(), population=population, period_from=period_from,
            period_to=period_to, thresholds=thresholds, rule=None if n is None or d is None else DecisionRule(n, d),
            seed=seed_bytes, actor=actor_name(actor), marks_figures=marks_figures, map_version=scope.map.id,
            role=role.value)

    try:
        check = on_db(work)
    except SpotCheckError as exc:
        refuse(exc)
    _print_check(check)


@spotcheck_app.command("list")
def list_cmd(unit: Annotated[str | None, typer.Option(help="Only this unit's checks")] = None,
             status: Annotated[CheckStatus | None, typer.Option(help="Only checks in this state")] = None,
             limit: Annotated[int, typer.Option(min=1)] = 200) -> None:
    """Checks, newest draw first."""
    found = on_db(lambda conn: list_checks(conn, None if unit is None else [unit],
                                           statuses=None if status is None else [status], limit=limit))
    table = Table("id", "unit", "population", "to", "n", "d", "drawn", "status", "confirmed", "failed",
                  "estimate", "drawn by", "decided", title="spot checks")
    for c in found:
        table.add_row(str(c.id), c.unit, c.population.value, _local(c.period_to), str(c.n), str(c.d), str(c.drawn),
                      f"{c.status.value} ({STATUS_TEXTS[c.status][0]})", str(c.successes), str(c.failures),
                      "" if c.estimate is None else f"{c.estimate:.1%}", escape(c.drawn_by), _local(c.decided_at))
    console.print(table)


def _protector(clear: bool) -> CitizenProtector | None:
    config = settings()
    try:
        return CitizenProtector(config.hmac_key, config.pii_keys)
    except KeyConfigError as exc:
        if clear:
            fail(f"{exc} (set TALLY06_HMAC_KEY and TALLY06_PII_KEYS)")
        return None  # masked without the keys: the names and phones columns stay empty


async def _read(conn: asyncpg.Connection, check_id: int, *, clear: bool, actor: str | None, role: Role,
                action: AuditAction, target: str, protector: CitizenProtector | None,
                ) -> tuple[CheckRow, list[ItemRow], dict[int, Contact] | None]:
    """The check, its items and (with the keys) its citizens, with the audit entry of a clear read
    or of any export in the same transaction; a clear read by a role that may not is refused and
    logged."""
    check = await get_check(conn, check_id)
    if check is None:
        fail(f"there is no spot check {check_id}")
    if clear and role not in CLEAR_PII_ROLES:
        await record_export(conn, actor=actor_name(actor), role=role.value, action=action.refused,
                            unit=check.unit, period_from=check.period_from, period_to=check.period_to,
                            clear_pii=True, row_count=0, target=target, detail={"check_id": check_id})
        fail(f"role {role.value!r} may not see clear personal data (refused and logged)", 3)
    async with conn.transaction():
        listed = await items(conn, check_id)
        found = await contacts(conn, check_id, protector) if protector is not None else None
        if clear or action is AuditAction.EXPORT:
            await record_export(conn, actor=actor_name(actor), role=role.value, action=action, unit=check.unit,
                                period_from=check.period_from, period_to=check.period_to, clear_pii=clear,
                                row_count=len(listed), target=target, detail={"check_id": check_id})
    return check, listed, found


@spotcheck_app.command("show")
def show_cmd(check_id: CheckArg, clear: ClearOption = False, actor: ActorOption = None,
             role: RoleOption = Role.ADMIN) -> None:
    """A check and its items in draw order; names and phones masked unless --clear."""
    protector = _protector(clear)
    check, listed, found = on_db(lambda conn: _read(conn, check_id, clear=clear, actor=actor, role=role,
                                                    action=AuditAction.VIEW, target=f"spot_check:{check_id}",
                                                    protector=protector))
    _print_check(check)
    table = Table("rank", "", "team", "officer", "level", "occurred", "name", "phone", "outcome", "tries", "note",
                  "by", title=f"items of check {check.id}" + ("" if clear else " (masked)"))
    for item in listed:
        contact = (found or {}).get(item.rank, Contact(None, None))
        name, phone = contact.full_name or "", contact.phone or ""
        if not clear:
            name, phone = (mask_name(name) if name else ""), (mask_phone(phone) if phone else "")
        kind = ("reserve" if item.reserve else "sample") + ("" if item.active else " (out)")
        table.add_row(str(item.rank), kind, item.team, escape(item.officer), str(item.level),
                      _local(item.occurred_at), escape(name), phone,
                      OUTCOME_TEXTS[item.outcome][0] if item.outcome else "", str(item.tries),
                      escape(item.note or ""), escape(item.recorded_by or ""))
    console.print(table)


@spotcheck_app.command("outcome")
def outcome_cmd(
    check_id: CheckArg,
    rank: Annotated[int, typer.Argument(help="The item's rank (0 = first drawn)")],
    outcome: Annotated[Outcome, typer.Argument(help="What the verifier found")],
    note: Annotated[str | None, typer.Option(help="A note (at most 500 characters)")] = None,
    outcome_id: Annotated[str | None, typer.Option("--id", help="The outcome's UUID (a retry gives the same)")]
    = None,
    actor: ActorOption = None, role: RoleOption = Role.ADMIN,
) -> None:
    """Record what a verifier found for one item; prints the check's verdict."""
    _may_verify(role)
    try:
        oid = uuid.UUID(outcome_id) if outcome_id else uuid.uuid4()
    except ValueError:
        fail(f"--id: {outcome_id!r} is not a UUID")
    try:
        result = on_db(lambda conn: record_outcome(conn, check_id, rank, outcome_id=oid, outcome=outcome, note=note,
                                                   actor=actor_name(actor)))
    except SpotCheckError as exc:
        refuse(exc)
    said = OUTCOME_TEXTS[outcome][0]
    console.print(f"item {rank} of check {check_id}: {said}" + ("" if result.recorded else " (already recorded)")
                  + f"; outcome id {oid}")
    _print_check(result.check)


@spotcheck_app.command("replay")
def replay_cmd(check_id: CheckArg) -> None:
    """Draw a check again from its stored seed and frozen list; compare with the population now."""
    try:
        again = on_db(lambda conn: replay(conn, check_id))
    except SpotCheckError as exc:
        refuse(exc)
    console.print(f"check {check_id}: {'same sample' if again.same else 'DIFFERENT sample'} from the frozen "
                  f"list (digest {again.digest_stored})")
    if again.population_unchanged:
        console.print("the population now is the same as when drawn")
    else:
        console.print(f"the population now differs (digest {again.digest_now}); the check stands on its frozen list")
    console.print("sample: " + " ".join(str(s) for s in again.sample_stored))
    if not again.same:
        raise typer.Exit(1)


@spotcheck_app.command("export")
def export_cmd(check_id: CheckArg,
               out: Annotated[Path, typer.Option(help="Output file, .xlsx")],
               clear: ClearOption = False, actor: ActorOption = None, role: RoleOption = Role.ADMIN) -> None:
    """The check and its items as .xlsx for the file (audited)."""
    if out.suffix.lower() != ".xlsx":
        fail(f"--out must end in .xlsx, not {out.suffix or '(nothing)'}")
    protector = _protector(clear)
    check, listed, found = on_db(lambda conn: _read(conn, check_id, clear=clear, actor=actor, role=role,
                                                    action=AuditAction.EXPORT, target=str(out.resolve()),
                                                    protector=protector))
    write_check_xlsx(check, listed, found, out, clear=clear)
    console.print(f"check {check_id} of {check.unit}: {len(listed)} items, "
                  f"{'clear' if clear else 'masked'} personal data; written: {out}")

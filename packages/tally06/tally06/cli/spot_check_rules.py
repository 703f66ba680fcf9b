"""``tally06 spotcheck design`` and ``spotcheck thresholds …``: the LQAS rule a province's
thresholds give, with its exact risks and curve, and the thresholds themselves (audited). The
draws and outcomes are in ``cli/spot_checks.py``, which registers these commands in its group."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from tally06.cli.context import ActorOption, actor_name, console, fail, on_db
from tally06.domain.accounts import Role
from tally06.domain.lqas import DecisionRule, Design, Thresholds, pass_probability
from tally06.domain.spot_checks import DEFAULT_THRESHOLDS
from tally06.store.read_model_map import load_live_map
from tally06.store.spot_checks import SpotCheckError, checked_design, set_thresholds, thresholds_source

thresholds_app = typer.Typer(help="The thresholds and risks a province sets for its spot checks.",
                             no_args_is_help=True)

RoleOption = Annotated[Role, typer.Option(help="Role of who acts (audit log); clear data only for "
                                                "district_focal or province_operator")]
UpperOption = Annotated[float, typer.Option(help="A rate a unit doing its job reaches (0-1]")]
LowerOption = Annotated[float, typer.Option(help="A rate that is clearly unacceptable [0-upper)")]
AlphaOption = Annotated[float, typer.Option(help="Risk of failing a unit at the upper rate")]
BetaOption = Annotated[float, typer.Option(help="Risk of passing a unit at the lower rate")]
CURVE_RATES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)


def refuse(exc: SpotCheckError) -> None:
    fail(f"--{exc.field.replace('_', '-')}: {exc.message}", 4 if exc.field == "outcome" else 2)


def print_design(made: Design, thresholds: Thresholds) -> None:
    rule = made.rule
    console.print(f"n = {rule.n}, d = {rule.d}: check {rule.n} claims, the unit passes with at most {rule.d} "
                  f"failures ({rule.n - rule.d} of {rule.n} confirmed)")
    console.print(f"at upper {thresholds.upper:.0%}: fails {made.alpha:.4f} of the time (alpha); at lower "
                  f"{thresholds.lower:.0%}: passes {made.beta:.4f} of the time (beta)")
    table = Table("true rate", "passes", title="operating characteristic")
    for rate in CURVE_RATES:
        table.add_row(f"{rate:.0%}", f"{pass_probability(rule, rate):.3f}")
    console.print(table)


def design_cmd(upper: UpperOption = DEFAULT_THRESHOLDS.upper, lower: LowerOption = DEFAULT_THRESHOLDS.lower,
               alpha: AlphaOption = DEFAULT_THRESHOLDS.alpha, beta: BetaOption = DEFAULT_THRESHOLDS.beta,
               n: Annotated[int | None, typer.Option("--n", help="A sample size given explicitly (with --d)")] = None,
               d: Annotated[int | None, typer.Option("--d", help="Failures allowed (with --n)")] = None) -> None:
    """The rule (n, d) the thresholds give, or the exact risks of a rule given, and its curve."""
    if (n is None) != (d is None):
        fail("--n and --d go together")
    thresholds = Thresholds(upper, lower, alpha, beta)
    try:
        made = checked_design(thresholds, None if n is None or d is None else DecisionRule(n, d))
    except SpotCheckError as exc:
        refuse(exc)
    print_design(made, thresholds)


@thresholds_app.command("set")
def thresholds_set(unit: Annotated[str, typer.Option(help="The unit (usually the province)")],
                   upper: UpperOption, lower: LowerOption, alpha: AlphaOption, beta: BetaOption,
                   actor: ActorOption = None, role: RoleOption = Role.ADMIN) -> None:
    """Set a unit's thresholds; draws in it and below it use them (audited)."""
    thresholds = Thresholds(upper, lower, alpha, beta)

    async def work(conn: asyncpg.Connection) -> Design:
        live = await load_live_map(conn)
        if live is None or live.registry.get(unit) is None:
            fail(f"--unit: {unit!r} is not a unit of the live map")
        return await set_thresholds(conn, unit, thresholds, actor=actor_name(actor), role=role.value)

    try:
        made = on_db(work)
    except SpotCheckError as exc:
        refuse(exc)
    console.print(f"thresholds of {unit} set")
    print_design(made, thresholds)


@thresholds_app.command("show")
def thresholds_show(unit: Annotated[str, typer.Option(help="The unit")]) -> None:
    """The thresholds a draw in the unit uses, and where they come from."""

    async def work(conn: asyncpg.Connection) -> tuple[Thresholds, str | None]:
        live = await load_live_map(conn)
        if live is None or live.registry.get(unit) is None:
            fail(f"--unit: {unit!r} is not a unit of the live map")
        return await thresholds_source(conn, [u.code for u in live.registry.chain(unit)])

    thresholds, source = on_db(work)
    console.print(f"{unit}: upper {thresholds.upper}, lower {thresholds.lower}, alpha {thresholds.alpha}, "
                  f"beta {thresholds.beta} ({'set for ' + source if source else 'the defaults'})")
    print_design(checked_design(thresholds), thresholds)

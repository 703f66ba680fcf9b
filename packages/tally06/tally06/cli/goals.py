"""``tally06 goals …``: backlog goals, a share of a registry list by a day (docs/backlog-goals.md).

The time is the configured clock's (``TALLY06_CLOCK``), like the services', so the demo and the
tests can set a goal "on 2024-10-25" and judge it on any later day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

import asyncpg
import typer
from rich.markup import escape
from rich.table import Table

from tally06.cli.context import AdminActorOption, actor_name, audit, console, fail, on_db, settings
from tally06.contract.events import local_day
from tally06.domain.backlog_goals import BacklogList, share_text
from tally06.kit.clock import clock_from_setting
from tally06.store.backlog_goals import GoalRefused, StoredGoal, goals_progress, set_goal

goals_app = typer.Typer(help="Backlog goals: a share of a registry list in a unit, by a day.", no_args_is_help=True)

LIST_WORDS = {BacklogList.APPROVED_NOT_ACTIVATED: "approved, not activated",
              BacklogList.NOT_REGISTERED: "not registered"}


def _now() -> dt.datetime:
    return clock_from_setting(settings().clock).now()


@goals_app.command("set")
def set_cmd(
    unit: Annotated[str, typer.Option(help="The unit (any level of the live map)")],
    list_name: Annotated[str, typer.Option("--list", help="approved_not_activated or not_registered")],
    by: Annotated[str, typer.Option(help="The due day, included (YYYY-MM-DD)")],
    share: Annotated[str, typer.Option(help="Percent of the baseline, above 0 and at most 100")] = "100",
    baseline: Annotated[int | None, typer.Option(
        help="not_registered only: how many are not registered (population data)")] = None,
    actor: AdminActorOption = None,
) -> None:
    """Set a goal; its baseline is frozen now (approved_not_activated: the citizens the registry
    shows approved and not activated in the unit today)."""
    try:
        due = dt.date.fromisoformat(by)
    except ValueError:
        fail(f"--by: {by!r} is not a day (YYYY-MM-DD)")
    try:
        percent = Decimal(share)
    except InvalidOperation:
        fail(f"--share: {share!r} is not a number")
    now = _now()

    async def work(conn: asyncpg.Connection) -> StoredGoal:
        async with conn.transaction():
            stored = await set_goal(conn, unit=unit, list_name=list_name, share=percent, due=due, now=now,
                                    baseline=baseline, actor=actor_name(actor))
            goal = stored.goal
            await audit(conn, actor, "goals.set", unit,
                        f"goal {stored.id}: {share_text(goal.share)} % of {goal.list.value} ({goal.baseline}) "
                        f"in {unit} by {goal.due.isoformat()}", unit=unit, row_count=goal.baseline)
            return stored

    try:
        stored = on_db(work)
    except GoalRefused as exc:
        fail(f"--{exc.field.replace('_', '-')}: {exc.message}")
    goal = stored.goal
    console.print(f"goal {stored.id} set: {share_text(goal.share)} % of {goal.baseline} {LIST_WORDS[goal.list]} "
                  f"in {unit} = {goal.target} by {goal.due.isoformat()} (baseline frozen {goal.set_on.isoformat()})")


@goals_app.command("list")
def list_cmd(unit: Annotated[str | None, typer.Option(help="Only this unit's goals")] = None) -> None:
    """Goals with their progress from the registry, the rate still needed per day and the forecast."""
    today = local_day(_now())
    judged = on_db(lambda conn: goals_progress(conn, today, unit))
    table = Table("id", "unit", "list", "share", "due", "baseline", "target", "done", "remaining",
                  "required / day", "forecast", "on track", title=f"backlog goals on {today.isoformat()}")
    for stored, p in judged:
        goal = stored.goal
        table.add_row(str(stored.id), escape(goal.unit), LIST_WORDS[goal.list], f"{share_text(goal.share)} %",
                      goal.due.isoformat(), f"{goal.baseline:,}", f"{p.target:,}", f"{p.done:,}",
                      f"{p.remaining:,}", f"{p.required_per_day:,}",
                      p.forecast_day.isoformat() if p.forecast_day else "no pace yet",
                      "yes" if p.on_track else "[red]no[/]")
    console.print(table)

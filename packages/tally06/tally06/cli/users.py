"""``tally06 user …``: accounts of people who sign in to the wallboard and read API."""

from __future__ import annotations

import sys
from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from tally06.cli.context import AdminActorOption, audit, console, fail, on_db
from tally06.domain.accounts import Role, new_password
from tally06.domain.exceptions import UserError
from tally06.store.users import create_user, end_sessions, list_users, set_password

PasswordStdinOption = Annotated[bool, typer.Option(help="read the password from stdin instead of generating one")]

user_app = typer.Typer(help="People who sign in: role, and the unit whose subtree they read.", no_args_is_help=True)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (then it is printed once)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return new_password(), True


@user_app.command("add")
def add(
    username: str,
    role: Annotated[Role, typer.Option(help="what the user may do")],
    unit: Annotated[str, typer.Option(help="the user's unit: a team for a team lead, a commune for a commune "
                                           "focal point, ..., the province for operators and admins")],
    name: Annotated[str | None, typer.Option(help="display name (default: the username)")] = None,
    password_stdin: PasswordStdinOption = False,
    actor: AdminActorOption = None,
) -> None:
    """Add a person who signs in to the board and the read API; the password is printed once
    unless given on stdin."""
    password, generated = _password(password_stdin)

    async def work(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await create_user(conn, username, name or username, role, unit, password)
            await audit(conn, actor, "user.add", username, f"user {username} added as {role} of {unit}", unit=unit)

    try:
        on_db(work)
    except UserError as exc:
        fail(f"{exc.field}: {exc.message}")
    console.print(f"user {username} ({role}, {unit}) created")
    if generated:
        console.print(f"password (shown once): {password}")


@user_app.command("list")
def list_() -> None:
    table = Table("username", "name", "role", "unit", "status")
    for user in on_db(list_users):
        table.add_row(user.username, user.display_name, user.role, user.unit, "disabled" if user.disabled else "active")
    console.print(table)


def _end_sessions(username: str, disable: bool, actor: str | None) -> bool:
    action = "user.disable" if disable else "user.sign_out"

    async def work(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            found = await end_sessions(conn, username, disable=disable)
            if found:
                await audit(conn, actor, action, username, f"{action.split('.')[1]} {username}")
            return found

    return on_db(work)


@user_app.command("disable")
def disable(username: str, actor: AdminActorOption = None) -> None:
    """Disable the account and end its sessions (within the wallboard's account cache, 30 s)."""
    if not _end_sessions(username, True, actor):
        fail(f"no user {username!r}")
    console.print(f"{username} disabled; sessions ended")


@user_app.command("sign-out")
def sign_out(username: str, actor: AdminActorOption = None) -> None:
    """End every session of the user (a lost phone or laptop)."""
    if not _end_sessions(username, False, actor):
        fail(f"no user {username!r}")
    console.print(f"sessions of {username} ended")


@user_app.command("password")
def password(
    username: str,
    password_stdin: PasswordStdinOption = False,
    actor: AdminActorOption = None,
) -> None:
    """Set a new password (re-enables a disabled account, ends its sessions)."""
    value, generated = _password(password_stdin)

    async def work(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            changed = await set_password(conn, username, value)
            if changed:
                await audit(conn, actor, "user.password", username, f"new password for {username}")
            return changed

    try:
        changed = on_db(work)
    except UserError as exc:
        fail(f"{exc.field}: {exc.message}")
    if not changed:
        fail(f"no user {username!r}")
    console.print(f"password of {username} changed; sessions ended")
    if generated:
        console.print(f"password (shown once): {value}")

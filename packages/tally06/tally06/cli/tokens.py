"""``tally06 token …``: device tokens, one per field device, bound to its team."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from tally06.cli.context import AdminActorOption, audit, console, err, fail, on_db
from tally06.store.device_tokens import issue_token, list_tokens, revoke_token

token_app = typer.Typer(help="Device tokens: one per field device, bound to its team.", no_args_is_help=True)


@token_app.command("issue")
def token_issue(team: Annotated[str, typer.Option(help="Team code, e.g. TH-03-C01-T1")],
                label: Annotated[str | None, typer.Option(help="Who holds the device")] = None,
                actor: AdminActorOption = None) -> None:
    """Print a new device token for a team (shown once; only its hash is stored)."""

    async def work(conn: asyncpg.Connection) -> tuple[str, str]:
        async with conn.transaction():
            token_id, token = await issue_token(conn, team, label)
            # The id only, never the token; nor the label, which may name the person holding the device.
            await audit(conn, actor, "token.issue", f"token {token_id}",
                        f"device token {token_id} issued for team {team}", unit=team, row_count=1)
        return token_id, token

    try:
        token_id, token = on_db(work)
    except ValueError as exc:
        fail(str(exc))
    err.print(f"token id {token_id} for team {team}")
    print(token)


@token_app.command("revoke")
def token_revoke(token_id: str, actor: AdminActorOption = None) -> None:
    """Revoke a device token by its id; ingest stops accepting it within a minute."""

    async def work(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            team = await revoke_token(conn, token_id)
            if team is None:
                return False
            await audit(conn, actor, "token.revoke", f"token {token_id}",
                        f"device token {token_id} of team {team} revoked", unit=team, row_count=1)
        return True

    if not on_db(work):
        fail(f"no active token with id {token_id}", 1)
    console.print(f"revoked {token_id}")


@token_app.command("list")
def token_list(team: str | None = None) -> None:
    """List device tokens (ids, teams, state), never the tokens themselves."""

    table = Table("id", "team", "label", "created", "revoked")
    for r in on_db(lambda conn: list_tokens(conn, team)):
        table.add_row(r["id"], r["team"], r["label"] or "", f"{r['created_at']:%Y-%m-%d %H:%M}",
                      f"{r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "")
    console.print(table)

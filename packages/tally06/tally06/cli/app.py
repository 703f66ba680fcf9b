"""The ``tally06`` command: one Typer app, one sub-command group per module of this package."""

from __future__ import annotations

import signal

import typer

from tally06.cli.audit import audit_app
from tally06.cli.focal_points import focal_app
from tally06.cli.goals import goals_app
from tally06.cli.org import org_app
from tally06.cli.pii import pii_app
from tally06.cli.registry import registry_app
from tally06.cli.reports import report_app
from tally06.cli.spot_checks import spotcheck_app
from tally06.cli.stack_commands import migrate_cmd, rebuild, topics_cmd, up
from tally06.cli.targets import targets_app
from tally06.cli.tokens import token_app
from tally06.cli.users import user_app
from tally06.cli.work_lists import worklists_app

app = typer.Typer(help="tally06: live progress of the electronic-identity drive (Đề án 06).",
                  no_args_is_help=True)
app.command()(up)
app.command("migrate")(migrate_cmd)
app.command("topics")(topics_cmd)
app.command()(rebuild)
for group, name in ((token_app, "token"), (org_app, "org"), (targets_app, "targets"), (focal_app, "focal-points"),
                    (report_app, "report"), (pii_app, "pii"), (audit_app, "audit"), (user_app, "user"),
                    (registry_app, "registry")):
    app.add_typer(group, name=name)
app.add_typer(goals_app, name="goals")
app.add_typer(worklists_app, name="worklists")
app.add_typer(spotcheck_app, name="spotcheck")


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()

"""Schema-based fuzzing of the read API with schemathesis, as every role and as nobody: no input
may produce a 5xx."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tally06.domain.accounts import Role
from tests.support.services import LOG_DIR
from tests.support.sessions import bearer, make_user

UNITS = {Role.TEAM_LEAD: "TH-03-C01-T1", Role.COMMUNE_FOCAL: "TH-03-C01", Role.DISTRICT_FOCAL: "TH-03",
         Role.PROVINCE_OPERATOR: "TH", Role.ADMIN: "TH"}


async def fuzz(url: str, name: str, headers: dict[str, str]) -> tuple[int, str]:
    cli = Path(sys.executable).with_name("schemathesis")
    header_args = [arg for key, value in headers.items() for arg in ("--header", f"{key}: {value}")]
    process = await asyncio.create_subprocess_exec(
        str(cli), "run", f"{url}/openapi.json", "--checks", "not_a_server_error", *header_args,
        # The stream never ends, and signing out would end the session the run uses.
        "--exclude-path", "/v1/stream", "--exclude-path", "/v1/auth/sign-out",
        "--max-examples", "10", "--seed", "606", "--generation-allow-x00", "true",
        "--report-dir", str(LOG_DIR / f"schemathesis-wallboard-{name}"), "--max-time", "10",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    (LOG_DIR / f"schemathesis-wallboard-{name}.txt").write_text(text)
    return process.returncode, text


async def test_fuzzing_the_read_api_with_every_role_finds_no_server_error(own_broker, database, start_service):
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap)
    sessions = {"anonymous": {}}
    for role, unit in UNITS.items():
        sessions[role.value] = await bearer(wallboard.url, await make_user(database, role, unit))
    # All at once: the runs wait on the service far more than they compute.
    results = await asyncio.gather(*(fuzz(wallboard.url, name, headers) for name, headers in sessions.items()))
    for name, (code, text) in zip(sessions, results, strict=True):
        assert code == 0, (name, text[-4000:])

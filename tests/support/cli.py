"""The ``tally06`` command run as a user runs it: a child process on the test database."""

import asyncio
import sys

from tests.conftest import service_env


async def tally06(database: str, *args: str, **env: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr; wide enough that rich tables do not wrap the figures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tally06", *args,
        env=service_env(database, "127.0.0.1:1", **{"COLUMNS": "200", **env}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()

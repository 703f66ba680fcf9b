"""Field-device simulator for the demo: Thanh Hóa's teams posting to the ingest API.

Pure model (``plan``, ``model``, ``people``, ``faults``, ``device``, ``clock``) and an I/O shell
(``runner``), so the behaviour of the field is tested without a server.
"""

from tally06.simulator.faults import FaultConfig
from tally06.simulator.model import TeamState, events_between, new_team_state
from tally06.simulator.plan import TeamPlan, TeamRole, daily_targets, plan_teams
from tally06.simulator.runner import run_simulator
from tally06.simulator.stats import SimulatorStats

__all__ = [
    "FaultConfig",
    "SimulatorStats",
    "TeamPlan",
    "TeamRole",
    "TeamState",
    "daily_targets",
    "events_between",
    "new_team_state",
    "plan_teams",
    "run_simulator",
]

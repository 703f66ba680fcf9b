"""Phases imported with the CLI set each unit's deadline on the read API, inherited downwards."""

from __future__ import annotations

import httpx

from tests.support.cli import tally06
from tests.support.sessions import signed_in


async def test_phases_from_the_cli_set_deadlines_on_the_read_api(own_broker, database, start_service, tmp_path):
    phases = tmp_path / "phases.csv"
    phases.write_text("unit_code,phase,starts,ends,goal\n"
                      "TH,Giai đoạn 1,2023-03-24,2023-04-30,1200000\n"
                      "TH,Giai đoạn 2,2023-05-01,2023-05-31,1000000\n"
                      "TH-03,Đợt cao điểm,2024-10-25,2024-11-30,3935\n", encoding="utf-8")
    code, out, err = await tally06(database, "targets", "phases", str(phases), "--valid-from", "2023-01-01T00:00+07:00")
    assert code == 0, out + err
    assert "2 units, 0 bad rows; saved 3 phases" in out

    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap, TALLY06_CAMPAIGN_DEADLINE="2027-01-31")
    operator = await signed_in(database, wallboard.url)
    async with httpx.AsyncClient(base_url=wallboard.url, headers=operator) as client:
        async def deadline(unit: str) -> str:
            response = await client.get(f"/v1/units/{unit}/progress")
            assert response.status_code == 200, response.text
            return response.json()["campaign"]["deadline"]

        assert await deadline("TH") == "2023-05-31"
        assert await deadline("TH-04-C01") == "2023-05-31"
        assert await deadline("TH-03") == "2024-11-30"
        assert await deadline("TH-03-C02-T1") == "2024-11-30"

    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,phase,starts,ends,goal\nTH,P,2023-05-01,2023-04-01,1\n", encoding="utf-8")
    code, out, err = await tally06(database, "targets", "phases", str(bad))
    assert code == 1 and "ends" in out + err

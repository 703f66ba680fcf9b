"""The morning digest: yesterday's results of a focal point's units, in one message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tally06.domain.org import Unit
from tally06_notifier.rules import UnitDay


def compose_digest(
    focal_unit: Unit, day: dt.date, children: Sequence[tuple[Unit, UnitDay]], open_alerts: int, board_url: str
) -> tuple[str, str, dict[str, Any]]:
    """Who met yesterday's target and who did not, worst first; open alerts; a link to the board."""
    rows = []
    for unit, result in children:
        target = sum(result.targets.values())
        actual = sum(min(result.done.get(m, 0), t) for m, t in result.targets.items())
        rows.append((actual / target if target else 1.0, unit, actual, target))
    rows.sort(key=lambda r: (r[0], r[1].code))
    missed = [r for r in rows if r[2] < r[3]]
    when = day.strftime("%d/%m/%Y")
    subject = (f"[Đề án 06] Tổng hợp ngày {when}: {focal_unit.name} — "
               f"{len(rows) - len(missed)}/{len(rows)} đơn vị đạt chỉ tiêu")
    lines = [f"Kết quả ngày {when} của các đơn vị thuộc {focal_unit.name}:"]
    lines += [f"- {u.name} ({u.code}): {a:,}/{t:,} ({share:.0%})".replace(",", ".") for share, u, a, t in missed]
    if not missed:
        lines.append("- Tất cả đơn vị đều đạt chỉ tiêu ngày.")
    lines += ["", f"Cảnh báo đang mở: {open_alerts}", f"Bảng theo dõi: {board_url}"]
    payload = {
        "kind": "digest", "unit": focal_unit.code, "day": day.isoformat(), "open_alerts": open_alerts,
        "units": [{"unit": u.code, "done": a, "target": t} for _, u, a, t in rows],
    }
    return subject, "\n".join(lines), payload

"""The words of a message: Vietnamese, short enough for a phone notification, figures first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tally06.contract.events import LOCAL_TZ
from tally06.domain.alert_rules import RULE_TEXTS, Rule
from tally06.domain.metrics import METRIC_LABEL_VI
from tally06.domain.org import KIND_WORDS, Unit
from tally06.domain.spot_checks import OUTCOME_TEXTS, Outcome

PREFIX = {"alert": "Cảnh báo", "reminder": "Nhắc lại", "escalation": "Báo cáo vượt cấp"}


@dataclass(frozen=True)
class AlertFacts:
    id: int
    unit: Unit
    rule: Rule
    day: dt.date
    detail: dict[str, Any]
    # The units above it in the live map, nearest first: with several provinces a commune's
    # name alone does not say where it is.
    above: tuple[Unit, ...] = ()


def _figures(detail: dict[str, Any]) -> list[str]:
    lines = []
    for metric, f in detail.get("metrics", {}).items():
        expected = f" (cần đạt {f['expected']:g} vào lúc này)" if "expected" in f else ""
        label = METRIC_LABEL_VI.get(metric, metric)
        lines.append(f"- {label}: {f['actual']:,}/{f['target']:,}{expected}".replace(",", "."))
    if "confirmation" in detail:
        c = detail["confirmation"]
        share = "" if c["rate"] is None else f" = {c['rate']:.1%}"
        line = (f"- {METRIC_LABEL_VI['confirmed']}: {c['confirmed']:,}/{c['judged']:,} lượt báo đã hết thời hạn "
                f"đối chiếu{share} (ngưỡng {c['threshold']:.0%}); chờ xác nhận: {c['pending']:,}")
        lines.append(line.replace(",", "."))
    if "spot_check" in detail:
        lines += _spot_check(detail["spot_check"])
    if "silent_hours" in detail:
        seen = detail.get("last_seen")
        when = (dt.datetime.fromisoformat(seen).astimezone(LOCAL_TZ).strftime("%H:%M %d/%m") if seen
                else "chưa có hôm nay")
        lines.append(f"- {detail['silent_hours']:g} giờ làm việc không có dữ liệu; lần cuối: {when}")
    return lines


def _spot_check(c: dict[str, Any]) -> list[str]:
    """Which check, its rule, what it found and the estimate of the true rate."""
    lines = [f"- Lần kiểm tra xác suất #{c['id']}: {c['failures']} không đạt trên {c['successes'] + c['failures']} "
             f"đã kiểm tra (mẫu {c['n']}, đạt khi không quá {c['d']} không đạt)"]
    lines += [f"  · {OUTCOME_TEXTS[Outcome(outcome)][0]}: {count}" for outcome, count in c.get("found", {}).items()]
    e = c.get("estimate") or {}
    if e.get("rate") is not None:
        ci = "" if e.get("low") is None else f" (khoảng tin cậy 95%: {e['low']:.0%}–{e['high']:.0%})"
        lines.append(f"- Ước tính tỷ lệ kích hoạt đúng: {e['rate']:.0%}{ci}")
    return lines


def compose(facts: AlertFacts, kind: str, ack_url: str) -> tuple[str, str, dict[str, Any]]:
    """Subject, plain-text body and webhook payload of one message about one alert."""
    # Unit names carry their kind ("Tổ công tác 2", "Xã Đông Tiến"); the code and the line of
    # units above say where, the kind's words (tally06.domain.org.KIND_WORDS) what it is.
    who = f"{facts.unit.name} ({facts.unit.code})"
    day = facts.day.strftime("%d/%m/%Y")
    subject = f"[Đề án 06] {PREFIX[kind]}: {who} {RULE_TEXTS[facts.rule].predicate_vi} ({day})"
    words = KIND_WORDS[facts.unit.kind]
    where = [f"{words.vi} thuộc {' › '.join(u.name for u in reversed(facts.above))}."] if facts.above else []
    body = "\n".join([
        f"{who} {RULE_TEXTS[facts.rule].predicate_vi} ngày {day}.",
        *where,
        *_figures(facts.detail),
        "",
        f"Xác nhận đã nhận cảnh báo: {ack_url}",
    ])
    payload = {
        "alert_id": facts.id, "kind": kind, "unit": facts.unit.code, "unit_name": facts.unit.name,
        "unit_kind": facts.unit.kind.value, "unit_kind_vi": words.vi, "unit_kind_en": words.en,
        "path": [u.code for u in reversed(facts.above)] + [facts.unit.code], "rule": facts.rule.value,
        "day": facts.day.isoformat(), "detail": facts.detail, "ack_url": ack_url,
    }
    return subject, body, payload

"""The small page a focal point sees after tapping the link in an alert message. Pure."""

from __future__ import annotations

import datetime as dt
from html import escape

from tally06.contract.events import LOCAL_TZ
from tally06.domain.alert_rules import RULE_TEXTS
from tally06.store.alerts import AlertView

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
h1{{font-size:1.4rem}} .ok{{color:#1b7f3b}} .bad{{color:#b3261e}} small{{color:#555}}</style>
</head><body>{body}</body></html>"""


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def confirmed(alert: AlertView, recipient: str, board_url: str) -> str:
    """Acknowledged now by this recipient, or earlier by someone (the first one counts)."""
    who = escape(alert.acknowledged_by or "")
    when = _local(alert.acknowledged_at) if alert.acknowledged_at else ""
    unit = escape(f"{alert.unit_name} ({alert.unit})")
    if alert.acknowledged_by == recipient:
        head = f'<h1 class="ok" data-ack="done">Đã xác nhận cảnh báo #{alert.id}</h1>'
    else:
        head = f'<h1 class="ok" data-ack="earlier">Cảnh báo #{alert.id} đã được xác nhận trước đó</h1>'
    body = (f"{head}<p>{unit} — {escape(RULE_TEXTS[alert.rule].phrase_vi)}, ngày {alert.day:%d/%m/%Y}.</p>"
            f"<p>Người xác nhận: <b>{who}</b> lúc {when}.</p>"
            f'<p><a href="{escape(board_url.rstrip("/"))}/#/unit/{escape(alert.unit)}">'
            "Mở bảng theo dõi · open the board</a></p>"
            f"<p><small>Alert #{alert.id} acknowledged by {who} at {when} (local time).</small></p>")
    return _PAGE.format(title=f"Cảnh báo #{alert.id}", body=body)


def refused(message_vi: str, message_en: str) -> str:
    body = (f'<h1 class="bad" data-ack="refused">{escape(message_vi)}</h1>'
            f"<p><small>{escape(message_en)}</small></p>")
    return _PAGE.format(title="Không xác nhận được", body=body)

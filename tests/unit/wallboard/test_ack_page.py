"""The page behind a one-tap acknowledgement link."""

import datetime as dt

from tally06.domain.alert_rules import Rule
from tally06.store.alerts import AlertView
from tally06_wallboard.ack_page import confirmed, refused

AT = dt.datetime(2024, 10, 25, 3, 5, tzinfo=dt.UTC)  # 10:05 local


def alert(by: str | None) -> AlertView:
    return AlertView(id=7, unit="TH-03-C01-T1", unit_name="Tổ công tác 1", unit_kind="team", rule=Rule.PACE,
                     day=dt.date(2024, 10, 25), status="open", opened_at=AT, updated_at=AT, resolved_at=None,
                     reopened=0, acknowledged_at=AT if by else None, acknowledged_by=by, escalated_at=None,
                     reminders=0, detail={})


def test_the_recipient_sees_their_acknowledgement_in_local_time():
    page = confirmed(alert("Lê Thị Hoa"), "Lê Thị Hoa", "http://board.example/")
    assert 'data-ack="done"' in page
    assert "10:05 25/10/2024" in page and "chậm tiến độ trong ngày" in page
    assert 'href="http://board.example/#/unit/TH-03-C01-T1"' in page


def test_an_earlier_acknowledgement_by_someone_else_is_shown_as_such():
    assert 'data-ack="earlier"' in confirmed(alert("Trần Văn Bình"), "Lê Thị Hoa", "http://b")


def test_names_are_escaped():
    page = confirmed(alert("<script>x</script>"), "someone", "http://b")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>" not in refused("<b>", "<b>")

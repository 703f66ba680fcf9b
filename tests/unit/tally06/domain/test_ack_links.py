from tally06.domain.ack_links import ack_key, ack_token, ack_token_valid
from tally06.domain.pii import new_key


def test_a_link_token_is_bound_to_its_alert_and_recipient():
    key = ack_key(new_key())
    token = ack_token(key, 7, 3)
    assert ack_token_valid(key, 7, 3, token)
    assert not ack_token_valid(key, 8, 3, token)
    assert not ack_token_valid(key, 7, 4, token)
    assert not ack_token_valid(ack_key(new_key()), 7, 3, token)


def test_any_text_in_a_link_is_refused_not_an_error():
    key = ack_key(new_key())
    for junk in ("", "é" * 32, "\x00", "🙂", "0" * 200):
        assert not ack_token_valid(key, 7, 3, junk)

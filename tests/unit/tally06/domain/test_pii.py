import pytest
from cryptography.exceptions import InvalidTag

from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import CitizenProtector, mask_cccd, mask_phone, new_key

HMAC = new_key()


def test_citizen_key_is_stable_keyed_and_not_the_number():
    one = CitizenProtector(HMAC, f"a:{new_key()}")
    other_key = CitizenProtector(new_key(), f"a:{new_key()}")
    key = one.citizen_key("038123456789")
    assert key == one.citizen_key("038123456789")
    assert key != other_key.citizen_key("038123456789")
    assert "038123456789" not in key and len(key) == 64


def test_seal_and_open_with_rotation():
    old, new = new_key(), new_key()
    before = CitizenProtector(HMAC, f"k1:{old}")
    sealed = before.seal({"id_number": "038123456789", "phone": "0912345678"}, associated="c1")
    assert b"038123456789" not in sealed.blob
    after = CitizenProtector(HMAC, f"k2:{new},k1:{old}")
    assert after.open(sealed, associated="c1")["id_number"] == "038123456789"
    assert after.seal({"x": "y"}, associated="c1").key_id == "k2"


def test_sealed_data_is_bound_to_its_citizen():
    protector = CitizenProtector(HMAC, f"k1:{new_key()}")
    sealed = protector.seal({"id_number": "038123456789"}, associated="c1")
    with pytest.raises(InvalidTag):
        protector.open(sealed, associated="c2")


@pytest.mark.parametrize("keys", ["", "nokey", "k1:short"])
def test_bad_key_configuration_is_explained(keys):
    with pytest.raises(KeyConfigError):
        CitizenProtector(HMAC, keys)


def test_masks():
    assert mask_cccd("038123456789") == "038******789"
    assert mask_phone("0912345678") == "091****678"

"""Sealed user tokens: they open under any current key, only for their owner, and fail closed when changed."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from bot.github.oauth import UserToken
from bot.people import sealing
from bot.people.sealing import Sealer, Unsealable

NEW, OLD, OTHER = "n" * 40, "o" * 40, "x" * 40
ALICE = b"1001"

bundles = st.builds(UserToken, access_token=st.text(min_size=1, max_size=200),
                    refresh_token=st.none() | st.text(max_size=200),
                    expires_at=st.none() | st.floats(0, 4e9), refresh_expires_at=st.none() | st.floats(0, 4e9))


@given(bundles)
def test_a_sealed_bundle_opens_to_itself(bundle):
    sealer = Sealer([NEW])
    assert sealer.open(sealer.seal(bundle, ALICE), ALICE) == bundle


def test_the_sealed_bytes_do_not_contain_the_token():
    bundle = UserToken("ghu_secretaccesstoken", "ghr_secretrefreshtoken", 1e9, 2e9)
    sealed = Sealer([NEW]).seal(bundle, ALICE)
    assert b"ghu_" not in sealed and b"ghr_" not in sealed and b"secret" not in sealed
    assert Sealer([NEW]).seal(bundle, ALICE) != sealed  # a fresh nonce each time


@given(bundles, st.data())
def test_any_changed_byte_fails_closed(bundle, data):
    sealed = Sealer([NEW]).seal(bundle, ALICE)
    at = data.draw(st.integers(0, len(sealed) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = sealed[:at] + bytes([sealed[at] ^ flip]) + sealed[at + 1:]
    with pytest.raises(Unsealable):
        Sealer([NEW]).open(changed, ALICE)


@given(bundles, st.data())
def test_cut_or_lengthened_bytes_fail_closed(bundle, data):
    sealed = Sealer([NEW]).seal(bundle, ALICE)
    cut = sealed[:data.draw(st.integers(0, len(sealed) - 1))]
    for wrong in (cut, sealed + b"\x00"):
        with pytest.raises(Unsealable):
            Sealer([NEW]).open(wrong, ALICE)


def test_sealed_for_one_person_does_not_open_for_another():
    sealed = Sealer([NEW]).seal(UserToken("ghu_a"), ALICE)
    with pytest.raises(Unsealable):
        Sealer([NEW]).open(sealed, b"1002")


def test_rotation_seals_with_the_newest_and_opens_with_any():
    old_sealed = Sealer([OLD]).seal(UserToken("ghu_old"), ALICE)
    rotated = Sealer([NEW, OLD])
    assert rotated.open(old_sealed, ALICE).access_token == "ghu_old"
    new_sealed = rotated.seal(UserToken("ghu_new"), ALICE)
    assert Sealer([NEW]).open(new_sealed, ALICE).access_token == "ghu_new"
    with pytest.raises(Unsealable):
        Sealer([OLD]).open(new_sealed, ALICE)


def test_a_key_taken_off_the_list_opens_nothing_it_sealed():
    sealed = Sealer([OLD]).seal(UserToken("ghu_old"), ALICE)
    with pytest.raises(Unsealable, match="no longer"):
        Sealer([NEW, OTHER]).open(sealed, ALICE)


def test_the_token_key_and_the_cookie_key_differ():
    token_key = sealing.derive(NEW, sealing.TOKEN_LABEL)
    cookie_key = sealing.cookie_keys([NEW])[0]
    assert len(token_key) == len(cookie_key) == 32 and token_key != cookie_key
    assert sealing.derive(NEW, sealing.KEY_ID_LABEL)[:8] not in (token_key, cookie_key)
    assert sealing.cookie_keys([NEW, OLD]) == [cookie_key, sealing.derive(OLD, sealing.COOKIE_LABEL)]
    assert cookie_key != sealing.cookie_keys([OLD])[0]


def test_a_bundle_never_shows_its_tokens():
    assert "ghu_" not in repr(UserToken("ghu_abc", "ghr_def", 1.0, 2.0))


def test_sealing_needs_a_key():
    with pytest.raises(ValueError):
        Sealer([])

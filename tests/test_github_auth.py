"""The App's JWT and the installation-token cache, with fake clocks and no network."""

import threading
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.github import auth as auth_module
from bot.github.auth import AppAuth, InstallationTokens

T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def clock():
    return FakeClock()


def _claims(token: str, key) -> dict:
    return pyjwt.decode(token, key.public_key(), algorithms=["RS256"],
                        options={"verify_exp": False, "verify_iat": False})


def test_jwt_claims_follow_githubs_rules(rsa_key, clock):
    claims = _claims(AppAuth(1234, _pem(rsa_key), clock=clock).jwt(), rsa_key)

    assert claims["iss"] == "1234"
    assert claims["iat"] == T0 - 60  # backdated against clock drift
    assert 0 < claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] > T0


def test_jwt_is_reused_until_a_minute_before_expiry(rsa_key, clock):
    auth = AppAuth(1234, _pem(rsa_key), clock=clock)
    first = auth.jwt()
    exp = _claims(first, rsa_key)["exp"]

    clock.now = exp - 61
    assert auth.jwt() == first
    clock.now = exp - 59
    renewed = auth.jwt()
    assert renewed != first
    assert _claims(renewed, rsa_key)["iat"] == int(clock.now) - 60


def test_private_key_is_loaded_once_and_signing_uses_the_key_object(rsa_key, clock, monkeypatch):
    loads, signing_keys = [], []
    real_load, real_encode = auth_module.load_pem_private_key, auth_module.pyjwt.encode
    monkeypatch.setattr(auth_module, "load_pem_private_key", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    monkeypatch.setattr(auth_module.pyjwt, "encode",
                        lambda claims, key, **k: signing_keys.append(key) or real_encode(claims, key, **k))
    auth = AppAuth(1234, _pem(rsa_key), clock=clock)

    for _ in range(5):
        clock.now += 600  # every call needs a fresh JWT
        auth.jwt()

    assert len(loads) == 1
    assert len(signing_keys) == 5
    assert all(isinstance(k, rsa.RSAPrivateKey) for k in signing_keys)  # never the PEM string again


def test_signing_a_jwt_is_cheap(rsa_key, clock):
    auth = AppAuth(1234, _pem(rsa_key), clock=clock)
    start = time.perf_counter()
    for _ in range(20):
        clock.now += 600
        auth.jwt()
    assert (time.perf_counter() - start) / 20 < 0.01  # ~0.3 ms each; reparsing the PEM would cost ~36 ms


@pytest.mark.parametrize("pem, why", [
    ("not a key", "not a usable"),
    (_pem(ec.generate_private_key(ec.SECP256R1())), "must be an RSA key"),
])
def test_a_pem_that_is_not_an_rsa_private_key_is_refused_clearly(pem, why):
    with pytest.raises(ValueError, match=why) as info:
        AppAuth(1234, pem)
    assert "BEGIN" not in str(info.value)  # the key material never lands in an error message


def test_server_time_is_adopted_for_later_jwts(rsa_key, clock):
    auth = AppAuth(1234, _pem(rsa_key), clock=clock)
    stale = auth.jwt()

    auth.note_server_time(T0 - 300)  # GitHub's clock is five minutes behind ours

    fresh = auth.jwt()
    assert fresh != stale
    assert _claims(fresh, rsa_key)["iat"] == T0 - 300 - 60
    assert auth.now() == T0 - 300


# -- installation tokens -------------------------------------------------------------------------


class CountingFetch:
    def __init__(self, clock, lifetime=3600.0, delay=0.0):
        self.clock, self.lifetime, self.delay = clock, lifetime, delay
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, installation_id):
        with self._lock:
            self.calls.append(installation_id)
            n = len(self.calls)
        time.sleep(self.delay)
        return f"token-{installation_id}-{n}", self.clock() + self.lifetime


def test_installation_token_is_cached_and_refreshed_five_minutes_before_expiry(clock):
    fetch = CountingFetch(clock)
    tokens = InstallationTokens(fetch, clock)

    first = tokens.get(7)
    clock.now += 3600 - 301
    assert tokens.get(7) == first
    clock.now += 2  # now inside the five-minute margin
    assert tokens.get(7) != first
    assert fetch.calls == [7, 7]


def test_tokens_are_per_installation(clock):
    fetch = CountingFetch(clock)
    tokens = InstallationTokens(fetch, clock)

    assert tokens.get(1) != tokens.get(2)
    assert tokens.get(1) == tokens.get(1)
    assert sorted(fetch.calls) == [1, 2]


def test_concurrent_callers_share_one_fetch(clock):
    fetch = CountingFetch(clock, delay=0.05)
    tokens = InstallationTokens(fetch, clock)
    barrier = threading.Barrier(8)
    results = []

    def worker():
        barrier.wait()
        results.append(tokens.get(42))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert fetch.calls == [42]
    assert len(set(results)) == 1 and len(results) == 8


def test_invalidate_drops_only_the_refused_token(clock):
    fetch = CountingFetch(clock)
    tokens = InstallationTokens(fetch, clock)
    refused = tokens.get(5)
    tokens.invalidate(5, refused)
    replacement = tokens.get(5)

    tokens.invalidate(5, refused)  # a slower thread reporting the old token must not drop the new one

    assert tokens.get(5) == replacement
    assert len(fetch.calls) == 2

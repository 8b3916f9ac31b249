"""Signing key rotation: published ahead, used in turn, kept until their tokens expire."""

from __future__ import annotations

from pod_server.idp.config import DAY, HOUR, IdpConfig
from pod_server.idp.keys import KeyRing, current, new_key, successor_due
from pod_server.state import MemoryState
from tests.unit.auth.helpers import Clock

CONFIG = IdpConfig(key_rotation=10 * DAY, key_publish_ahead=HOUR, key_reload=0.0)


async def test_first_key_is_made_and_persisted() -> None:
    state, clock = MemoryState(), Clock(1_000_000.0)
    ring = KeyRing(state, CONFIG, clock)
    signer = await ring.signer()
    assert [k.kid for k in await state.list_keys()] == [signer.kid]
    # Another process (another ring on the same store) signs with the same key.
    assert (await KeyRing(state, CONFIG, clock).signer()).kid == signer.kid
    jwks = await ring.jwks()
    assert jwks["keys"][0]["kid"] == signer.kid and "d" not in jwks["keys"][0]


async def test_rotation_publishes_before_signing_and_keeps_old_keys() -> None:
    state, clock = MemoryState(), Clock(1_000_000.0)
    ring = KeyRing(state, CONFIG, clock)
    first = await ring.signer()
    clock.advance(10 * DAY - 90 * 60)  # within two publish periods of retirement
    assert (await ring.signer()).kid == first.kid  # successor published, not yet signing
    published = [k["kid"] for k in (await ring.jwks())["keys"]]
    assert len(published) == 2 and first.kid in published
    clock.advance(HOUR)
    second = await ring.signer()
    assert second.kid != first.kid
    assert first.kid in [k["kid"] for k in (await ring.jwks())["keys"]]  # tokens still valid
    clock.advance(HOUR + CONFIG.key_keep)
    await state.purge(clock())
    assert [k["kid"] for k in (await ring.jwks())["keys"]] == [second.kid]


def test_successor_policy() -> None:
    assert successor_due([], 5.0, CONFIG) == 5.0
    ring_keys = [new_key(0.0, 0.0, CONFIG)]
    assert successor_due(ring_keys, 1.0, CONFIG) is None
    late = CONFIG.key_rotation - HOUR
    assert successor_due(ring_keys, late, CONFIG) == late + HOUR
    assert current(ring_keys, CONFIG.key_rotation + 1) is None

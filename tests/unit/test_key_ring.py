"""`api.keys.KeyRing`: which keys pass, how revocation reaches the cache and open sockets."""

from __future__ import annotations

from api.keys import Caller
from db.api_keys import key_id_of
from tests.support.api_keys import InMemoryKeys


async def test_a_key_passes_only_whole_and_under_its_own_id() -> None:
    keys = InMemoryKeys()
    key = keys.add("desk")
    ring = keys.ring()
    assert await ring.caller(key) == Caller("desk", admin=False)
    # The right id, another secret (the secret itself may hold "_": split after the id).
    forged = "_".join(key.split("_", 2)[:2]) + "_" + "A" * 43
    assert key_id_of(forged) is not None
    assert await ring.caller(forged) is None
    assert await ring.caller(key[:-1]) is None
    assert await ring.caller("Bearer " + key) is None
    assert await ring.caller("") is None


async def test_a_revocation_empties_the_cache_and_closes_the_keys_sockets() -> None:
    keys = InMemoryKeys()
    key, other = keys.add("desk"), keys.add("other", admin=True)
    ring = keys.ring()
    ring.ttl_s = 3600  # only the watcher can tell this ring of the revocation
    desk = await ring.caller(key)
    assert desk is not None
    closed: list[str] = []

    async def close_desk() -> None:
        closed.append("desk")

    async def close_other() -> None:
        closed.append("other")

    ring.open_socket(desk, close_desk)
    ring.open_socket(Caller("other", admin=True), close_other)
    keys.revoke("desk")
    await ring.refresh()
    assert await ring.caller(key) is None
    assert closed == ["desk"]
    assert await ring.caller(other) == Caller("other", admin=True)


async def test_sockets_are_counted_per_key() -> None:
    keys = InMemoryKeys()
    ring = keys.ring()
    ring.max_sockets_per_key = 2
    desk = Caller("desk", admin=False)

    async def nothing() -> None:
        return None

    callbacks = [nothing, lambda: nothing(), lambda: nothing()]
    first, second = (ring.open_socket(desk, c) for c in callbacks[:2])
    assert first is not None
    assert second is not None
    assert ring.open_socket(desk, callbacks[2]) is None
    assert ring.open_socket(Caller("other", admin=False), callbacks[2]) is not None
    ring.close_socket(first)
    assert ring.open_socket(desk, lambda: nothing()) is not None


def test_an_admin_owns_everything_a_key_only_its_own() -> None:
    assert Caller("a", admin=True).owns("b")
    assert Caller("a", admin=False).owns("a")
    assert not Caller("a", admin=False).owns("b")
    assert not Caller("a", admin=False).owns(None)

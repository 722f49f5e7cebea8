"""The conversation state and the handoff store: expiry, encryption, deletion, Redis; opening hours."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from adapters.line.hours import JST, parse_hours, when_read
from adapters.stores.conversation import ChatState, Conversations
from adapters.stores.expiring import MemoryExpiring, RedisExpiring
from adapters.stores.handoffs import Handoffs, new_key
from tests.ops import services

USER = "U1234567890abcdef1234567890abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def run(coro):
    return asyncio.run(coro)


def test_conversation_state_expires_after_ten_minutes_and_keeps_ids_only():
    clock = Clock()
    store = MemoryExpiring(clock=clock)
    conversations = Conversations(store)
    state = ChatState(service="kiyose/kuruma-isu", choices=("kiyose/a", "kiyose/b"), step="consent")
    run(conversations.put("kiyose:abc", state))
    assert run(conversations.get("kiyose:abc")) == state
    clock.now += 599
    assert run(conversations.get("kiyose:abc")) == state
    clock.now += 2
    assert run(conversations.get("kiyose:abc")) == ChatState() and len(store) == 0


def test_a_handoff_keeps_the_user_id_encrypted_and_forgets_it_at_close():
    clock = Clock()
    handoffs = Handoffs(new_key(), days=3, clock=clock)
    h = run(handoffs.open(council="kiyose", user=USER, channel="CSTAFF", thread="1700000000.000100"))
    raw = list(handoffs.store._items.items())
    assert raw and all(USER.encode() not in key.encode() + value for key, (_, value) in raw)
    assert run(handoffs.by_user("kiyose", USER)) == h == run(handoffs.by_thread("CSTAFF", "1700000000.000100"))
    assert run(handoffs.by_user("tomakomai", USER)) is None  # per council
    assert run(Handoffs(new_key(), store=handoffs.store).by_thread("CSTAFF", "1700000000.000100")) is None  # other key
    claimed = run(handoffs.claim(h, "USTAFF"))
    assert run(handoffs.by_user("kiyose", USER)).claimed_by == "USTAFF" == claimed.claimed_by
    run(handoffs.close(h))
    assert run(handoffs.by_user("kiyose", USER)) is None and len(handoffs.store) == 0


def test_a_handoff_closes_itself_after_the_configured_days():
    clock = Clock()
    handoffs = Handoffs(new_key(), days=2, clock=clock)
    run(handoffs.open(council="kiyose", user=USER, channel="C", thread="1.2"))
    clock.now += 2 * 86400 - 1
    assert run(handoffs.by_user("kiyose", USER)) is not None
    clock.now += 2
    assert run(handoffs.by_user("kiyose", USER)) is None and len(handoffs.store) == 0


def test_a_malformed_key_fails_at_start():
    with pytest.raises(ValueError):
        Handoffs("not-a-key")


def test_state_and_handoffs_in_redis_are_shared_and_expire():
    try:
        server = services.redis_server()
        url = server.__enter__()
    except services.Unavailable as exc:
        pytest.skip(f"Redis tests skipped: {exc}")

    async def scenario() -> None:
        a, b = RedisExpiring(url, prefix="t:chat:"), RedisExpiring(url, prefix="t:chat:")  # two replicas
        state = ChatState(service="kiyose/x")
        await Conversations(a).put("kiyose:u", state)
        assert await Conversations(b).get("kiyose:u") == state
        await a.put("short", b"1", ttl=0.05)
        await asyncio.sleep(0.2)
        assert await b.get("short") is None
        key = new_key()
        one = Handoffs(key, store=RedisExpiring(url, prefix="t:h:"))
        two = Handoffs(key, store=RedisExpiring(url, prefix="t:h:"))
        h = await one.open(council="kiyose", user=USER, channel="C", thread="1.2")
        assert await two.by_user("kiyose", USER) == h
        keys = await a._client.keys("t:h:*")
        values = [await a._client.get(k) for k in keys]
        assert len(keys) == 2 and all(USER.encode() not in k + v for k, v in zip(keys, values))
        await two.close(h)
        assert await a._client.keys("t:h:*") == []
        for store in (a, b, one.store, two.store):
            await store.close()

    try:
        run(scenario())
    finally:
        server.__exit__(None, None, None)


def test_opening_hours_tell_when_staff_will_read():
    hours = parse_hours("mon-fri 08:30-17:15, sat 09:00-12:00")
    friday_noon = datetime(2026, 12, 4, 12, 0, tzinfo=JST)
    assert when_read(hours, friday_noon) is None
    assert when_read(hours, datetime(2026, 12, 4, 18, 0, tzinfo=JST)) == "12月5日（土）9時"
    assert when_read(hours, datetime(2026, 12, 5, 12, 0, tzinfo=JST)) == "12月7日（月）8時30分"
    assert when_read(hours, datetime(2026, 12, 7, 8, 0, tzinfo=JST)) == "12月7日（月）8時30分"
    with pytest.raises(ValueError, match="expected"):
        parse_hours("weekdays 9-5")

"""Small values that expire: in process memory, or in Redis shared by every replica (REDIS_URL).

The conversation state and open handoffs are kept here. Both must vanish
on their own (ten minutes, a few days), so expiry is the store's job, not a
sweeper's: Redis `SET … EX`, and in memory a deadline checked on read plus a
bound on the number of keys.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Protocol

__all__ = ["Expiring", "MemoryExpiring", "RedisExpiring", "open_expiring"]


class Expiring(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, value: bytes, *, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryExpiring:
    """One process's memory; the oldest keys go first when `max_keys` is reached."""

    def __init__(self, *, max_keys: int = 100_000, clock=time.monotonic) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = asyncio.Lock()

    async def get(self, key: str) -> bytes | None:
        async with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= self.clock():
                del self._items[key]
                return None
            return item[1]

    async def put(self, key: str, value: bytes, *, ttl: float) -> None:
        async with self._lock:
            self._items.pop(key, None)
            while len(self._items) >= self.max_keys:
                self._items.popitem(last=False)
            self._items[key] = (self.clock() + ttl, value)

    async def delete(self, key: str) -> None:
        async with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        now = self.clock()
        return sum(1 for deadline, _ in self._items.values() if deadline > now)


class RedisExpiring:
    """Values under `prefix` in Redis, each with its own expiry."""

    def __init__(self, url: str, *, prefix: str = "madoguchi:", timeout: float = 1.0) -> None:
        from redis import asyncio as aioredis

        self.prefix = prefix
        self._client = aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    async def get(self, key: str) -> bytes | None:
        return await self._client.get(self.prefix + key)

    async def put(self, key: str, value: bytes, *, ttl: float) -> None:
        await self._client.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))

    async def delete(self, key: str) -> None:
        await self._client.delete(self.prefix + key)

    async def close(self) -> None:
        await self._client.aclose()


def open_expiring(redis_url: str | None, *, prefix: str) -> Expiring:
    return RedisExpiring(redis_url, prefix=prefix) if redis_url else MemoryExpiring()

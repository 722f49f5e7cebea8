"""Remember which platform events were already handled, so each is answered once.

`Dedupe` is the seam shared by every replica: in memory for one process, in
Redis (see `adapters.stores.redis_dedupe`) when REDIS_URL is set.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Protocol

__all__ = ["Dedupe", "MemoryDedupe"]


class Dedupe(Protocol):
    async def first(self, key: str) -> bool:
        """True the first time `key` is seen (and remember it); False afterwards."""
        ...


class MemoryDedupe:
    """Bounded in size and time: platforms redeliver within minutes, not days."""

    def __init__(self, *, ttl: float = 3600.0, max_keys: int = 100_000) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = asyncio.Lock()

    async def first(self, key: str) -> bool:
        now = time.monotonic()
        async with self._lock:
            while self._seen and (len(self._seen) >= self.max_keys or next(iter(self._seen.values())) < now - self.ttl):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

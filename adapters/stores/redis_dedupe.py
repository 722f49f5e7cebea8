"""Duplicate-event memory in Redis, shared by all replicas (REDIS_URL).

`SET key 1 NX EX ttl` is one atomic round trip: exactly one replica sees
"first" for a redelivered LINE or Slack event. If Redis cannot be reached the
event is still answered (a possible duplicate beats silence for a resident),
with a process-local memory as a second line, and the error is counted.
"""

from __future__ import annotations

import logging
import time

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from adapters.dedupe import MemoryDedupe

__all__ = ["RedisDedupe"]

log = logging.getLogger("madoguchi.stores.redis")


class RedisDedupe:
    shared = True  # every replica asks the same Redis: it knows events other replicas' outboxes hold

    def __init__(self, url: str, *, ttl: int = 3600, prefix: str = "madoguchi:event:", timeout: float = 1.0,
                 max_connections: int = 64) -> None:
        self.ttl = ttl
        self.prefix = prefix
        self.errors = 0
        self._warned = -1e9
        # A bounded pool that waits for a free connection (a burst of webhooks must
        # queue for Redis, not fall back and risk answering twice).
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout * 2, socket_timeout=timeout,
            socket_connect_timeout=timeout, health_check_interval=30)
        self._client = aioredis.Redis(connection_pool=pool)
        self._fallback = MemoryDedupe(ttl=ttl)

    async def first(self, key: str) -> bool:
        """True for the first replica (and the first time) `key` is seen."""
        try:
            return bool(await self._client.set(self.prefix + key, b"1", nx=True, ex=self.ttl))
        except (RedisError, OSError) as exc:
            self.errors += 1
            now = time.monotonic()
            if now - self._warned > 60:  # one line a minute during an outage, not one per event
                self._warned = now
                log.warning("redis dedupe unavailable, using process memory (%d errors so far)", self.errors,
                            extra={"error": type(exc).__name__})
            return await self._fallback.first(key)

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose(close_connection_pool=True)

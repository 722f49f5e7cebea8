"""Stores shared by every replica behind a load balancer.

`redis_dedupe.RedisDedupe` (REDIS_URL) remembers handled platform events;
`postgres.PostgresQueryLog` (DATABASE_URL) keeps the query log. One process
needs neither: `adapters.dedupe.MemoryDedupe` and the SQLite query log are the
defaults. `choose_stores` picks from the configuration.
"""

from __future__ import annotations

from adapters.stores.choose import choose_stores

__all__ = ["choose_stores"]

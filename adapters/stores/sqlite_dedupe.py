"""Duplicate-event memory in SQLite (`dedupe.sqlite3` in the data dir), the default without Redis.

Kept on disk so that a signed request captured and replayed after a restart
is still recognised. Keys expire after `ttl` seconds, which is at least the
age past which events are refused anyway (MADOGUCHI_MAX_EVENT_AGE): an
older replay is refused by its timestamp, a newer one by this memory. Runs
on its own thread; one atomic upsert per key.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["SqliteDedupe", "DB_NAME"]

DB_NAME = "dedupe.sqlite3"


class SqliteDedupe:
    def __init__(self, path: Path | str, *, ttl: float = 86_400.0) -> None:
        self.ttl = ttl
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="dedupe-sqlite")
        self._db = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives kill -9; a power cut may forget the last keys
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._purged = 0.0

    @classmethod
    def in_dir(cls, data_dir: Path | str, **options) -> SqliteDedupe:
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / DB_NAME
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        return cls(path, **options)

    def _first(self, key: str) -> bool:
        now = time.time()
        cur = self._db.execute("INSERT INTO seen (key, at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                               " SET at = excluded.at WHERE seen.at < ?", (key, now, now - self.ttl))
        if now - self._purged > 600:
            self._purged = now
            self._db.execute("DELETE FROM seen WHERE at < ?", (now - self.ttl,))
        return cur.rowcount == 1

    async def first(self, key: str) -> bool:
        """True the first time `key` is seen within `ttl` (and remember it), across restarts."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._first, key)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
        self._executor.shutdown(wait=True)

"""The outbox in PostgreSQL (DATABASE_URL): one queue for every replica.

Same rows and rules as `adapters.outbox.sqlite`. Claims use `FOR UPDATE SKIP
LOCKED`, so replicas polling together each take different rows, and the
unique (channel, council, event_id) makes a redelivery that reaches another
replica a duplicate. Calls run on the store's own thread with one
connection, reconnecting once when the server went away.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

import psycopg

from adapters.outbox import Added, Incoming, Job, Lease, Mode, OutboxFull, insert_each
from adapters.outbox.sqlite import DONE_KEPT, job_of

__all__ = ["PostgresOutbox"]

T = TypeVar("T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS madoguchi_outbox (
    id          BIGSERIAL PRIMARY KEY,
    channel     TEXT NOT NULL,
    council     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    payload     TEXT,
    received    DOUBLE PRECISION NOT NULL,
    event_at    DOUBLE PRECISION NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     DOUBLE PRECISION NOT NULL,
    mode        TEXT NOT NULL DEFAULT 'reply',
    maybe_sent  BOOLEAN NOT NULL DEFAULT false,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    outcome     TEXT,
    UNIQUE (channel, council, event_id)
);
CREATE INDEX IF NOT EXISTS madoguchi_outbox_due ON madoguchi_outbox (state, next_at);
CREATE INDEX IF NOT EXISTS madoguchi_outbox_received ON madoguchi_outbox (received);
"""
_COLUMNS = "id, channel, council, event_id, payload, received, event_at, attempts, mode, maybe_sent"


class PostgresOutbox:
    def __init__(self, url: str, *, max_pending: int = 2000, keep_done: float = DONE_KEPT,
                 connect_timeout: int = 5) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self.max_pending = max_pending
        self.keep_done = keep_done
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="outbox-postgres")
        self._db: psycopg.Connection | None = None
        self._purged = 0.0
        self._executor.submit(self._tx, self._create).result()

    def _create(self, db: psycopg.Connection) -> None:
        db.execute("SELECT pg_advisory_xact_lock(7355609)")  # replicas starting together
        db.execute(_SCHEMA)

    def _tx(self, fn: Callable[[psycopg.Connection], T]) -> T:
        for attempt in (1, 2):  # one reconnect: the server restarted, a proxy dropped us
            try:
                if self._db is None or self._db.closed:
                    self._db = psycopg.connect(self._url, autocommit=True, connect_timeout=self._connect_timeout,
                                               application_name="madoguchi-outbox")
                with self._db.transaction():
                    return fn(self._db)
            except psycopg.OperationalError:
                if self._db is not None:
                    self._db.close()
                self._db = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _run(self, fn: Callable[[psycopg.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._tx, fn)

    # -- the Outbox protocol -------------------------------------------------------
    async def add(self, items: list[Incoming], *, lease: Lease | None = None) -> Added:
        def add(db: psycopg.Connection) -> Added:
            now = time.time()
            waiting = db.execute("SELECT count(*) FROM madoguchi_outbox WHERE state = 'pending'").fetchone()[0]
            if waiting + len(items) > self.max_pending:
                raise OutboxFull(f"{waiting} events waiting (bound {self.max_pending})")

            def insert(i: Incoming, owner: str | None, until: float | None) -> int | None:
                row = db.execute("INSERT INTO madoguchi_outbox (channel, council, event_id, payload, received,"
                                 " event_at, next_at, attempts, lease_owner, lease_until)"
                                 " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                                 (i.channel, i.council, i.event_id, i.payload, now, i.event_at, now,
                                  int(owner is not None), owner, until)).fetchone()
                return None if row is None else int(row[0])

            return insert_each(items, lease, now, insert)

        return await self._run(add)

    async def claim(self, owner: str, *, limit: int, lease: float) -> list[Job]:
        def claim(db: psycopg.Connection) -> list[Job]:
            now = time.time()
            rows = db.execute(
                f"UPDATE madoguchi_outbox SET attempts = attempts + 1,"
                f" maybe_sent = (maybe_sent OR lease_owner IS NOT NULL), lease_owner = %s, lease_until = %s"
                f" WHERE id IN (SELECT id FROM madoguchi_outbox WHERE state = 'pending' AND next_at <= %s AND"
                f" (lease_until IS NULL OR lease_until < %s) ORDER BY next_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
                f" RETURNING {_COLUMNS}", (owner, now + lease, now, now, limit)).fetchall()
            return sorted((job_of(r) for r in rows), key=lambda j: j.id)

        return await self._run(claim)

    async def renew(self, owner: str, ids: list[int], *, lease: float) -> None:
        if ids:
            await self._run(lambda db: db.execute(
                "UPDATE madoguchi_outbox SET lease_until = %s WHERE lease_owner = %s AND id = ANY(%s)",
                (time.time() + lease, owner, ids)))

    async def finish(self, job: Job, owner: str, *, outcome: str) -> bool:
        def finish(db: psycopg.Connection) -> bool:
            cur = db.execute("UPDATE madoguchi_outbox SET state = %s, outcome = %s, payload = NULL,"
                             " lease_owner = NULL, lease_until = NULL WHERE id = %s AND lease_owner = %s",
                             ("failed" if outcome == "failed" else "done", outcome, job.id, owner))
            now = time.time()
            if now - self._purged > 60:
                self._purged = now
                db.execute("DELETE FROM madoguchi_outbox WHERE state <> 'pending' AND received < %s",
                           (now - self.keep_done,))
            return cur.rowcount == 1

        return await self._run(finish)

    async def retry(self, job: Job, owner: str, *, at: float, mode: Mode, maybe_sent: bool) -> None:
        await self._run(lambda db: db.execute(
            "UPDATE madoguchi_outbox SET next_at = %s, mode = %s, maybe_sent = %s, lease_owner = NULL,"
            " lease_until = NULL WHERE id = %s AND lease_owner = %s", (at, mode, maybe_sent, job.id, owner)))

    async def pending(self) -> int:
        return await self._run(lambda db: db.execute(
            "SELECT count(*) FROM madoguchi_outbox WHERE state = 'pending'").fetchone()[0])

    async def close(self) -> None:
        def close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)

    def rows(self) -> list[dict[str, Any]]:
        """Every row as stored (tests, the benchmark). Blocking."""
        def read(db: psycopg.Connection) -> list[dict[str, Any]]:
            cur = db.execute("SELECT * FROM madoguchi_outbox ORDER BY id")
            names = [d.name for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

        return self._executor.submit(self._tx, read).result()

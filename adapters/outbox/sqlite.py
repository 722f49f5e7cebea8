"""The outbox in one SQLite file in the data dir (`outbox.sqlite3`), the default.

Every call runs on the store's own single thread (one connection, no
contention with matching or reloads). `synchronous=FULL`: a row is on disk
before the webhook answers 200, so neither kill -9 nor a power cut loses it.
Writes are `BEGIN IMMEDIATE` transactions, so processes sharing the file
never take the same row. Every state change (add, claim, finish, retry,
renew) that arrives while a transaction is being written waits for the next
one and shares it (group commit): a burst of webhooks, the claim of what they
brought and the finishes of earlier replies cost one transaction, one fsync.
A finish does not start a transaction of its own at once: it waits up to
`settle` seconds for another write to ride with, so at a steady pace each
event costs one commit (its add, leasing its row, carrying the previous
event's finish), not three.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, TypeVar

from adapters.outbox import Added, Incoming, Job, Lease, Mode, OutboxFull, insert_each

__all__ = ["SqliteOutbox", "DB_NAME", "DONE_KEPT"]

T = TypeVar("T")
log = logging.getLogger("madoguchi.stores")
DB_NAME = "outbox.sqlite3"
DONE_KEPT = 2 * 86_400.0  # delivered rows keep their ids this long: redeliveries are recognised
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    council     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    payload     TEXT,
    received    REAL NOT NULL,
    event_at    REAL NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     REAL NOT NULL,
    mode        TEXT NOT NULL DEFAULT 'reply',
    maybe_sent  INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until REAL,
    outcome     TEXT,
    UNIQUE (channel, council, event_id)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_at);
CREATE INDEX IF NOT EXISTS outbox_received ON outbox (received);
"""
_COLUMNS = "id, channel, council, event_id, payload, received, event_at, attempts, mode, maybe_sent"


@dataclass(slots=True)
class _Batch:
    """What the calls of one group commit share."""

    waiting: int | None = None  # rows pending, counted at the batch's first add
    finished: bool = False  # a finish ran (delivered rows to purge, the WAL to tidy later)
    idle: bool = False  # a claim found nothing due


def _settle(outcomes: list[tuple[asyncio.Future, Any]]) -> None:
    for future, outcome in outcomes:
        if future.done():  # the caller was cancelled
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def job_of(row: tuple) -> Job:
    return Job(int(row[0]), row[1], row[2], row[3], row[4], float(row[5]), float(row[6]), int(row[7]), row[8],
               bool(row[9]))


class SqliteOutbox:
    def __init__(self, path: Path | str, *, max_pending: int = 2000, keep_done: float = DONE_KEPT,
                 settle: float = 0.02) -> None:
        self.path = str(path)
        self.max_pending = max_pending
        self.keep_done = keep_done
        self.settle = settle
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="outbox-sqlite")
        self._db: sqlite3.Connection | None = None
        self._purged = 0.0
        self._dirty = False
        self._writes: deque = deque()  # (write, arg, future) waiting for the next group commit
        self._draining = False  # a drain is queued on the store's thread and has not taken the writes yet
        self._later: asyncio.TimerHandle | None = None  # the drain for writes that settle
        self._executor.submit(self._open).result()

    @classmethod
    def in_dir(cls, data_dir: Path | str, **options: Any) -> SqliteOutbox:
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / DB_NAME
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # owner-only: it holds user ids briefly
        return cls(path, **options)

    def _open(self) -> None:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=10000")
        if self.path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA secure_delete=ON")  # a delivered message's text and user id are overwritten
        db.executescript(_SCHEMA)
        self._db = db

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        assert db is not None, "outbox closed"
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            if db.in_transaction:  # SQLite has rolled back itself after "disk is full"
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def _grouped(self, write: Callable[[sqlite3.Connection, Any, _Batch], Any], arg: Any, *,
                       settle: bool = False) -> Any:
        """Group commit: calls that arrive while a transaction is being written wait for the next
        one and share it, in the order they came (a claim sees the adds before it), so a burst
        costs one commit (one fsync) per batch, not per call. A `settle` call waits up to
        `self.settle` for another call to share its commit. Each call's result (or its own
        `OutboxFull`) is its own; any other error fails the whole batch, which was rolled back.
        A call returns only after its batch was committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._writes.append((write, arg, future))
        if not settle:
            self._start(loop)
        elif self._later is None:
            self._later = loop.call_later(self.settle, self._start, loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue a drain on the store's thread unless one is queued that has not yet taken the writes."""
        if self._later is not None:
            self._later.cancel()
            self._later = None
        if not self._draining:
            self._draining = True
            loop.run_in_executor(self._executor, self._drain, loop)

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        self._draining = False  # from here on, what is added is taken below or by the next drain
        queue = self._writes
        while queue:
            calls = []
            while queue:
                calls.append(queue.popleft())
            batch = _Batch()
            try:
                outcomes = self._tx(partial(self._write, calls=calls, batch=batch))
            except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
                outcomes = [exc] * len(calls)
            loop.call_soon_threadsafe(_settle, [(f, o) for (_, _, f), o in zip(calls, outcomes)])
            if batch.idle and not queue:
                self._checkpoint()

    @staticmethod
    def _write(db: sqlite3.Connection, *, calls: list, batch: _Batch) -> list:
        """Each call's write in order, in one transaction: its result, or its own `OutboxFull`."""
        outcomes: list = []
        for write, arg, _ in calls:
            try:
                outcomes.append(write(db, arg, batch))
            except OutboxFull as exc:  # this call's own refusal; the others go on
                outcomes.append(exc)
        return outcomes

    # -- the Outbox protocol -------------------------------------------------------
    async def add(self, items: list[Incoming], *, lease: Lease | None = None) -> Added:
        return await self._grouped(self._add, (items, lease))

    def _add(self, db: sqlite3.Connection, arg: tuple[list[Incoming], Lease | None], batch: _Batch) -> Added:
        items, lease = arg
        if batch.waiting is None:
            batch.waiting = db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        if batch.waiting + len(items) > self.max_pending:
            raise OutboxFull(f"{batch.waiting} events waiting (bound {self.max_pending})")
        now = time.time()

        def insert(i: Incoming, owner: str | None, until: float | None) -> int | None:
            row = db.execute("INSERT OR IGNORE INTO outbox (channel, council, event_id, payload, received,"
                             " event_at, next_at, attempts, lease_owner, lease_until)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             (i.channel, i.council, i.event_id, i.payload, now, i.event_at, now,
                              int(owner is not None), owner, until)).fetchone()
            return None if row is None else int(row[0])

        added = insert_each(items, lease, now, insert)
        batch.waiting += sum(added.fresh)
        return added

    async def claim(self, owner: str, *, limit: int, lease: float) -> list[Job]:
        return await self._grouped(self._claim, (owner, limit, lease))

    def _claim(self, db: sqlite3.Connection, arg: tuple[str, int, float], batch: _Batch) -> list[Job]:
        owner, limit, lease = arg
        now = time.time()
        ids = [r[0] for r in db.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND next_at <= ? AND"
            " (lease_until IS NULL OR lease_until < ?) ORDER BY next_at, id LIMIT ?", (now, now, limit))]
        if not ids:
            batch.idle = True  # nothing due: a good moment to tidy the WAL (after the commit)
            return []
        marks = ",".join("?" * len(ids))
        rows = db.execute(
            f"UPDATE outbox SET attempts = attempts + 1, maybe_sent = (maybe_sent OR lease_owner IS NOT NULL),"
            f" lease_owner = ?, lease_until = ? WHERE id IN ({marks}) RETURNING {_COLUMNS}",
            (owner, now + lease, *ids)).fetchall()
        return sorted((job_of(r) for r in rows), key=lambda j: j.id)

    async def renew(self, owner: str, ids: list[int], *, lease: float) -> None:
        if ids:
            await self._grouped(self._renew, (owner, ids, lease))

    @staticmethod
    def _renew(db: sqlite3.Connection, arg: tuple[str, list[int], float], batch: _Batch) -> None:
        owner, ids, lease = arg
        marks = ",".join("?" * len(ids))
        db.execute(f"UPDATE outbox SET lease_until = ? WHERE lease_owner = ? AND id IN ({marks})",
                   (time.time() + lease, owner, *ids))

    async def finish(self, job: Job, owner: str, *, outcome: str) -> bool:
        return await self._grouped(self._finish, (job, owner, outcome), settle=True)

    def _finish(self, db: sqlite3.Connection, arg: tuple[Job, str, str], batch: _Batch) -> bool:
        job, owner, outcome = arg
        cur = db.execute("UPDATE outbox SET state = ?, outcome = ?, payload = NULL, lease_owner = NULL,"
                         " lease_until = NULL WHERE id = ? AND lease_owner = ?",
                         ("failed" if outcome == "failed" else "done", outcome, job.id, owner))
        if not batch.finished:
            batch.finished = True
            self._purge(db)
        self._dirty = True
        if cur.rowcount != 1:
            return False
        if batch.waiting is not None:  # one fewer waiting for the adds after it
            batch.waiting -= 1
        return True

    async def retry(self, job: Job, owner: str, *, at: float, mode: Mode, maybe_sent: bool) -> None:
        await self._grouped(self._retry, (job, owner, at, mode, maybe_sent))

    @staticmethod
    def _retry(db: sqlite3.Connection, arg: tuple[Job, str, float, Mode, bool], batch: _Batch) -> None:
        job, owner, at, mode, maybe_sent = arg
        db.execute("UPDATE outbox SET next_at = ?, mode = ?, maybe_sent = ?, lease_owner = NULL,"
                   " lease_until = NULL WHERE id = ? AND lease_owner = ?",
                   (at, mode, int(maybe_sent), job.id, owner))

    async def pending(self) -> int:
        def count(db: sqlite3.Connection) -> int:
            return db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

        return await self._run(self._tx, count)

    async def close(self) -> None:
        def close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        if self._writes:  # finishes still settling are committed first (the store's thread runs in order)
            self._start(asyncio.get_running_loop())
        await self._run(close)
        self._executor.shutdown(wait=True)

    # -- upkeep --------------------------------------------------------------------
    def _purge(self, db: sqlite3.Connection) -> None:
        """At most once a minute: forget delivered rows older than `keep_done`."""
        now = time.time()
        if now - self._purged < 60:
            return
        self._purged = now
        db.execute("DELETE FROM outbox WHERE state <> 'pending' AND received < ?", (now - self.keep_done,))

    def _checkpoint(self) -> None:
        """When idle after deliveries: fold the WAL back and truncate it, so old page images
        (holding texts and user ids since deleted) do not linger in `outbox.sqlite3-wal`."""
        if self._dirty and self._db is not None:
            self._dirty = False
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # tried again after the next deliveries
                self._dirty = True
                log.warning("outbox: WAL checkpoint failed (%s)", exc)

    def rows(self) -> list[dict[str, Any]]:
        """Every row as stored (tests, the benchmark). Blocking."""
        def read() -> list[dict[str, Any]]:
            assert self._db is not None
            cur = self._db.execute("SELECT * FROM outbox ORDER BY id")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

        return self._executor.submit(read).result()

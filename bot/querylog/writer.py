"""One background thread per store that writes log items in batches.

A webhook must never wait for a disk sync or a database round trip: `put`
only appends to a bounded queue (and counts a drop when it is full, rather
than blocking the event loop). The thread writes what has accumulated in one
transaction, and runs the store's periodic upkeep (retention purge). After
the first item it lingers a moment (`linger`, unless a flush is waiting), so
a busy server writes one transaction per burst rather than one per question,
and its puts seldom have to wake the thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.querylog import LogEntry

__all__ = ["BatchWriter", "QueuedStore", "Feedback", "DAY"]

DAY = 86_400.0

log = logging.getLogger("madoguchi.querylog")


class BatchWriter:
    def __init__(
        self,
        sink: Callable[[list[Any]], None],
        *,
        name: str,
        upkeep: Callable[[], None] | None = None,
        upkeep_every: float = 3600.0,
        max_queue: int = 10_000,
        batch: int = 500,
        linger: float = 0.05,
    ) -> None:
        self._sink = sink
        self._upkeep = upkeep
        self._upkeep_every = upkeep_every
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._batch = batch
        self._linger = linger
        self._hurry = threading.Event()  # a flush or close is waiting: no lingering
        self._done = threading.Condition()
        self._pending = 0
        self._closed = False
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self.last_error: str | None = None  # the cause while writes fail (full disk, …); None once one succeeds
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def put(self, item: Any) -> bool:
        """Queue `item` for writing; False (and counted as dropped) when full or closed."""
        if self._closed:
            self.dropped += 1
            return False
        with self._done:
            self._pending += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._finished(1)
            self.dropped += 1
            return False
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (or failed); False on timeout."""
        self._hurry.set()
        try:
            with self._done:
                return self._done.wait_for(lambda: self._pending == 0, timeout)
        finally:
            self._hurry.clear()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)

    def _finished(self, n: int) -> None:
        with self._done:
            self._pending -= n
            self._done.notify_all()

    def _run(self) -> None:
        next_upkeep = time.monotonic() + self._upkeep_every  # the store purged on open itself
        while True:
            if self._upkeep is not None and time.monotonic() >= next_upkeep:
                try:
                    self._upkeep()
                except Exception:
                    log.exception("query log upkeep failed")
                next_upkeep = time.monotonic() + self._upkeep_every
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            if first is None:
                return
            if self._linger > 0:
                self._hurry.wait(self._linger)
            items = [first]
            stop = False
            while len(items) < self._batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                items.append(item)
            try:
                self._sink(items)
                self.written += len(items)
                self.last_error = None
            except Exception as exc:
                self.failed += len(items)
                if self.last_error is None:  # one traceback per outage, not one per batch
                    log.exception("query log write failed (%d items lost)", len(items))
                else:
                    log.error("query log write failed (%d items lost): %s", len(items), exc)
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            finally:
                self._finished(len(items))
            if stop:
                return


@dataclass(frozen=True, slots=True)
class Feedback:
    """役に立った？ answered: written in order after the question it is about."""

    council: str
    event_id: str
    value: str


class QueuedStore:
    """What every query-log store shares: queue writes, purge old entries, report counts.

    A store sets `_writer` (a `BatchWriter` whose upkeep is `_upkeep`) and
    `retention_days`, and implements the SQL itself.
    """

    _writer: BatchWriter
    retention_days: int

    def purge(self, *, older_than: float) -> int:
        raise NotImplementedError

    def _upkeep(self) -> None:
        if self.retention_days > 0:
            self.purge(older_than=time.time() - self.retention_days * DAY)

    def record(self, entry: LogEntry) -> None:
        """Queue one entry; returns at once (the writer thread masks, hashes and stores it)."""
        self._writer.put(entry)

    def feedback(self, *, council: str, event_id: str, value: str) -> None:
        self._writer.put(Feedback(council, event_id, value))

    @property
    def problem(self) -> str | None:
        """Why the last write failed, while writes fail (the server's /healthz shows it)."""
        return self._writer.last_error

    def stats(self) -> dict[str, int]:
        w = self._writer
        return {"written": w.written, "dropped": w.dropped, "failed": w.failed, "queued": w.queued}

    def flush(self, timeout: float = 10.0) -> bool:
        return self._writer.flush(timeout)

"""The durable outbox, backed by process memory when it cannot be written.

A full disk, a read-only data dir or a database that went away must not
silence the residents: events the durable store refuses are kept in memory
(an in-memory SQLite outbox, same rules) and answered from there, and the
failure is reported (`on_error`: /healthz says "degraded", /metrics counts
it). Events in memory are lost if the process dies meanwhile, which is why
it is reported, never silent.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.outbox import Added, Incoming, Job, Lease, Mode, Outbox, OutboxFull
from adapters.outbox.sqlite import SqliteOutbox

__all__ = ["FallbackOutbox"]


class FallbackOutbox:
    def __init__(self, primary: Outbox | None, *, max_pending: int,
                 on_error: Callable[[str, BaseException | None], None]) -> None:
        self.primary = primary
        self.memory = SqliteOutbox(":memory:", max_pending=max_pending)
        self.max_pending = max_pending
        self._on_error = on_error
        self._from: dict[Job, Outbox] = {}
        self._memory_used = primary is None

    def _failed(self, exc: BaseException) -> None:
        self._on_error("outbox", exc)

    async def add(self, items: list[Incoming], *, lease: Lease | None = None) -> Added:
        if self.primary is not None:
            try:
                added = await self.primary.add(items, lease=lease)
            except OutboxFull:
                raise
            except Exception as exc:
                self._failed(exc)
            else:
                self._on_error("outbox", None)  # written durably again: no longer degraded
                self._from.update((j, self.primary) for j in added.jobs)
                return added
        self._memory_used = True
        return await self.memory.add(items, lease=lease)

    async def claim(self, owner: str, *, limit: int, lease: float) -> list[Job]:
        jobs: list[Job] = []
        if self.primary is not None:
            try:
                jobs = await self.primary.claim(owner, limit=limit, lease=lease)
            except Exception as exc:
                self._failed(exc)
            self._from.update((j, self.primary) for j in jobs)
        if len(jobs) < limit and self._memory_used:  # no trip to an outbox that was never written
            more = await self.memory.claim(owner, limit=limit - len(jobs), lease=lease)
            self._from.update((j, self.memory) for j in more)
            jobs += more
        return jobs

    async def renew(self, owner: str, ids: list[int], *, lease: float) -> None:
        if self.primary is not None:  # ids of both stores: a wrong id matches no row of ours
            try:
                await self.primary.renew(owner, ids, lease=lease)
            except Exception as exc:
                self._failed(exc)
        if self._memory_used:
            await self.memory.renew(owner, ids, lease=lease)

    async def finish(self, job: Job, owner: str, *, outcome: str) -> bool:
        store = self._from.pop(job, self.memory)
        return await store.finish(job, owner, outcome=outcome)

    async def retry(self, job: Job, owner: str, *, at: float, mode: Mode, maybe_sent: bool) -> None:
        store = self._from.pop(job, self.memory)
        await store.retry(job, owner, at=at, mode=mode, maybe_sent=maybe_sent)

    async def pending(self) -> int:
        waiting = await self.memory.pending()
        if self.primary is not None:
            try:
                waiting += await self.primary.pending()
            except Exception as exc:
                self._failed(exc)
        return waiting

    def rows(self) -> list[dict]:
        rows = self.memory.rows()
        return (self.primary.rows() if self.primary is not None else []) + rows  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self.primary is not None:
            await self.primary.close()
        await self.memory.close()

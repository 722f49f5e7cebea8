"""The outbox: every accepted event is kept durably until it has been answered.

LINE does not redeliver an event it got 200 for, so the webhook writes each
event here (committed to disk) before it answers, and workers
(`adapters.line.delivery`) answer and send from it. A row is claimed with a
lease: a worker that dies mid-send loses its lease and another worker (or
the same process after a restart) takes the row again, knowing the earlier
attempt may have reached LINE (`maybe_sent`). The webhook's `add` can lease
the new rows to its own process in the same transaction (`Lease`), so an
event answered where it arrived costs no separate claim. Once delivered, the row keeps
only its ids (the event JSON, with the user id in it, is deleted), so a
redelivery is still recognised as a duplicate until the row is purged.

`SqliteOutbox` (the data dir, default) and `adapters.stores.postgres_outbox`
(DATABASE_URL, shared by replicas) implement `Outbox`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["Added", "Job", "Lease", "Outbox", "OutboxFull", "Incoming", "Mode", "insert_each"]

Mode = Literal["reply", "push"]


class OutboxFull(RuntimeError):
    """More events are waiting than can be answered in time: refuse (503) so the platform redelivers."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """One accepted event, as the webhook hands it over."""

    channel: str
    council: str
    event_id: str
    payload: str  # the event's JSON (holds the user id until delivered)
    event_at: float  # the platform's timestamp (unix seconds)


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed row: answer `payload` and send it, then `finish` or `retry` it."""

    id: int
    channel: str
    council: str
    event_id: str
    payload: str
    received: float
    event_at: float
    attempts: int  # including this one
    mode: Mode
    maybe_sent: bool  # an earlier attempt ended without an outcome (crash, timeout): it may have arrived


@dataclass(frozen=True, slots=True)
class Lease:
    """Lease at most `limit` of the new rows to `owner` as they are added, as a claim would."""

    owner: str
    limit: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Added:
    fresh: list[bool]  # per item: not seen before
    jobs: list[Job]  # the new rows leased by the add's `Lease` (the first ones, in order)


def insert_each(items: list[Incoming], lease: Lease | None, now: float,
                insert: Callable[[Incoming, str | None, float | None], int | None]) -> Added:
    """What an add did, row by row: `insert(item, lease_owner, lease_until)` writes one
    row (the store's own SQL) and gives its id, or None for a duplicate; the first new rows
    are leased as `lease` says, each a `Job` on its first attempt, by reply."""
    fresh: list[bool] = []
    jobs: list[Job] = []
    for item in items:
        owner, until = (lease.owner, now + lease.seconds) if lease and len(jobs) < lease.limit else (None, None)
        row_id = insert(item, owner, until)
        fresh.append(row_id is not None)
        if row_id is not None and owner is not None:
            jobs.append(Job(row_id, item.channel, item.council, item.event_id, item.payload, now, item.event_at, 1,
                            "reply", False))
    return Added(fresh, jobs)


class Outbox(Protocol):
    max_pending: int

    async def add(self, items: list[Incoming], *, lease: Lease | None = None) -> Added:
        """Commit `items` durably, leasing new rows as `lease` says. Raises `OutboxFull`."""
        ...

    async def claim(self, owner: str, *, limit: int, lease: float) -> list[Job]: ...

    async def renew(self, owner: str, ids: list[int], *, lease: float) -> None: ...

    async def finish(self, job: Job, owner: str, *, outcome: str) -> bool:
        """Mark delivered (or given up); drops the payload. False when the lease was lost.
        May wait for a later write to share its commit: a crash before it only means a retry
        that knows the answer may have arrived (`maybe_sent`)."""
        ...

    async def retry(self, job: Job, owner: str, *, at: float, mode: Mode, maybe_sent: bool) -> None: ...

    async def pending(self) -> int: ...

    async def close(self) -> None: ...

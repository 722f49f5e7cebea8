"""Workers that answer LINE events from the outbox and deliver each answer exactly once.

The webhook's `accept` commits new events and, in the same transaction,
leases as many as there are free slots to this process, whose tasks start
answering them at once. A dispatcher claims whatever else is due (rows left
waiting for a slot, retries, rows of a replica that died), with a lease
renewed while they are worked on. At most `Runtime.max_background` are answered at
once. Sending:

- with the reply token while it is young (`reply_window` after the event);
  429, 5xx and timeouts are retried with exponential backoff, never sooner
  than Retry-After;
- when the token has expired or the retries would outlast it, a push to the
  user (or group/room) with `X-Line-Retry-Key` derived from the event id, so
  every retry of that push, from any replica, is one message for LINE (409
  means it was already accepted);
- "invalid reply token" after an attempt that may have arrived (a crash or a
  timeout mid-send) while the token is still young means that attempt used
  it: the event counts as delivered rather than being answered twice.

Delivered rows lose their payload (the user id); the query log is written
after delivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass

from adapters.line.client import LineClient, SendFailed
from adapters.line.events import Context, Reply, handle_showing_progress, record
from adapters.line.flex import text_message
from adapters.line.inbound import LineEvent, read_event
from adapters.line.texts import T
from adapters.outbox import Incoming, Job, Lease, Outbox
from adapters.runtime import Runtime
from bot.assistant import UnknownCouncil

__all__ = ["LineDelivery", "Timing", "retry_key"]

log = logging.getLogger("madoguchi.line")
_KEYS = uuid.UUID("6f1c1f0e-5b7a-4d8e-9a51-0c4d6d1b7e21")


@dataclass(frozen=True, slots=True)
class Timing:
    reply_window: float = 50.0  # use the reply token this long after the event; push afterwards
    lease: float = 10.0  # a claimed row is anyone's after this long without renewal (every lease/3)
    poll: float = 0.5  # look for due rows (retries, other replicas' rows) this often
    backoff: float = 0.5  # first retry delay; doubles per attempt
    max_backoff: float = 60.0
    give_up: float = 86_400.0  # LINE keeps a retry key for 24 hours


def retry_key(council: str, event_id: str) -> str:
    """The X-Line-Retry-Key of an event's push: the same on every attempt and replica."""
    return str(uuid.uuid5(_KEYS, f"{council}:{event_id}"))


class LineDelivery:
    def __init__(self, runtime: Runtime, clients: dict[str, LineClient], *, timing: Timing | None = None) -> None:
        self.runtime = runtime
        self.outbox: Outbox | None = None  # opened by `start` (the app's startup), not when routes are built
        self.clients = clients
        self.timing = timing or Timing()
        self.owner = uuid.uuid4().hex
        self.inflight: dict[int, asyncio.Task] = {}
        self._reserved = 0  # slots promised to adds still being committed
        self._more = False  # rows may be due that no slot was free for: claim when one frees
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task] = []

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self.outbox = self.runtime.open_outbox()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._dispatch()), loop.create_task(self._heartbeat())]

    async def accept(self, items: list[Incoming]) -> list[bool]:
        """Commit `items` to the outbox (raises as `Outbox.add` does) and start answering the new
        ones that have a free slot, leased in the same transaction; the rest wait for the
        dispatcher. True for each item not seen before."""
        outbox = self.outbox or self.runtime.open_outbox()
        working = self.outbox is not None and not self._stopping  # else the dispatcher takes them at its start
        take = max(0, min(len(items), self._free())) if working else 0
        self._reserved += take
        try:
            added = await outbox.add(items, lease=Lease(self.owner, take, self.timing.lease) if take else None)
        finally:
            self._reserved -= take
        for job in added.jobs:
            self._launch(job)
        if sum(added.fresh) > len(added.jobs):
            self._more = True
            self._wake.set()
        return added.fresh

    def _free(self) -> int:
        return self.runtime.max_background - len(self.inflight) - self._reserved

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish what is in flight (at most `timeout`); the rest stays in the outbox for the next start."""
        self._stopping = True
        self._wake.set()
        if self.inflight:
            await asyncio.wait(list(self.inflight.values()), timeout=timeout)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def idle(self) -> bool:
        """Nothing in flight and nothing waiting (tests wait for this)."""
        return not self.inflight and await self.outbox.pending() == 0

    # -- the loops -------------------------------------------------------------------
    async def _dispatch(self) -> None:
        limit = self.runtime.max_background
        batch = max(1, limit // 4)  # claim when this many slots are free (or none is busy): one claim
        while not self._stopping:  # (a transaction, an fsync) per few answers, not one per answer
            self._wake.clear()
            free = self._free()
            jobs: list[Job] = []
            if free >= batch or (free > 0 and not self.inflight):
                self._more = False  # an `accept` during the claim may set it again
                self._reserved += free
                try:
                    jobs = await self.outbox.claim(self.owner, limit=free, lease=self.timing.lease)
                    self._more |= len(jobs) == free
                except Exception:
                    self._more = True
                    log.exception("line: outbox claim failed; retrying")
                finally:
                    self._reserved -= free
            for job in jobs:
                self._launch(job)
            if jobs and self._more:
                continue  # there may be more due right now
            try:
                await asyncio.wait_for(self._wake.wait(), self.timing.poll)
            except TimeoutError:
                pass

    def _launch(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._work(job))
        self.inflight[job.id] = task
        self.runtime.background.add(task)
        task.add_done_callback(self._done(job.id))

    def _done(self, job_id: int):
        def done(task: asyncio.Task) -> None:
            self.runtime.background.discard(task)
            self._release(job_id)

        return done

    def _release(self, job_id: int) -> None:
        """The job's slot is free (its answer is sent or given up); wake the dispatcher for rows
        that are waiting for one."""
        if self.inflight.pop(job_id, None) is not None and (self._more or self._stopping):
            self._wake.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.timing.lease / 3)
            try:
                await self.outbox.renew(self.owner, list(self.inflight), lease=self.timing.lease)
            except Exception:
                log.exception("line: renewing leases failed")

    # -- one job -----------------------------------------------------------------------
    async def _work(self, job: Job) -> None:
        metrics = self.runtime.metrics
        try:
            raw = json.loads(job.payload)
            event = read_event(raw["event"])
            ctx = Context(self.runtime, job.council, bot_user_id=raw.get("destination"))
            if job.attempts == 1 and self._ask_dedupe() and \
                    not await self.runtime.dedupe.first(f"line:{job.council}:{job.event_id}"):
                await self._finish(job, "duplicate", event)  # another replica's outbox has it
                return
            reply = await self._answer(ctx, event)
            if reply is None or not reply.messages:
                await self._finish(job, "ignored", event)
                return
            outcome = await self._send(job, event, reply)
            if outcome is not None:
                await self._finish(job, outcome, event)
                await record(ctx, reply)  # staff alerted to an emergency even when LINE refused the answer
        except (UnknownCouncil, KeyError):  # knowledge or credentials reloaded without this council
            log.error("line %s: council no longer served; event %s not answered", job.council, job.event_id)
            await self._finish(job, "failed", None)
        except Exception:
            metrics.inc("madoguchi_line_retries_total", status="error")
            log.exception("line %s: event %s failed; will retry", job.council, job.event_id)
            await self._retry(job, mode=job.mode, maybe_sent=True, after=None)

    def _ask_dedupe(self) -> bool:
        """Whether the duplicate memory can know more than the outbox: when it is shared by
        replicas (Redis), or the outbox is failing (events kept in process memory). A local one
        (SQLite in the data dir, or memory) only repeats what a working outbox's unique event
        ids already refuse, at a transaction per event."""
        return getattr(self.runtime.dedupe, "shared", False) or "outbox" in self.runtime.problems

    async def _answer(self, ctx: Context, event: LineEvent) -> Reply | None:
        """The handler's reply; a short apology when answering itself failed (never silence)."""
        if ctx.council not in self.clients:
            raise KeyError(ctx.council)
        try:
            return await handle_showing_progress(ctx, self.clients[ctx.council], event)
        except UnknownCouncil:
            raise
        except Exception:
            log.exception("line %s: answering event %s failed; sending an apology", ctx.council,
                          event.webhook_event_id)
            return Reply([text_message(T.sorry)])

    async def _send(self, job: Job, event: LineEvent, reply: Reply) -> str | None:
        """Deliver; the outcome, or None when a retry was scheduled."""
        client = self.clients[job.council]
        now = time.time()
        deadline = job.event_at + self.timing.reply_window
        token = event.reply_token
        started = time.perf_counter()
        if job.mode == "reply" and token and now < deadline:
            try:
                await client.reply(token, reply.messages, encoded=reply.encoded)
                self.runtime.metrics.observe("madoguchi_line_reply_seconds", time.perf_counter() - started)
                return "replied"
            except SendFailed as e:
                if e.retryable:
                    delay = self._delay(job, e)
                    maybe = job.maybe_sent or e.status is None
                    mode = "reply" if time.time() + delay < deadline else "push"
                    self._count_retry(job, e)
                    await self._retry(job, mode=mode, maybe_sent=maybe, after=delay if mode == "reply" else 0)
                    return None
                if e.status == 400 and "reply token" in e.body.lower() and job.maybe_sent:
                    log.info("line %s: event %s: reply token already used by an earlier attempt",
                             job.council, job.event_id)
                    return "assumed"
                if not (e.status == 400 and "reply token" in e.body.lower()):
                    log.warning("line %s: event %s: %s", job.council, job.event_id, e)
                    return "failed"
        return await self._push(job, event, reply)

    async def _push(self, job: Job, event: LineEvent, reply: Reply) -> str | None:
        source = event.source
        to = source.user_id or source.group_id or source.room_id
        if not to:
            log.warning("line %s: event %s: reply token expired and no one to push to", job.council, job.event_id)
            return "failed"
        try:
            await self.clients[job.council].push(to, reply.messages, retry_key=retry_key(job.council, job.event_id),
                                                  encoded=reply.encoded)
            return "pushed"
        except SendFailed as e:
            if e.status == 409:  # LINE already accepted this retry key: delivered once
                return "pushed"
            if e.retryable and time.time() - job.received < self.timing.give_up:
                self._count_retry(job, e)
                await self._retry(job, mode="push", maybe_sent=True, after=self._delay(job, e))
                return None
            log.warning("line %s: event %s: push failed: %s", job.council, job.event_id, e)
            return "failed"

    # -- bookkeeping ---------------------------------------------------------------------
    def _delay(self, job: Job, e: SendFailed | None) -> float:
        t = self.timing
        backoff = min(t.max_backoff, t.backoff * 2 ** (job.attempts - 1)) * random.uniform(0.8, 1.2)
        return max(backoff, e.retry_after or 0.0) if e is not None else backoff

    def _count_retry(self, job: Job, e: SendFailed) -> None:
        self.runtime.metrics.inc("madoguchi_line_retries_total", status=str(e.status or "timeout"))
        log.info("line %s: event %s: %s; retrying", job.council, job.event_id, e)

    async def _retry(self, job: Job, *, mode: str, maybe_sent: bool, after: float | None) -> None:
        delay = self._delay(job, None) if after is None else after
        try:
            await self.outbox.retry(job, self.owner, at=time.time() + delay, mode=mode, maybe_sent=maybe_sent)
        except Exception:
            log.exception("line %s: event %s: could not schedule a retry (the lease will expire)",
                          job.council, job.event_id)
        self._wake_later(delay)

    def _wake_later(self, delay: float) -> None:
        if delay < self.timing.poll:
            asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _finish(self, job: Job, outcome: str, event: LineEvent | None) -> None:
        self._release(job.id)  # the outbox may hold the finish back to share a commit: not the slot
        if not await self.outbox.finish(job, self.owner, outcome=outcome):
            log.warning("line %s: event %s: lease lost before it was marked %s", job.council, job.event_id, outcome)
        status = {"assumed": "replied"}.get(outcome, outcome)
        self.runtime.metrics.inc("madoguchi_line_events_total", type=(event.type if event else "")[:40] or "unknown",
                                 status="error" if status == "failed" else status)

"""What every request handler shares: knowledge, stores, metrics, config."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.config import Config
from adapters.dedupe import Dedupe, MemoryDedupe
from adapters.metrics import Metrics
from adapters.reloader import Reloader
from adapters.stores.conversation import Conversations
from bot.answer import Answer
from bot.assistant import Assistant
from bot.knowledge.live import LiveKnowledge, ReloadResult
from bot.querylog import QueryLog

if TYPE_CHECKING:  # cryptography's import costs a start 20 ms; handoffs are opened on first use
    from adapters.stores.handoffs import Handoffs

__all__ = ["Runtime", "log_reload", "safe_text"]

T = TypeVar("T")
log = logging.getLogger("madoguchi.reload")
MAX_LOGGED_PROBLEMS = 50
_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """`text` with lone UTF-16 surrogates (JSON may carry "\\ud800") replaced: no tokeniser, codec or
    database takes them, and a resident's message must still be answered and logged."""
    return _SURROGATE.sub("\ufffd", text)


def log_reload(result: ReloadResult, *, via: str) -> None:
    """One line for the outcome, then one per error with its file and line."""
    if result.ok:
        log.info("knowledge reloaded via %s: %d services, %d warnings", via, result.services,
                 len(result.warnings), extra={"source": via, "services": result.services})
        return
    errors = result.errors
    log.error("knowledge reload via %s failed with %d errors; still serving the last good knowledge",
              via, len(errors), extra={"source": via, "errors": len(errors)})
    for p in errors[:MAX_LOGGED_PROBLEMS]:
        log.error("%s", p, extra={"source": via, "file": p.file, "line": p.line, "field": p.field})


@dataclass(slots=True)
class Runtime:
    live: LiveKnowledge
    config: Config
    dedupe: Dedupe = field(default_factory=MemoryDedupe)
    metrics: Metrics = field(default_factory=Metrics)
    querylog: QueryLog | None = None
    outbox: Any = None  # adapters.outbox.Outbox; opened in the data dir on first use unless set
    conversations: Conversations = field(default_factory=Conversations)  # per-user state, ~10 minutes
    handoffs: Handoffs | None = None  # open handoffs to staff (needs MADOGUCHI_HANDOFF_KEY)
    desk: object | None = None  # the staff side of handoffs (adapters.slack.handoff.StaffDesk) when Slack is set up
    line_relays: dict[str, object] = field(default_factory=dict)  # council → LINE pushes for staff replies
    background: set[asyncio.Task] = field(default_factory=set)
    max_background: int = 16  # replies sent at once; the rest wait their turn (acks stay fast)
    freeze_heap: bool = False  # the server keeps the knowledge out of full GC scans (see serve.freeze_heap)
    # Connections adapters keep open (API sessions); closed when the app shuts down.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Where emergency alerts go (adapters.alerts): Slack adds its sink when configured.
    alert_sinks: list = field(default_factory=list)
    # Background workers (LINE delivery): started with the app, stopped before connections close.
    workers: list[Any] = field(default_factory=list)
    # Stores that failed (read-only or full data dir, database down): store → cause, shown by /healthz.
    problems: dict[str, str] = field(default_factory=dict)
    match_threads: int = 2  # matching runs on its own bounded pool (not the loop's default one)
    _slots: asyncio.Semaphore | None = field(default=None, repr=False)
    _matching: ThreadPoolExecutor | None = field(default=None, repr=False)
    _reloader: Reloader | None = field(default=None, repr=False)

    async def in_thread(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run CPU-bound core work (matching, rendering) off the event loop, on the matching threads."""
        if self._matching is None:
            self._matching = ThreadPoolExecutor(self.match_threads, thread_name_prefix="matching")
        return await asyncio.get_running_loop().run_in_executor(self._matching, partial(fn, *args, **kwargs))

    @property
    def reloader(self) -> Reloader:
        if self._reloader is None:
            self._reloader = Reloader(self._reload_logged)
        return self._reloader

    def request_reload(self, *, via: str) -> Future:
        """Reload on the reload thread, coalesced with any reload already waiting (see `Reloader`)."""
        return self.reloader.request(via)

    def _reload_logged(self, via: str) -> ReloadResult | None:
        try:
            return self.reload(via=via)
        except Exception:  # e.g. the folder vanished: keep serving, say why
            log.exception("knowledge reload via %s crashed; still serving the last good knowledge", via)
            return None

    async def ask(self, council: str, text: str, *, channel: str, audience: str = "resident") -> Answer:
        """Answer one message, off the event loop, counting it in the metrics.

        The assistant is read once, here: a reload swapping it meanwhile never
        mixes two knowledge bases in one answer.
        """
        return await self.in_thread(self.answer, self.live.assistant, council, text, channel=channel,
                                    audience=audience)

    def answer(self, assistant: Assistant, council: str, text: str, *, channel: str,
               audience: str = "resident") -> Answer:
        """`ask` without the thread hop, for code already on a matching thread: answer and count.

        Both clocks are kept: the wall time is what a resident waits; the thread's CPU time is the
        core's share of the server's CPU, which the wall time overstates when threads share the GIL
        (and understates by the encoder's second thread, when it has one: MADOGUCHI_ENCODER_THREADS)."""
        started, cpu = time.perf_counter(), time.thread_time()
        answer = assistant.ask(council, safe_text(text), audience=audience)
        self.metrics.observe("madoguchi_answer_seconds", time.perf_counter() - started, channel=channel)
        self.metrics.inc("madoguchi_answer_cpu_seconds_total", time.thread_time() - cpu, channel=channel)
        self.metrics.inc("madoguchi_answers_total", council=council, kind=answer.kind, channel=channel)
        return answer

    def open_handoffs(self) -> Handoffs | None:
        """The handoff store, made on first use when MADOGUCHI_HANDOFF_KEY is set."""
        if self.handoffs is None and self.config.handoff_key:
            from adapters.stores.expiring import open_expiring
            from adapters.stores.handoffs import Handoffs

            store = open_expiring(self.config.redis_url, prefix="madoguchi:handoff:")
            self.handoffs = Handoffs(self.config.handoff_key, days=self.config.handoff_days, store=store)
        return self.handoffs

    def reload(self, *, via: str) -> ReloadResult:
        """Reload the knowledge, then count and log the outcome. Blocking: call it in a thread."""
        if self.freeze_heap:
            gc.unfreeze()
        result = self.live.reload()
        if self.freeze_heap:  # the old knowledge is gone; keep the new one out of full collections
            gc.collect()
            gc.freeze()
        self.metrics.inc("madoguchi_reloads_total", result="ok" if result.ok else "failed", via=via)
        log_reload(result, via=via)
        return result

    def spawn(self, coro) -> asyncio.Task:
        """Start work that outlives the webhook response, keeping a reference until done.

        At most `max_background` run at once: under a burst, webhook
        acknowledgements keep the event loop and queued replies follow in order.
        """
        task = asyncio.get_running_loop().create_task(self._bounded(coro))
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def _bounded(self, coro):
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_background)
        async with self._slots:
            return await coro

    def open_outbox(self):
        """The outbox: `self.outbox` when set, else `outbox.sqlite3` in the data dir; in memory
        (and reported) whenever that cannot be written."""
        from adapters.outbox.fallback import FallbackOutbox

        if not isinstance(self.outbox, FallbackOutbox):
            primary = self.outbox
            if primary is None:
                from adapters.outbox.sqlite import SqliteOutbox

                try:
                    primary = SqliteOutbox.in_dir(self.config.data_dir, max_pending=self.config.outbox_max)
                except Exception as exc:  # read-only or unusable data dir: serve anyway, say so
                    self.storage_failed("outbox", exc)
            self.outbox = FallbackOutbox(primary, max_pending=self.config.outbox_max, on_error=self.storage_failed)
        return self.outbox

    def storage_failed(self, store: str, exc: BaseException | None) -> None:
        """Note that `store` failed (`exc`), or works again (None): /healthz and /metrics show it."""
        if exc is None:
            if self.problems.pop(store, None) is not None:
                logging.getLogger("madoguchi.stores").warning("%s works again", store)
            return
        cause = f"{type(exc).__name__}: {exc}"[:300]
        self.metrics.inc("madoguchi_storage_errors_total", store=store)
        if self.problems.get(store) != cause:
            logging.getLogger("madoguchi.stores").error("%s failed (%s); serving without it", store, cause)
        self.problems[store] = cause

    def storage_problems(self) -> dict[str, str]:
        """Every store problem now, including the query log's last failed write."""
        found = dict(self.problems)
        querylog_error = getattr(self.querylog, "problem", None)
        if querylog_error:
            found["querylog"] = querylog_error
        return found

    async def start_workers(self) -> None:
        for worker in self.workers:
            worker.start()

    async def close_connections(self) -> None:
        """Stop the workers, let replies finish, then close the adapters' API sessions (app shutdown)."""
        for worker in self.workers:
            await worker.stop()
        await self.drain()
        for close in self.closers:
            await close()

    async def drain(self, timeout: float = 10.0) -> None:
        """Let background replies finish (at most `timeout` seconds)."""
        pending = [t for t in self.background if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def close(self, timeout: float = 10.0) -> None:
        """Finish replies, write the query log out and close the stores (on shutdown)."""
        await self.drain(timeout)
        stores = (self.querylog, self.dedupe, self.outbox, self.conversations.store,
                  self.handoffs and self.handoffs.store)
        for store in (s for s in stores if s is not None):
            close = getattr(store, "close", None)
            if close is None:
                continue
            try:
                result = close() if inspect.iscoroutinefunction(close) else await self.in_thread(close)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logging.getLogger("madoguchi.stores").exception("closing %s failed", type(store).__name__)
        if self._reloader is not None:
            self._reloader.close()
        if self._matching is not None:
            self._matching.shutdown(wait=False)

"""What every request handler shares: knowledge, stores, metrics, config."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from adapters.config import Config
from adapters.dedupe import Dedupe, MemoryDedupe
from adapters.metrics import Metrics
from bot.answer import Answer
from bot.live import LiveKnowledge
from bot.querylog import QueryLog

__all__ = ["Runtime"]

T = TypeVar("T")


@dataclass(slots=True)
class Runtime:
    live: LiveKnowledge
    config: Config
    dedupe: Dedupe = field(default_factory=MemoryDedupe)
    metrics: Metrics = field(default_factory=Metrics)
    querylog: QueryLog | None = None
    background: set[asyncio.Task] = field(default_factory=set)

    async def in_thread(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run CPU-bound core work (matching) off the event loop."""
        return await asyncio.to_thread(partial(fn, *args, **kwargs))

    async def ask(self, council: str, text: str, *, channel: str, audience: str = "resident") -> Answer:
        """Answer one message, off the event loop, counting it in the metrics."""
        answer = await self.in_thread(self.live.assistant.ask, council, text, audience=audience)
        self.metrics.inc("madoguchi_answers_total", council=council, kind=answer.kind, channel=channel)
        return answer

    def spawn(self, coro) -> asyncio.Task:
        """Start work that outlives the webhook response, keeping a reference until done."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

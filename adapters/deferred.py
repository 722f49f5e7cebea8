"""Routes whose handlers are built in a thread once the server is up.

The channel SDKs take about a second to import (line-bot-sdk alone builds
hundreds of pydantic models); `serve` would answer `/healthz` that much later
if it waited for them. Their paths are routed at once to a `DeferredRoutes`,
which builds the real routes in a background thread when the app starts; a
request arriving before they are ready waits for them (off the event loop),
so nothing is refused — the first webhooks of a fresh process are
acknowledged up to a second later, once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Router
from starlette.types import Receive, Scope, Send

__all__ = ["DeferredRoutes"]

log = logging.getLogger("madoguchi.app")


class DeferredRoutes:
    """An ASGI app serving `build()`'s routes once a thread has built them."""

    def __init__(self, build: Callable[[], Sequence[BaseRoute]], *, name: str = "channels") -> None:
        self._build = build
        self._name = name
        self._router: Future[Router] = Future()
        self._started = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._router.done()

    def start(self) -> None:
        """Begin building in a daemon thread (again is a no-op)."""
        if self._started.acquire(blocking=False):
            threading.Thread(target=self._run, name=f"build-{self._name}", daemon=True).start()

    async def built(self) -> None:
        """Wait until the routes are built (or their building failed, which requests report)."""
        self.start()
        try:
            await asyncio.wrap_future(self._router)
        except Exception:
            pass

    def _run(self) -> None:
        try:
            self._router.set_result(Router(routes=list(self._build())))
            log.info("%s ready", self._name)
        except BaseException as exc:  # kept for every request to report, not lost in the thread
            log.exception("%s could not be built", self._name)
            self._router.set_exception(exc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.start()  # served without a lifespan (a test, an embedding app): build on first use
        try:
            router = self._router.result() if self._router.done() else await asyncio.wrap_future(self._router)
        except Exception:
            await PlainTextResponse("service unavailable", status_code=503)(scope, receive, send)
            return
        await router(scope, receive, send)

"""The ASGI application: one Starlette app hosting every channel of every council.

Routes: `GET /healthz`, `GET /metrics`, `POST /line/<council>` (one per council
with LINE credentials), `POST /slack/events`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route

from adapters.deferred import DeferredRoutes
from adapters.runtime import Runtime

SLACK_PATH = "/slack/events"  # adapters.slack.routes.PATH, named here so the SDK loads later

__all__ = ["create_app"]

log = logging.getLogger("madoguchi.app")


def _health(runtime: Runtime):
    async def healthz(request: Request) -> JSONResponse:
        live = runtime.live
        k = live.assistant.knowledge
        storage = runtime.storage_problems()
        body = {
            "status": "ok" if live.last.ok and not storage else "degraded",
            "councils": sorted(k.councils),
            "services": len(k.services),
            "loaded_at": live.last_good.at,
            "reloads": live.reloads,
            "reload_failures": live.failures,
            # Dense retrieval: the model, or why answers are lexical only.
            "encoder": live.encoder.model if live.encoder.on else f"off: {live.encoder.reason}",
        }
        if storage:
            body["storage"] = storage  # which store failed and why; answers go on without it
        if not live.last.ok:
            body["last_reload_errors"] = [str(p) for p in live.last.errors[:50]]
        return JSONResponse(body)

    return healthz


def _metrics(runtime: Runtime):
    async def metrics(request: Request) -> PlainTextResponse:
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    return metrics


def _channel_routes(runtime: Runtime) -> list[BaseRoute]:
    from adapters.line.routes import line_routes
    from adapters.slack.routes import slack_routes

    return [*line_routes(runtime), *slack_routes(runtime)]


def create_app(runtime: Runtime, *, defer_channels: bool = False) -> Starlette:
    """With `defer_channels` (the server) LINE and Slack routes are built in a
    thread after start, so `/healthz` does not wait for their SDKs' imports."""
    later = DeferredRoutes(lambda: _channel_routes(runtime)) if defer_channels else None
    routes = [
        Route("/healthz", _health(runtime), methods=["GET"]),
        Route("/metrics", _metrics(runtime), methods=["GET"]),
        *([Route("/line/{council}", later), Route(SLACK_PATH, later)] if later else _channel_routes(runtime)),
    ]
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        starting = None
        if later is not None:  # the LINE delivery workers exist once the deferred routes are built
            later.start()

            async def start_when_built() -> None:
                await later.built()
                await runtime.start_workers()

            starting = asyncio.get_running_loop().create_task(start_when_built())
        else:
            await runtime.start_workers()
        yield
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        await runtime.close_connections()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    return app

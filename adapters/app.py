"""The ASGI application: one Starlette app hosting every channel of every council.

Routes: `GET /healthz`, `GET /metrics`, `POST /line/<council>` (one per council
with LINE credentials), `POST /slack/events`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from adapters.runtime import Runtime

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


def create_app(runtime: Runtime) -> Starlette:
    from adapters.line.routes import line_routes
    from adapters.slack.routes import slack_routes

    routes = [
        Route("/healthz", _health(runtime), methods=["GET"]),
        Route("/metrics", _metrics(runtime), methods=["GET"]),
        *line_routes(runtime),
        *slack_routes(runtime),
    ]
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start_workers()
        yield
        await runtime.close_connections()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    return app

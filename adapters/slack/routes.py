"""`POST /slack/events`: events, slash commands and buttons, through bolt's Starlette adapter."""

from __future__ import annotations

import logging

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.runtime import Runtime
from adapters.slack.app import build_slack_app

__all__ = ["slack_routes", "PATH"]

PATH = "/slack/events"
log = logging.getLogger("madoguchi.slack")


def slack_routes(runtime: Runtime) -> list[Route]:
    """The Slack route, or none when SLACK_SIGNING_SECRET / SLACK_BOT_TOKEN are not set."""
    config = runtime.config
    if not (config.slack_signing_secret and config.slack_bot_token):
        return []
    handler = AsyncSlackRequestHandler(build_slack_app(runtime))
    runtime.metrics.describe("madoguchi_slack_rejected_total", "counter", "Slack requests refused (signature, size)")

    async def events(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > config.max_body:
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="size")
            return PlainTextResponse("body too large or without length", status_code=413)
        response = await handler.handle(request)
        if response.status_code == 401:
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="signature")
        return response

    log.info("Slack: %s enabled (API %s)", PATH, config.slack_api)
    return [Route(PATH, events, methods=["POST"])]

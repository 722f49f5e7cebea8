"""`POST /slack/events`: events, slash commands and buttons, through bolt's Starlette adapter.

bolt parses a body before it checks the signature and answers 500 when the
body does not parse, so this route checks the signature first (with
slack_sdk's own verifier, after the timestamp header is known to be whole
seconds and the body UTF-8) and refuses bodies that are not Slack's shapes
(`shape.well_formed`) with 400; only then does bolt see the request. Should
bolt still fail on some body, the answer is 400 and one log line: a webhook
never answers 5xx, which would only make Slack retry the same body.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.runtime import Runtime
from adapters.slack.app import build_slack_app
from adapters.slack.shape import valid_timestamp, well_formed

__all__ = ["slack_routes", "PATH"]

PATH = "/slack/events"
log = logging.getLogger("madoguchi.slack")


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def slack_routes(runtime: Runtime) -> list[Route]:
    """The Slack route, or none when SLACK_SIGNING_SECRET / SLACK_BOT_TOKEN are not set."""
    config = runtime.config
    if not (config.slack_signing_secret and config.slack_bot_token):
        return []
    handler = AsyncSlackRequestHandler(build_slack_app(runtime))
    verifier = SignatureVerifier(config.slack_signing_secret)
    runtime.metrics.describe("madoguchi_slack_rejected_total", "counter", "Slack requests refused (signature, size)")

    async def events(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > config.max_body:
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="size")
            return PlainTextResponse("body too large or without length", status_code=413)
        body = await request.body()  # Starlette caches it: bolt reads the same bytes
        if not (valid_timestamp(request.headers.get("x-slack-request-timestamp")) and _utf8(body)
                and verifier.is_valid_request(body, dict(request.headers))):
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="signature")
            return PlainTextResponse("invalid request", status_code=401)
        if not well_formed(body, request.headers.get("content-type", "")):
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="malformed")
            return PlainTextResponse("malformed body", status_code=400)
        try:
            response = await handler.handle(request)
        except Exception as exc:
            response = PlainTextResponse("", status_code=500)
            log.warning("Slack: bolt failed on a verified body (%s)", type(exc).__name__)
        if response.status_code >= 500:  # a shape bolt cannot take: refuse it, Slack must not retry it
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="unhandled")
            return PlainTextResponse("unsupported body", status_code=400)
        if response.status_code == 401:
            runtime.metrics.inc("madoguchi_slack_rejected_total", reason="signature")
        return response

    log.info("Slack: %s enabled (API %s)", PATH, config.slack_api)
    return [Route(PATH, events, methods=["POST"])]

"""`POST /line/<council>`: verify, parse, hand each event to a background task, answer 200.

The order is the platform's: the X-Line-Signature (HMAC-SHA256 of the raw
body with the council's channel secret, compared in constant time by
line-bot-sdk) is checked before the body is parsed or anything is done. The
webhook answers at once; replies go out from `runtime.spawn` tasks, so the
reply token's short life is spent on the reply, not on LINE's retry timer.
"""

from __future__ import annotations

import logging
import time

from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.config import LineChannel, env_suffix
from adapters.line.client import LineClient
from adapters.line.events import Context, respond
from adapters.line.relay import StaffRelay
from adapters.runtime import Runtime

__all__ = ["line_routes", "LineWebhook"]

log = logging.getLogger("madoguchi.line")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class LineWebhook:
    """One council's webhook: its own channel secret, token and API client."""

    def __init__(self, runtime: Runtime, channel: LineChannel) -> None:
        self.runtime = runtime
        self.council = channel.council
        self.parser = WebhookParser(channel.secret)
        self.client = LineClient(channel, endpoint=runtime.config.line_api)
        runtime.closers.append(self.client.close)
        name = runtime.live.assistant.council(channel.council).short_name
        runtime.line_relays[channel.council] = StaffRelay(self.client, council_name=name)

    async def endpoint(self, request: Request) -> Response:
        started = time.perf_counter()
        status, response = await self._receive(request)
        metrics = self.runtime.metrics
        metrics.inc("madoguchi_requests_total", channel="line", status=status)
        metrics.observe("madoguchi_webhook_seconds", time.perf_counter() - started, channel="line")
        return response

    async def _receive(self, request: Request) -> tuple[str, Response]:
        signature = request.headers.get("x-line-signature")
        if not signature:
            log.warning("line %s: request without X-Line-Signature refused", self.council)
            return "missing_signature", PlainTextResponse("missing signature", status_code=400)
        try:
            raw = await _read_body(request, self.runtime.config.max_body)
        except _TooLarge:
            log.warning("line %s: body over %d bytes refused", self.council, self.runtime.config.max_body)
            return "too_large", PlainTextResponse("body too large", status_code=413)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:  # LINE always sends UTF-8 JSON; this cannot carry a valid signature
            return "bad_signature", PlainTextResponse("invalid signature", status_code=401)
        try:
            payload = self.parser.parse(body, signature, as_payload=True)
        except InvalidSignatureError:
            log.warning("line %s: invalid X-Line-Signature refused", self.council)
            return "bad_signature", PlainTextResponse("invalid signature", status_code=401)
        except Exception as e:  # signed, but not a webhook body
            log.warning("line %s: unreadable webhook body (%s)", self.council, type(e).__name__)
            return "bad_request", PlainTextResponse("bad request", status_code=400)
        events = payload.events or []
        if not events:  # the console's 「検証」 request
            return "verify", PlainTextResponse("OK")
        ctx = Context(self.runtime, self.council, bot_user_id=payload.destination)
        for event in events:
            self.runtime.spawn(respond(ctx, self.client, event))
        return "ok", PlainTextResponse("OK")


def line_routes(runtime: Runtime) -> list[Route]:
    """One route per council with LINE credentials; the others are named in the log."""
    metrics = runtime.metrics
    metrics.describe("madoguchi_requests_total", "counter", "Webhook requests by channel and outcome.")
    metrics.describe("madoguchi_webhook_seconds", "histogram", "Time to answer a webhook request.")
    metrics.describe("madoguchi_line_events_total", "counter", "LINE events by type and what became of them.")
    metrics.describe("madoguchi_line_reply_seconds", "histogram", "Time LINE took to accept a reply.")
    metrics.describe("madoguchi_feedback_total", "counter", "役に立った？ answers by channel and value.")
    metrics.describe("madoguchi_line_loading_total", "counter", "Loading animations shown for slow answers.")
    councils = sorted(runtime.live.assistant.knowledge.councils)
    routes: list[Route] = []
    for council in councils:
        channel = runtime.config.line.get(council)
        if channel is None:
            sfx = env_suffix(council)
            log.info("line: no LINE channel for %s (set LINE_CHANNEL_SECRET__%s and "
                     "LINE_CHANNEL_ACCESS_TOKEN__%s); /line/%s is not served", council, sfx, sfx, council)
            continue
        routes.append(Route(f"/line/{council}", LineWebhook(runtime, channel).endpoint, methods=["POST"]))
        log.info("line: serving /line/%s", council)
    for council in sorted(set(runtime.config.line) - set(councils)):
        log.warning("line: credentials for %s, which is not in the knowledge; ignored", council)
    return routes

"""`POST /line/<council>`: verify, parse, record each event in the outbox, answer 200.

The order is the platform's: the X-Line-Signature (HMAC-SHA256 of the raw
body with the council's channel secret, compared in constant time by
line-bot-sdk) is checked before the body is parsed or anything is done.
The body is then parsed once (`adapters.line.inbound`), not into the SDK's
models.
Events that need an answer are committed to the outbox (`adapters.outbox`)
before the 200, since LINE never redelivers an acknowledged event; the
delivery workers (`adapters.line.delivery`) answer them. When more events
are waiting than can be answered in time, or the outbox cannot be written,
the answer is 503 and LINE redelivers later (with redelivery turned on in
the console, see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

from linebot.v3.webhook import SignatureValidator
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.config import LineChannel, env_suffix
from adapters.line.client import LineClient
from adapters.line.delivery import LineDelivery, Timing
from adapters.line.events import needs_answer
from adapters.line.inbound import webhook_events
from adapters.line.relay import StaffRelay
from adapters.outbox import Incoming, OutboxFull
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

    def __init__(self, runtime: Runtime, channel: LineChannel, *, delivery: LineDelivery) -> None:
        self.runtime = runtime
        self.council = channel.council
        self.signature = SignatureValidator(channel.secret)
        self.delivery = delivery

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
        if not self.signature.validate(body, signature):
            log.warning("line %s: invalid X-Line-Signature refused", self.council)
            return "bad_signature", PlainTextResponse("invalid signature", status_code=401)
        try:
            destination, events = webhook_events(json.loads(body))
        except (ValueError, RecursionError) as e:  # signed, but not a webhook body (JSONDecodeError is a ValueError)
            log.warning("line %s: unreadable webhook body (%s)", self.council, type(e).__name__)
            return "bad_request", PlainTextResponse("bad request", status_code=400)
        if not events:  # the console's 「検証」 request
            return "verify", PlainTextResponse("OK")
        items = self._incoming(events, destination=destination)
        metrics = self.runtime.metrics
        try:
            fresh = await self.delivery.accept(items) if items else []
        except OutboxFull as e:
            metrics.inc("madoguchi_line_refused_total", reason="full")
            log.warning("line %s: outbox full, 503 so that LINE redelivers (%s)", self.council, e)
            return "busy", PlainTextResponse("busy, retry later", status_code=503)
        except Exception as e:  # the store failed: not accepted, so LINE must redeliver
            metrics.inc("madoguchi_line_refused_total", reason="store")
            log.error("line %s: outbox write failed (%s); 503 so that LINE redelivers", self.council,
                      type(e).__name__)
            return "store_error", PlainTextResponse("unavailable, retry later", status_code=503)
        for item, new in zip(items, fresh):
            if not new:
                metrics.inc("madoguchi_line_events_total", type="unknown", status="duplicate")
                log.info("line %s: duplicate event %s ignored", self.council, item.event_id)
        return "ok", PlainTextResponse("OK")

    def _incoming(self, events: list[dict], *, destination: str | None) -> list[Incoming]:
        """The events worth answering, as outbox rows (the event's own JSON, as LINE sent it)."""
        items = []
        oldest = time.time() - self.runtime.config.max_event_age
        for raw in events:
            if not needs_answer(raw):
                self.runtime.metrics.inc("madoguchi_line_events_total", type=str(raw.get("type"))[:40],
                                         status="ignored")
                continue
            text = json.dumps({"destination": destination, "event": raw})  # ASCII: lone surrogates escaped
            event_id = str(raw.get("webhookEventId") or hashlib.sha256(text.encode()).hexdigest())
            ts = raw.get("timestamp")
            at = ts / 1000 if isinstance(ts, (int, float)) and 0 < ts < 1e15 else time.time()  # NaN: now
            if at < oldest:  # a replay of a captured request, or a redelivery too late to be of use
                self.runtime.metrics.inc("madoguchi_line_events_total", type=str(raw.get("type"))[:40], status="stale")
                log.warning("line %s: event %s from %.0f s ago refused (MADOGUCHI_MAX_EVENT_AGE)", self.council,
                            event_id, time.time() - at)
                continue
            items.append(Incoming("line", self.council, event_id, text, at))
        return items


def line_routes(runtime: Runtime) -> list[Route]:
    """One route per council with LINE credentials; the others are named in the log."""
    metrics = runtime.metrics
    metrics.describe("madoguchi_requests_total", "counter", "Webhook requests by channel and outcome.")
    metrics.describe("madoguchi_webhook_seconds", "histogram", "Time to answer a webhook request.")
    metrics.describe("madoguchi_line_events_total", "counter", "LINE events by type and what became of them.")
    metrics.describe("madoguchi_line_reply_seconds", "histogram", "Time LINE took to accept a reply.")
    metrics.describe("madoguchi_feedback_total", "counter", "役に立った？ answers by channel and value.")
    metrics.describe("madoguchi_line_refused_total", "counter", "LINE webhooks answered 503 (outbox full or failing).")
    metrics.describe("madoguchi_line_retries_total", "counter", "LINE sends retried, by the status that failed.")
    metrics.describe("madoguchi_line_loading_total", "counter", "Loading animations shown for slow answers.")
    councils = sorted(runtime.live.assistant.knowledge.councils)
    routes: list[Route] = []
    webhooks: list[tuple[str, LineChannel]] = []
    for council in councils:
        channel = runtime.config.line.get(council)
        if channel is None:
            sfx = env_suffix(council)
            log.info("line: no LINE channel for %s (set LINE_CHANNEL_SECRET__%s and "
                     "LINE_CHANNEL_ACCESS_TOKEN__%s); /line/%s is not served", council, sfx, sfx, council)
            continue
        webhooks.append((council, channel))
    for council in sorted(set(runtime.config.line) - set(councils)):
        log.warning("line: credentials for %s, which is not in the knowledge; ignored", council)
    if not webhooks:
        return routes
    config = runtime.config
    clients = {c: LineClient(ch, endpoint=config.line_api, timeout=config.line_timeout) for c, ch in webhooks}
    runtime.closers.extend(client.close for client in clients.values())
    delivery = LineDelivery(runtime, clients, timing=Timing(reply_window=config.reply_window))
    runtime.workers.append(delivery)
    for council, channel in webhooks:  # staff answers to handoffs are pushed with the same client
        name = runtime.live.assistant.council(council).short_name
        runtime.line_relays[council] = StaffRelay(clients[council], council_name=name)
        hook = LineWebhook(runtime, channel, delivery=delivery)
        routes.append(Route(f"/line/{council}", hook.endpoint, methods=["POST"]))
        log.info("line: serving /line/%s", council)
    return routes

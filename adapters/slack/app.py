"""The bolt `AsyncApp`: verification, de-duplication and the listeners.

Bolt checks the v0 signature and the 5-minute timestamp window (401 otherwise)
before anything else runs. Every listener acknowledges first (bolt acks events
itself) and answers in `runtime.spawn`, so Slack's 3-second rule holds however
slow matching or a reload is, and shutdown waits for replies in flight.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runtime import Runtime
from adapters.slack.alerts import SlackAlertSink
from adapters.slack.blocks import PICK_ACTION, council_of_block
from adapters.slack.handlers import handle_pick, handle_text
from adapters.slack.handoff import CLAIM, CLOSE, StaffDesk
from adapters.slack.replies import EphemeralReply, ThreadReply
from adapters.slack.routing import clean_text
from adapters.slack.staff import register_staff
from adapters.slack.state import SlackState

__all__ = ["build_slack_app"]

log = logging.getLogger("madoguchi.slack")
WORKING = "確認しています…"


def _dedupe_key(body: dict[str, Any]) -> str | None:
    """The id Slack repeats when it redelivers: event_id for events, trigger_id for interactions."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"slack:trigger:{body['trigger_id']}"
    return None


def build_slack_app(runtime: Runtime, *, state: SlackState | None = None, socket_mode: bool = False) -> AsyncApp:
    """A bolt app answering through `config.slack_api` (a local fake in tests)."""
    config = runtime.config
    state = state or SlackState(runtime)
    base_url = config.slack_api if config.slack_api.endswith("/") else config.slack_api + "/"
    client = AsyncWebClient(token=config.slack_bot_token, base_url=base_url)
    # 429: wait as long as Retry-After says, then send again; 5xx: once more. (Connection errors: the SDK's default.)
    client.retry_handlers += [AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                              AsyncServerErrorRetryHandler(max_retry_count=2)]
    app = AsyncApp(
        client=client,
        signing_secret=config.slack_signing_secret or "",
        request_verification_enabled=not socket_mode,  # socket mode is authenticated by the app token
        process_before_response=False,
        logger=log,
    )
    m = runtime.metrics
    m.describe("madoguchi_slack_requests_total", "counter", "Slack requests accepted, by kind")
    m.describe("madoguchi_slack_duplicates_total", "counter", "Slack redeliveries (X-Slack-Retry-Num, repeated ids) dropped")
    m.describe("madoguchi_slack_errors_total", "counter", "Slack replies that failed with an error")
    m.describe("madoguchi_alerts_total", "counter", "Emergency alerts to staff, by council and result (sent, off, failed)")
    m.describe("madoguchi_alerts_acknowledged_total", "counter", "Emergency alerts staff marked 対応しました")
    m.describe("madoguchi_knowledge_edits_total", "counter", "Knowledge edits from Slack, by result (written, rejected)")
    runtime.alert_sinks.append(SlackAlertSink(app.client, channels=lambda: state.settings.alerts, book=state.alerts,
                                              metrics=m))

    @app.middleware
    async def once(body: dict[str, Any], next: Any) -> BoltResponse | None:
        """Runs after bolt's signature check: a retry or repeated id is acknowledged, not answered."""
        key = _dedupe_key(body)
        if key is not None and not await runtime.dedupe.first(key):
            m.inc("madoguchi_slack_duplicates_total")
            return BoltResponse(status=200, body="")
        m.inc("madoguchi_slack_requests_total", kind=str(body.get("type") or ("command" if "command" in body else "")))
        return await next()

    def thread_reply(client: AsyncWebClient, event: dict[str, Any]) -> ThreadReply:
        return ThreadReply(client, channel=event.get("channel", ""), user=event.get("user"),
                           thread_ts=event.get("thread_ts") or event.get("ts"))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel", "").startswith("D"):  # DMs arrive as message.im; answer them once, there
            return
        runtime.spawn(handle_text(state, thread_reply(client, event), text=clean_text(event.get("text") or ""),
                                  channel=event.get("channel"), user=event.get("user")))

    desk = StaffDesk(runtime, state, app.client)
    runtime.desk = desk

    @app.event("message")
    async def on_message(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, other bots: not questions
        if event.get("thread_ts") and event.get("channel_type") in ("channel", "group"):
            runtime.spawn(desk.on_staff_message(event))  # perhaps a reply to a resident who asked for a person
            return
        if event.get("channel_type") != "im":
            return
        runtime.spawn(handle_text(state, thread_reply(client, event), text=clean_text(event.get("text") or ""),
                                  channel=event.get("channel"), user=event.get("user")))

    @app.command(re.compile(r"^/"))  # whatever the command is named in the manifest
    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = clean_text(command.get("text") or "")
        if text.casefold() in ("reload", "再読み込み", "リロード"):
            await ack(WORKING)  # reloading takes a second or two: say so at once
        else:
            await ack()
        runtime.spawn(handle_text(state, EphemeralReply(respond), text=text, channel=command.get("channel_id"),
                                  user=command.get("user_id")))

    @app.action(re.compile(rf"^{PICK_ACTION}:"))
    async def on_pick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                      respond: AsyncRespond) -> None:
        await ack()
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        if container.get("is_ephemeral") or not channel or not message:
            reply = EphemeralReply(respond)
        else:
            reply = ThreadReply(client, channel=channel, thread_ts=message.get("thread_ts") or message.get("ts"),
                                user=(body.get("user") or {}).get("id"))
        runtime.spawn(handle_pick(state, reply, council=council_of_block(action.get("block_id")) or "",
                                  value=str(action.get("value", ""))))

    @app.action(CLAIM)
    async def on_claim(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        runtime.spawn(desk.on_claim(body))

    @app.action(CLOSE)
    async def on_close(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        runtime.spawn(desk.on_close(body))

    register_staff(app, state)
    return app

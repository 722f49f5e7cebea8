"""Emergency alerts in the council's staff channel, with a 対応しました button.

`SlackAlertSink` is installed on the runtime when the Slack app is built; it
posts only for councils listed under `alerts:` in the settings file (off by
default). The message says the council, the kinds of danger, the time and the
masked message — never who wrote it. Pressing 対応しました records who took it
and when, replaces the button with that line, and shows in the App Home.
The record is kept in memory (the newest `KEEP` alerts): a restart forgets
acknowledgements, the channel history keeps them.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from adapters.alerts import Alert
from adapters.metrics import Metrics
from adapters.slack.blocks import escape

__all__ = ["ACK_ACTION", "Raised", "AlertBook", "SlackAlertSink", "alert_blocks", "acknowledge", "when"]

ACK_ACTION = "madoguchi_ack"
KEEP = 500
JST = ZoneInfo("Asia/Tokyo")
log = logging.getLogger("madoguchi.alerts")


def when(at: float) -> str:
    return datetime.fromtimestamp(at, JST).strftime("%Y-%m-%d %H:%M")


@dataclass(slots=True)
class Raised:
    id: str
    alert: Alert
    channel: str = ""
    ts: str = ""
    acked_by: str | None = None
    acked_at: float | None = None


class AlertBook:
    """The alerts raised since start, newest last; looked up by id when 対応しました is pressed."""

    def __init__(self, *, keep: int = KEEP) -> None:
        self._items: deque[Raised] = deque(maxlen=keep)
        self._ids = itertools.count(1)

    def add(self, alert: Alert) -> Raised:
        raised = Raised(f"a{int(alert.at)}-{next(self._ids)}", alert)
        self._items.append(raised)
        return raised

    def get(self, alert_id: str) -> Raised | None:
        return next((r for r in self._items if r.id == alert_id), None)

    def of(self, council: str) -> list[Raised]:
        """The council's alerts, newest first."""
        return [r for r in reversed(self._items) if r.alert.council == council]


def _kinds(alert: Alert) -> str:
    return "、".join(alert.kinds) or "（種類不明）"


def alert_blocks(raised: Raised) -> list[dict]:
    a = raised.alert
    head = (f"*緊急の相談がありました* ｜ {escape(a.council_name)}\n"
            f"種類：{escape(_kinds(a))} ｜ {when(a.at)} ｜ {escape(a.channel.upper())}")
    blocks = [SectionBlock(text=MarkdownTextObject(text=head)),
              SectionBlock(text=PlainTextObject(text=f"「{a.text}」", emoji=False)),
              ContextBlock(elements=[MarkdownTextObject(
                  text="利用者には相談先の電話番号を先に案内しました。番号などは伏せ字にしています。利用者を特定する情報は送っていません。")])]
    if raised.acked_by:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"✅ <@{escape(raised.acked_by)}> が対応しました（{when(raised.acked_at or a.at)}）")]))
    else:
        blocks.append(ActionsBlock(block_id=f"madoguchi_alert:{a.council}", elements=[ButtonElement(
            text=PlainTextObject(text="対応しました"), action_id=ACK_ACTION, value=raised.id, style="primary")]))
    return [b.to_dict() for b in blocks]


class SlackAlertSink:
    """Posts alerts to `settings.alerts[council]`; silent for councils without a channel."""

    def __init__(self, client: AsyncWebClient, *, channels, book: AlertBook, metrics: Metrics) -> None:
        self.client = client
        self.channels = channels  # () -> dict[council, channel]: read at send time, so a reload applies
        self.book = book
        self.metrics = metrics

    async def send(self, alert: Alert) -> bool:
        channel = self.channels().get(alert.council)
        if not channel:
            return False
        raised = self.book.add(alert)
        text = f"緊急の相談がありました（{alert.council_name}・{_kinds(alert)}）"
        resp = await self.client.chat_postMessage(channel=channel, text=text, blocks=alert_blocks(raised),
                                                  unfurl_links=False)
        raised.channel, raised.ts = channel, str(resp.get("ts") or "")
        log.info("emergency alert posted for %s (%s)", alert.council, ",".join(alert.kinds),
                 extra={"council": alert.council})
        return True


async def acknowledge(client: AsyncWebClient, book: AlertBook, metrics: Metrics, *, alert_id: str,
                      user: str, channel: str | None, ts: str | None) -> Raised | None:
    """Record `user` as having taken the alert, once; the message then shows who and when."""
    raised = book.get(alert_id)
    if raised is None or raised.acked_by:
        return raised
    raised.acked_by, raised.acked_at = user, time.time()
    metrics.inc("madoguchi_alerts_acknowledged_total", council=raised.alert.council)
    log.info("emergency alert %s acknowledged by %s", alert_id, user, extra={"council": raised.alert.council})
    channel, ts = channel or raised.channel, ts or raised.ts
    if channel and ts:
        await client.chat_update(channel=channel, ts=ts, text="緊急の相談（対応済み）", blocks=alert_blocks(raised))
    return raised

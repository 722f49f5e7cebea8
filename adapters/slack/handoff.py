"""The staff side of 相談につなぐ: a thread in the council's staff channel.

A resident who asked for a person and agreed gets a thread: the question
(masked), the bot's last answer, and the buttons 担当します and 終了する.
The resident's further messages arrive in that thread; a staff member's
reply in it is pushed to the resident on LINE, marked as from staff; 終了する
tells the resident, and forgets the LINE user id.

The council's staff channel is the one the Slack settings file names for
its emergency alerts (`alerts: {council: channel}`), else the first channel
it maps to that council (`channels:`). Staff
replies arrive as `message` events, so the app subscribes to
`message.channels` (and `message.groups` for a private channel).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runtime import Runtime
from adapters.slack.blocks import escape, fit, sections
from adapters.slack.state import SlackState
from adapters.stores.handoffs import Handoff

__all__ = ["StaffDesk", "Relay", "CLAIM", "CLOSE"]

log = logging.getLogger("madoguchi.slack")
CLAIM = "madoguchi_handoff_claim"
CLOSE = "madoguchi_handoff_close"


class Relay(Protocol):
    """How a staff reply reaches the resident (LINE registers one per council in `runtime.line_relays`)."""

    async def staff_reply(self, user: str, text: str) -> None: ...

    async def closed(self, user: str) -> None: ...


class StaffDesk:
    def __init__(self, runtime: Runtime, state: SlackState, client: AsyncWebClient) -> None:
        self.runtime = runtime
        self.state = state
        self.client = client
        m = runtime.metrics
        m.describe("madoguchi_handoffs_total", "counter", "Handoffs to staff: opened, forwarded, staff_reply, "
                   "claimed, closed")

    # -- for the LINE side ----------------------------------------------------------
    def channel(self, council: str) -> str | None:
        settings = self.state.settings
        return settings.alerts.get(council) or next((ch for ch, c in settings.channels.items() if c == council), None)

    def available(self, council: str) -> bool:
        return self.channel(council) is not None and council in self.runtime.line_relays

    async def open(self, *, council: str, question: str, last: str, after_hours: str | None) -> tuple[str, str]:
        """Start the thread; returns (channel, thread ts)."""
        channel = self.channel(council)
        if channel is None:
            raise LookupError(f"no staff channel for {council}")
        name = self.runtime.live.assistant.council(council).short_name
        blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=f"*LINEからの相談*（{escape(name)}）"))]
        blocks += sections([question], markdown=False)
        notes = [f"直前の案内：{escape(last)}" if last else "直前の案内：なし",
                 "数字は伏せてあります。このスレッドへの返信が、職員からとして住民のLINEに届きます。"]
        if after_hours:
            notes.append(f"受付時間外に届きました（住民には{escape(after_hours)}ごろ読むと伝えています）。")
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=n) for n in notes]))
        blocks.append(ActionsBlock(block_id="madoguchi_handoff", elements=[
            ButtonElement(text=PlainTextObject(text="担当します"), action_id=CLAIM, value=council, style="primary"),
            ButtonElement(text=PlainTextObject(text="終了する"), action_id=CLOSE, value=council, style="danger",
                          confirm=ConfirmObject(title="相談を終了しますか？", text="住民に終了を伝え、LINEの利用者IDを削除します。",
                                                confirm="終了する", deny="戻る")),
        ]))
        response = await self.client.chat_postMessage(channel=channel, text=f"LINEからの相談：{question[:200]}",
                                                      blocks=fit(blocks))
        return channel, str(response["ts"])

    async def forward(self, h: Handoff, text: str) -> None:
        """A resident's further message, into the thread (plain text: nothing in it can ping anyone)."""
        await self.client.chat_postMessage(channel=h.channel, thread_ts=h.thread, text=f"住民：{text[:200]}",
                                           blocks=fit(sections([f"住民：{text}"], markdown=False)))

    # -- Slack events ---------------------------------------------------------------
    async def on_staff_message(self, event: dict[str, Any]) -> None:
        """A reply in a handoff thread goes to the resident; other threads are not ours."""
        handoffs = self.runtime.handoffs
        text = (event.get("text") or "").strip()
        if handoffs is None or not text:
            return
        h = await handoffs.by_thread(event.get("channel", ""), event.get("thread_ts", ""))
        if h is None:
            return
        relay = self.runtime.line_relays.get(h.council)
        try:
            if relay is None:
                raise LookupError(f"no LINE channel for {h.council}")
            await relay.staff_reply(h.user, _plain(text))
            self.runtime.metrics.inc("madoguchi_handoffs_total", event="staff_reply")
        except Exception as e:
            log.warning("handoff: staff reply not delivered to LINE (%s)", type(e).__name__)
            await self._note(h, "⚠ この返信は住民に届けられませんでした。時間をおいて送り直すか、電話で連絡してください。")

    async def on_claim(self, body: dict[str, Any]) -> None:
        h = await self._handoff_of(body)
        staff = (body.get("user") or {}).get("id", "")
        if h is None or self.runtime.handoffs is None:
            return
        if h.claimed_by:
            await self._note(h, f"<@{h.claimed_by}> さんがすでに担当しています。")
            return
        await self.runtime.handoffs.claim(h, staff)
        self.runtime.metrics.inc("madoguchi_handoffs_total", event="claimed")
        await self._note(h, f"<@{staff}> さんが担当します。")

    async def on_close(self, body: dict[str, Any]) -> None:
        h = await self._handoff_of(body)
        if h is None or self.runtime.handoffs is None:
            return
        relay = self.runtime.line_relays.get(h.council)
        try:
            if relay is not None:
                await relay.closed(h.user)
        except Exception as e:  # close anyway: the id must not outlive the handoff
            log.warning("handoff: closing message not delivered to LINE (%s)", type(e).__name__)
        await self.runtime.handoffs.close(h)
        self.runtime.metrics.inc("madoguchi_handoffs_total", event="closed")
        staff = (body.get("user") or {}).get("id", "")
        await self._note(h, f"<@{staff}> さんが相談を終了しました。住民に伝え、LINEの利用者IDを削除しました。")

    async def _handoff_of(self, body: dict[str, Any]) -> Handoff | None:
        if self.runtime.handoffs is None:
            return None
        channel = (body.get("channel") or {}).get("id", "")
        message = body.get("message") or {}
        return await self.runtime.handoffs.by_thread(channel, message.get("thread_ts") or message.get("ts", ""))

    async def _note(self, h: Handoff, text: str) -> None:
        await self.client.chat_postMessage(channel=h.channel, thread_ts=h.thread, text=text)


def _plain(text: str) -> str:
    """Slack's wire text as staff typed it: entities decoded, links to their label."""
    from adapters.slack.routing import clean_text

    return "\n".join(clean_text(line) for line in text.split("\n"))

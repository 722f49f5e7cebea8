"""One handler per LINE event kind, and the query-log record of what was answered.

Each handler returns a `Reply` (messages, plus what to keep in the query log)
or None when the event needs no answer. `adapters.line.delivery` calls them
(through `handle_showing_progress`, which shows LINE's loading animation when
an answer is slow) for each event taken from the outbox, sends the reply and
then `record`s it — so a slow log never delays the resident.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from adapters.alerts import alert_for, raise_alert
from adapters.line import dialogue
from adapters.line.calls import window_message
from adapters.line.client import LineClient, SendFailed
from adapters.line.context import Context, Reply
from adapters.line.flex import choices_messages, menu_item, render, text_message
from adapters.line.inbound import Content, LineEvent
from adapters.line.limits import Message
from adapters.line.postback import Postback, decode
from adapters.line.texts import KIND_NAMES, T
from adapters.runtime import safe_text
from bot.messages import M
from bot.querylog import entry_for
from bot.querylog.writer import QueuedStore

__all__ = ["Context", "Reply", "handle", "handle_showing_progress", "needs_answer", "record", "HANDLERS"]

log = logging.getLogger("madoguchi.line")


# -- helpers ------------------------------------------------------------------
def _source(event: LineEvent) -> tuple[str, str | None]:
    """("user" | "group" | "room", the sender's user id if LINE gave one)."""
    return event.source.type, event.source.user_id


def _mentions_bot(content: Content, bot_user_id: str | None) -> bool:
    return any(m.is_self or (bot_user_id and m.user_id == bot_user_id) for m in content.mentionees)


def _without_mentions(text: str, content: Content) -> str:
    """The text with every @mention cut out (LINE counts index/length in UTF-16 units)."""
    units = text.encode("utf-16-le")
    for m in sorted(content.mentionees, key=lambda m: m.index, reverse=True):
        units = units[: m.index * 2] + units[(m.index + m.length) * 2:]
    return units.decode("utf-16-le", errors="ignore").strip()


def _menu(ctx: Context, *, lead: str | None = None, category: str | None = None, page: int = 0,
          origin: str = "") -> list[Message]:
    """The category menu (or one category's services) as quick replies, paged by 12."""
    answer = ctx.runtime.live.assistant.menu(ctx.council, category=category)
    is_top = any(o.id.startswith("category:") for o in answer.choices)
    more = Postback("menu") if is_top else Postback("cat", id=category or "")
    return choices_messages(answer, lead=lead, page=page, more=more, origin=origin)


def _short_name(ctx: Context) -> str:
    return ctx.runtime.live.assistant.council(ctx.council).short_name


# -- handlers -----------------------------------------------------------------
async def on_text(ctx: Context, event: LineEvent) -> Reply | None:
    where, user = _source(event)
    content = event.message
    assert content is not None
    text = safe_text(content.text or "")
    if where != "user":
        if not _mentions_bot(content, ctx.bot_user_id):
            return None  # a group talking among itself
        text = _without_mentions(text, content)
    if not text.strip():
        return Reply(_menu(ctx, lead=M.empty.format(council=_short_name(ctx))))
    if where == "user" and user:
        return await dialogue.converse(ctx, event, text, user)
    answer = await ctx.runtime.ask(ctx.council, text, channel="line")
    origin = event.webhook_event_id or ""
    entry = entry_for(answer, channel="line", text=text, user=user, event_id=origin)
    return Reply(await ctx.runtime.in_thread(render, answer, origin=origin), entry=entry,
                 alert=alert_for(answer, text=text, channel="line"))


async def on_kind(ctx: Context, event: LineEvent) -> Reply | None:
    """Stickers, images, audio, video, files, locations: say only text is understood."""
    if _source(event)[0] != "user" or event.message is None:
        return None
    kind = KIND_NAMES.get(event.message.type, "メッセージ")
    return Reply(_menu(ctx, lead=T.kind.format(kind=kind)))


async def on_message(ctx: Context, event: LineEvent) -> Reply | None:
    kind = event.message.type if event.message is not None else ""
    if kind == "text":
        return await on_text(ctx, event)
    if kind in KIND_NAMES:
        return await on_kind(ctx, event)
    return None


async def on_follow(ctx: Context, event: LineEvent) -> Reply | None:
    council = ctx.runtime.live.assistant.council(ctx.council)
    return Reply(_menu(ctx, lead=T.greeting.format(council=council.name)))


async def on_postback(ctx: Context, event: LineEvent) -> Reply | None:
    pb = decode(event.postback_data or "")
    assistant = ctx.runtime.live.assistant
    where, user = _source(event)
    user = user if where == "user" else None
    if pb is None or pb.action == "menu":
        return Reply(_menu(ctx, page=pb.page if pb else 0))
    if pb.action == "cat":
        return Reply(_menu(ctx, category=pb.id, page=pb.page, origin=pb.origin))
    if pb.action == "svc":
        answer = assistant.pick(ctx.council, pb.id)
        if user:
            conversations, key = ctx.runtime.conversations, dialogue.state_key(ctx, user)
            await conversations.put(key, dialogue.state_after(answer, await conversations.get(key)))
        origin = pb.origin or event.webhook_event_id or ""
        entry = entry_for(answer, channel="line", user=user, event_id=event.webhook_event_id)
        return Reply(await ctx.runtime.in_thread(render, answer, origin=origin), entry=entry)
    if pb.action == "ho":
        if pb.value:
            return await dialogue.answer_consent(ctx, user, pb.value)
        return await dialogue.consent_reply(ctx, user)
    if pb.action == "call":
        return Reply([window_message(assistant.council(ctx.council).window, quick=[menu_item()])])
    if pb.action == "sos":
        return dialogue.sos_reply(ctx)
    value = "yes" if pb.value == "yes" else "no"
    ctx.runtime.metrics.inc("madoguchi_feedback_total", channel="line", answer=value)
    if value == "yes":
        messages = [text_message(T.thanks_yes, quick=[menu_item()])]
    else:  # not helped: the window, and a person if the resident wants one
        window = assistant.council(ctx.council).window
        messages = [text_message(T.thanks_no), window_message(window, quick=[dialogue.person_item(), menu_item()])]
    return Reply(messages, feedback=(pb.origin, value) if pb.origin else None)


Handler = Callable[[Context, LineEvent], Awaitable[Reply | None]]
HANDLERS: dict[str, Handler] = {
    "message": on_message,
    "follow": on_follow,
    "postback": on_postback,
    # unfollow, join, leave, memberJoined, beacon, … need no answer
}


def needs_answer(event: dict) -> bool:
    """Worth keeping in the outbox: a kind we answer, in active mode, with a reply token."""
    kind = event.get("type")
    return (isinstance(kind, str) and kind in HANDLERS and event.get("mode", "active") != "standby"
            and bool(event.get("replyToken")))


async def handle(ctx: Context, event: LineEvent) -> Reply | None:
    handler = HANDLERS.get(event.type)
    if handler is None or event.mode == "standby":
        return None
    return await handler(ctx, event)


# -- answering and recording ---------------------------------------------------
async def handle_showing_progress(ctx: Context, client: LineClient, event: LineEvent) -> Reply | None:
    """Handle the event; if no answer is ready within `loading_after` seconds, show LINE's loading animation.

    Only one-to-one chats can show it; a failure to show it never costs the answer. A timer, not
    a task and `asyncio.wait` per event: nearly every answer is ready long before it fires. The
    animation's request, once started, is awaited before the answer is returned (and sent), so
    that the answer ends it.
    """
    where, user = _source(event)
    if where != "user" or not user or event.type != "message":
        return await handle(ctx, event)
    loop = asyncio.get_running_loop()
    shown: list[asyncio.Task] = []
    timer = loop.call_later(ctx.runtime.config.loading_after,
                            lambda: shown.append(loop.create_task(_show_loading(ctx, client, user))))
    try:
        return await handle(ctx, event)
    finally:
        timer.cancel()
        if shown:
            await shown[0]


async def _show_loading(ctx: Context, client: LineClient, user: str) -> None:
    try:
        await client.loading(user, seconds=20)
        ctx.runtime.metrics.inc("madoguchi_line_loading_total")
    except SendFailed as e:
        log.info("line %s: loading animation not shown: %s", ctx.council, e)


async def _now(fn, *args, **kwargs):
    return fn(*args, **kwargs)


async def record(ctx: Context, reply: Reply) -> None:
    """After delivery: alert staff to an emergency, and keep the question (and feedback) in the
    query log; a failing log never costs an answer."""
    if reply.alert is not None:
        raise_alert(ctx.runtime, reply.alert)
    querylog = ctx.runtime.querylog
    if querylog is None or (reply.entry is None and reply.feedback is None):
        return
    call = _now if isinstance(querylog, QueuedStore) else ctx.runtime.in_thread  # queued stores return at once
    try:
        if reply.entry is not None:
            await call(querylog.record, reply.entry)
        if reply.feedback is not None:
            event_id, value = reply.feedback
            await call(querylog.feedback, council=ctx.council, event_id=event_id, value=value)
    except Exception:
        log.exception("line %s: query log write failed", ctx.council)

"""A one-to-one LINE conversation: follow-ups, numbers, and handing over to a person.

Per user it keeps a short state (`adapters.stores.conversation`): the last
service, the last choices and where a handoff request stands — ids only,
never message text, for about ten minutes. While a handoff is open, the
resident's messages go to the staff thread instead of the bot.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

from adapters.alerts import alert_for
from adapters.line.calls import hotlines_message, window_message
from adapters.line.client import encode_messages
from adapters.line.context import Context, Reply
from adapters.line.flex import choices_messages, menu_item, quick_item, render, text_message
from adapters.line.hours import parse_hours, when_read
from adapters.line.inbound import LineEvent
from adapters.line.limits import Message, QuickItem
from adapters.line.postback import Postback, encode
from adapters.line.texts import T
from adapters.stores.conversation import ChatState
from bot.answer import Answer, Option, label
from bot.decision.followup import conversation_words
from bot.querylog import LogEntry, entry_for, hash_user
from bot.querylog.mask import mask_text

__all__ = ["converse", "state_key", "state_after", "person_item", "consent_reply", "answer_consent", "sos_reply"]

log = logging.getLogger("madoguchi.line")
_PROCESS_SALT = secrets.token_hex(16)  # without MADOGUCHI_HASH_SALT, state keys differ per process


def state_key(ctx: Context, user: str) -> str:
    return f"{ctx.council}:{hash_user(user, salt=ctx.runtime.config.hash_salt or _PROCESS_SALT)}"


def state_after(answer: Answer, state: ChatState) -> ChatState:
    """What to remember of an answer: its service and its choices."""
    service = answer.service.id if answer.service is not None else ""
    if answer.reason == "followup":
        return replace(state, step="")
    return ChatState(service=service, choices=tuple(o.id for o in answer.choices))


def _number(text: str) -> int | None:
    """「2」, 「２」, 「2番」 → 2; anything else None."""
    t = unicodedata.normalize("NFKC", text).strip().removesuffix("番").strip()
    return int(t) if t.isdigit() and len(t) <= 3 else None


def _action(text: str, pb: Postback) -> dict:
    return {"type": "postback", "label": label(text), "data": encode(pb), "displayText": text}


def person_item() -> QuickItem:
    return quick_item(_action(T.to_person, Postback("ho")))


def _can_hand_over(ctx: Context) -> bool:
    desk = ctx.runtime.desk
    return ctx.runtime.open_handoffs() is not None and desk is not None and desk.available(ctx.council)


# -- handing over ---------------------------------------------------------------
async def consent_reply(ctx: Context, user: str | None) -> Reply:
    """Ask before anything is shared; or, when no staff channel is set up, name the window."""
    council = ctx.runtime.live.assistant.council(ctx.council)
    if user is None or not _can_hand_over(ctx):
        return Reply([text_message(T.no_person), window_message(council.window, quick=[menu_item()])])
    handoffs = ctx.runtime.open_handoffs()
    if handoffs is not None and await handoffs.by_user(ctx.council, user) is not None:
        return Reply([text_message(T.already_handed_over)])  # one thread per resident
    key = state_key(ctx, user)
    state = await ctx.runtime.conversations.get(key)
    await ctx.runtime.conversations.put(key, replace(state, step="consent"))
    yes, no = _action(T.consent_yes, Postback("ho", value="yes")), _action(T.consent_no, Postback("ho", value="no"))
    return Reply([text_message(T.consent.format(council=council.short_name), quick=[quick_item(yes), quick_item(no)])])


async def answer_consent(ctx: Context, user: str | None, value: str) -> Reply:
    if user is None:
        return await consent_reply(ctx, None)
    key = state_key(ctx, user)
    state = await ctx.runtime.conversations.get(key)
    if value != "yes":
        await ctx.runtime.conversations.put(key, replace(state, step=""))
        return Reply([text_message(T.declined, quick=[menu_item()])])
    if not _can_hand_over(ctx):
        return await consent_reply(ctx, None)
    await ctx.runtime.conversations.put(key, replace(state, step="question"))
    return Reply([text_message(T.ask_question)])


def _last_exchange(ctx: Context, state: ChatState) -> str:
    """The bot's side of the last exchange, from ids: no message text was kept."""
    services = ctx.runtime.live.assistant.knowledge.services
    titles = [services[i].title for i in (state.service, *state.choices) if i in services]
    return "、".join(titles[:5])


async def _hand_over(ctx: Context, user: str, text: str, state: ChatState) -> Reply:
    rt = ctx.runtime
    handoffs, desk = rt.open_handoffs(), rt.desk
    when = when_read(parse_hours(rt.config.handoff_hours), datetime.now(UTC))
    try:
        assert handoffs is not None and desk is not None
        channel, thread = await desk.open(council=ctx.council, question=mask_text(text),
                                          last=_last_exchange(ctx, state), after_hours=when)
        await handoffs.open(council=ctx.council, user=user, channel=channel, thread=thread)
    except Exception:
        log.exception("line %s: handoff could not be opened", ctx.council)
        window = rt.live.assistant.council(ctx.council).window
        return Reply([text_message(T.handover_failed), window_message(window, quick=[menu_item()])])
    finally:
        await rt.conversations.put(state_key(ctx, user), replace(state, step=""))
    rt.metrics.inc("madoguchi_handoffs_total", event="opened")
    lines = [T.handed_over] + ([T.after_hours.format(when=when)] if when else [])
    return Reply([text_message("\n".join(lines))])


# -- the conversation -------------------------------------------------------------
def _options(ctx: Context, ids: tuple[str, ...]) -> tuple[Option, ...]:
    k = ctx.runtime.live.assistant.knowledge
    out = []
    for i in ids:
        if i.startswith("category:") and i.removeprefix("category:") in k.categories:
            c = k.categories[i.removeprefix("category:")]
            out.append(Option(i, c.label, label(c.label)))
        elif i in k.services:
            out.append(Option(i, k.services[i].title, label(k.services[i].title)))
    return tuple(out)


async def converse(ctx: Context, event: LineEvent, text: str, user: str) -> Reply | None:
    """One text from a resident in a one-to-one chat."""
    rt = ctx.runtime
    assistant = rt.live.assistant
    handoffs = rt.open_handoffs()
    if handoffs is not None and rt.desk is not None:
        open_ = await handoffs.by_user(ctx.council, user)
        if open_ is not None:  # staff are reading: the message goes to them, the bot stays quiet
            try:
                await rt.desk.forward(open_, mask_text(text))
            except Exception:  # Slack unreachable: the resident must not be left without a word
                log.exception("line %s: message not forwarded to the staff thread", ctx.council)
                window = assistant.council(ctx.council).window
                return Reply([text_message(T.handover_failed), window_message(window, quick=[menu_item()])])
            rt.metrics.inc("madoguchi_handoffs_total", event="forwarded")
            return None
    key = state_key(ctx, user)
    state = await rt.conversations.get(key)
    if state.step == "question":
        return await _hand_over(ctx, user, text, state)
    origin = event.webhook_event_id or ""
    n = _number(text)
    if n is not None and state.choices:
        options = _options(ctx, state.choices)
        if not 1 <= n <= len(options):
            words = conversation_words(assistant.knowledge)
            shown = Answer("choices", ctx.council, "", text, words.out_of_range.format(number=n, count=len(options)),
                           assistant.council(ctx.council).window, "menu", choices=options)
            return Reply(choices_messages(shown, origin=origin))
        chosen = options[n - 1].id
        if chosen.startswith("category:"):
            answer = assistant.menu(ctx.council, category=chosen.removeprefix("category:"))
        else:
            answer = assistant.pick(ctx.council, chosen)
        messages, entry, encoded = await rt.in_thread(_reply_parts, answer, text=text, user=user, origin=origin)
    else:
        def turn() -> tuple[Answer, list[Message] | None, LogEntry | None, bytes | None]:
            """Follow-up or question, reply (built and encoded) and log entry in one trip to a matching thread."""
            found = assistant.follow_up(ctx.council, text, last_service=state.service or None)
            if found is not None and found.reason == "person":
                return found, None, None, None
            if found is None:
                found = rt.answer(assistant, ctx.council, text, channel="line")
            return found, *_reply_parts(found, text=text, user=user, origin=origin)

        answer, messages, entry, encoded = await rt.in_thread(turn)
        if messages is None:
            return await consent_reply(ctx, user)
    await rt.conversations.put(key, state_after(answer, state))
    return Reply(messages, entry=entry, alert=alert_for(answer, text=text, channel="line"), encoded=encoded)


def _reply_parts(answer: Answer, *, text: str, user: str,
                 origin: str) -> tuple[list[Message], LogEntry | None, bytes]:
    """The messages (and as sent), and what the query log keeps (a 「ありがとう」 is not a question)."""
    entry = None if answer.reason == "thanks" else entry_for(answer, channel="line", text=text, user=user,
                                                              event_id=origin)
    messages = render_turn(answer, origin=origin)
    return messages, entry, encode_messages(messages)


def render_turn(answer: Answer, *, origin: str) -> list[Message]:
    """A follow-up is one sentence and the window; everything else renders as usual."""
    if answer.reason == "followup" and answer.service is not None:
        first = render(answer, origin=origin)[0]
        quick = first["quickReply"]["items"] if "quickReply" in first else [menu_item()]
        return [text_message(answer.message), window_message(answer.service.window, quick=quick)]
    return render(answer, origin=origin)


def sos_reply(ctx: Context) -> Reply:
    """The rich menu's 緊急のとき: the lines the knowledge names, each a call button."""
    k = ctx.runtime.live.assistant.knowledge
    words = conversation_words(k)
    lines = [k.hotlines[h] for h in words.emergency_hotlines if h in k.hotlines]
    return Reply([hotlines_message(lines, lead=words.emergency_lead, quick=[menu_item()])])

"""One Slack message or button press → council → command or core answer → Block Kit.

Called after bolt has verified and acknowledged the request, so the work here
may take longer than Slack's 3 seconds.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackClientError

from adapters.slack import commands
from adapters.slack.blocks import answer_blocks, answer_text, escape, note_blocks
from adapters.slack.replies import Reply
from adapters.slack.state import SlackState
from bot.querylog import entry_for

__all__ = ["handle_text", "handle_pick"]

log = logging.getLogger("madoguchi.slack")
ERROR = "エラーが起きて答えられませんでした。少し待ってからもう一度試してください。"
AUDIENCE = "staff"  # Slack is for council staff: staff-only entries are answered here


def _slack_unavailable(exc: Exception) -> bool:
    """Slack itself refused or could not be reached (rate limit, 5xx, network) after the SDK's retries."""
    return isinstance(exc, (SlackClientError, aiohttp.ClientError, TimeoutError))


async def _failed(state: SlackState, reply: Reply, exc: Exception) -> None:
    """Count and log; tell the asker, unless it was Slack that failed (a notice would hit the same limit)."""
    state.runtime.metrics.inc("madoguchi_slack_errors_total")
    if _slack_unavailable(exc):
        log.warning("Slack reply failed: %s (%s); no error notice sent", type(exc).__name__,
                    getattr(getattr(exc, "response", None), "status_code", "-"))
        return
    log.exception("Slack reply failed")
    try:
        await reply.send(ERROR, note_blocks([ERROR]))
    except Exception:
        log.exception("Slack error reply failed too")


async def _notes(reply: Reply, lines: list[str], *, private: bool = False) -> None:
    text = "\n".join(lines)[:3000]
    await (reply.private if private else reply.send)(text, note_blocks(lines))


def _no_council(state: SlackState) -> list[str]:
    k = state.runtime.live.assistant.knowledge
    lines = ["どの社協についての質問か分かりませんでした。質問の前に社協の名前を付けてください（例：`清瀬 車いす`）。"]
    for c in sorted(k.councils.values(), key=lambda c: c.id):
        names = "・".join(escape(a) for a in (c.short_name, *c.aliases[:3]))
        lines.append(f"• `{c.id}`：{names}")
    return lines


async def handle_text(
    state: SlackState,
    reply: Reply,
    *,
    text: str,
    channel: str | None,
    user: str | None,
) -> None:
    """A question or a staff command typed in a mention, a DM or `/madoguchi`."""
    try:
        await _handle_text(state, reply, text=text, channel=channel, user=user)
    except Exception as exc:
        await _failed(state, reply, exc)


async def _handle_text(
    state: SlackState, reply: Reply, *, text: str, channel: str | None, user: str | None
) -> None:
    route = state.route(text, channel=channel)
    command = commands.parse_command(route.text)
    if command is not None:
        await _command(state, reply, command, council=route.council, user=user, channel=channel)
        return
    if route.council is None:
        await _notes(reply, _no_council(state))
        return
    rt = state.runtime
    if not route.text:
        answer = await rt.in_thread(rt.live.assistant.menu, route.council, audience=AUDIENCE)
    else:
        answer = await rt.ask(route.council, route.text, channel="slack", audience=AUDIENCE)
        if rt.querylog is not None:  # kept for review; `unanswered` leaves staff channels out
            entry = entry_for(answer, channel="slack", text=route.text, user=user)
            await rt.in_thread(rt.querylog.record, entry)
    await reply.send(answer_text(answer), answer_blocks(answer))


async def _command(
    state: SlackState, reply: Reply, command: commands.Command, *, council: str | None, user: str | None,
    channel: str | None,
) -> None:
    private = False
    if command.name == "status":
        lines = commands.status_lines(state)
    elif command.name == "reload":
        allowed, lines = await commands.reload_lines(state, user=user)
        private = not allowed  # a refusal is shown to the asker only
    elif command.name in ("unanswered", "feedback"):  # residents' words: admins, or the council's own channel
        everywhere = commands.parse_period(command.args)[2]
        if commands.may_see_reports(state, user=user, channel=channel, council=council, everywhere=everywhere):
            report = commands.unanswered_lines if command.name == "unanswered" else commands.feedback_lines
            lines = await report(state, council=council, args=command.args)
        else:
            lines, private = [commands.REPORTS_REFUSED], True
    else:
        lines = commands.help_lines()
    await _notes(reply, lines, private=private)


async def handle_pick(state: SlackState, reply: Reply, *, council: str, value: str) -> None:
    """A button: a service id → that service's answer; `category:<id>` → its services."""
    rt = state.runtime
    assistant = rt.live.assistant
    try:
        if council not in assistant.knowledge.councils:
            council = value.split("/", 1)[0]
        if council not in assistant.knowledge.councils:
            await _notes(reply, _no_council(state))
            return
        if value.startswith("category:"):
            answer = assistant.menu(council, category=value.removeprefix("category:"), audience=AUDIENCE)
        else:
            answer = assistant.pick(council, value, audience=AUDIENCE)
        rt.metrics.inc("madoguchi_answers_total", council=council, kind=answer.kind, channel="slack")
        await reply.send(answer_text(answer), answer_blocks(answer))
    except Exception as exc:
        await _failed(state, reply, exc)

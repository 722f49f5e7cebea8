"""Plain-text rendering of an answer: the terminal, LINE's altText, logs, JSON.

Adapters with richer formats (Flex, Block Kit) still use these helpers for
their text parts, so the wording is the same on every channel.
"""

from __future__ import annotations

from bot.answer import Answer, ServiceCard
from bot.messages import M
from bot.knowledge.contacts import safe_url
from bot.knowledge.model import Contact, Hotline

__all__ = ["to_text", "window_lines", "hotline_line", "card_lines"]


def window_lines(window: Contact, *, council_url: str | None = None) -> list[str]:
    """The contact window as short lines; only what is known is shown, and no line leads nowhere.

    Without a phone number the web page (the window's, else the council's) is
    the way in; without either, a plain pointer to the council's window.
    """
    url = safe_url(window.url)
    lines = [f"窓口：{window.name}"]
    if window.phone:
        lines.append(f"電話：{window.phone}")
    if window.hours:
        lines.append(f"受付：{window.hours}")
    if window.address:
        lines.append(f"場所：{window.address}")
    if url:
        lines.append(url)
    elif not window.phone:
        web = safe_url(council_url)
        lines.append(M.see_web.format(url=web) if web else M.no_phone)
    return lines


def hotline_line(h: Hotline) -> str:
    hours = f"（{h.hours}）" if h.hours else ""
    return f"☎ {h.name} {h.number}{hours}"


def card_lines(card: ServiceCard) -> list[str]:
    lines = [f"【{card.title}】"]
    if card.status != "active":
        lines.append(card.status_note or M.status[card.status])
    lines.append(card.summary)
    for name, value in (
        ("対象", card.who),
        ("申し込み", card.how_to_apply),
        ("費用", card.fee),
        ("日時", card.schedule),
    ):
        if value:
            lines.append(f"{name}：{value}")
    return lines


def to_text(answer: Answer, *, with_window: bool = True) -> str:
    """The answer as a resident reads it in a plain-text channel."""
    lines: list[str] = []
    if answer.kind == "emergency":
        lines += [hotline_line(h) for h in answer.hotlines]
        lines.append(answer.message)
        if with_window:
            lines += window_lines(answer.window)
        if answer.related:  # the council's own help for this kind (no food, no bed tonight)
            lines.append("社協では：" + "、".join(o.title for o in answer.related))
    elif answer.kind == "answer" and answer.service is not None:
        lines += card_lines(answer.service)
        if with_window:
            lines += window_lines(answer.service.window, council_url=answer.window.url)
        if answer.related:
            lines.append("関連：" + "、".join(o.title for o in answer.related))
    elif answer.kind == "choices":
        lines.append(answer.message)
        lines += [f"{i}. {o.title}" for i, o in enumerate(answer.choices, 1)]
    else:
        lines.append(answer.message)
        lines += [f"{i}. {o.title}" for i, o in enumerate(answer.choices, 1)]  # もしかして
        if with_window:
            lines += window_lines(answer.window)
    if answer.danger is not None and answer.danger.level == "concern":
        lines.append(answer.danger.note)
        lines += [hotline_line(h) for h in answer.hotlines]
    return "\n".join(lines)
